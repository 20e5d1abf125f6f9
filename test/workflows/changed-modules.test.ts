// `platformctl changed`: the pure mapping from changed files to modules, and the command on a real git repository.
import { execFile } from "node:child_process";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeChangedModules, type CatalogEntry } from "../../src/workflows/changed-modules.js";
import { aWorkspace, type Workspace } from "./workspace.js";
import { runCli } from "../helpers/run-cli.js";

const exec = promisify(execFile);

const catalog: CatalogEntry[] = [
  { name: "migrate", dir: "modules/migrate", dependsOn: [] },
  { name: "minio", dir: "modules/minio", dependsOn: [] },
  { name: "minio-init", dir: "modules/minio-init", dependsOn: ["minio"] },
  { name: "web", dir: "modules/web", dependsOn: ["migrate"] },
  { name: "report", dir: "modules/report", dependsOn: ["web"] },
];

const changed = (files: string[], modulesDir = "modules") => computeChangedModules({ files, modulesDir, catalog });

describe("mapping changed files to modules", () => {
  it("maps a file inside a module's directory to that module", () => {
    expect(changed(["modules/minio/module.yaml"])).toEqual({
      modules: ["minio", "minio-init"],
      direct: ["minio"],
      dependents: ["minio-init"],
      unknownDirs: [],
    });
  });

  it("includes dependents transitively, in catalog order", () => {
    expect(changed(["modules/migrate/sql/0002.sql"]).modules).toEqual(["migrate", "web", "report"]);
  });

  it("does not call a changed module a dependent, even when it also depends on another changed one", () => {
    expect(changed(["modules/web/module.yaml", "modules/migrate/module.yaml"])).toMatchObject({
      direct: ["migrate", "web"],
      dependents: ["report"],
    });
  });

  it("ignores files outside the modules directory and files directly in it", () => {
    expect(changed(["src/cli/main.ts", "modules/README.md", "modulesX/minio/module.yaml", "docs/modules/minio/x.md"]).modules).toEqual([]);
  });

  it("reports a touched directory that holds no module at HEAD (a deleted module) without naming it as a module", () => {
    expect(changed(["modules/old/module.yaml", "modules/web/module.yaml"])).toMatchObject({
      modules: ["web", "report"],
      unknownDirs: ["old"],
    });
  });

  it("accepts a modules directory written with ./ or a trailing slash, and one at the repository root", () => {
    expect(changed(["modules/minio/module.yaml"], "./modules/").direct).toEqual(["minio"]);
    const atRoot = computeChangedModules({
      files: ["minio/module.yaml", "README.md"],
      modulesDir: "",
      catalog: [{ name: "minio", dir: "minio", dependsOn: [] }],
    });
    expect(atRoot.modules).toEqual(["minio"]);
  });

  it("terminates on a dependency cycle", () => {
    const cyclic = [
      { name: "a", dir: "m/a", dependsOn: ["b"] },
      { name: "b", dir: "m/b", dependsOn: ["a"] },
    ];
    expect(computeChangedModules({ files: ["m/a/x"], modulesDir: "m", catalog: cyclic }).modules).toEqual(["a", "b"]);
  });
});

describe("platformctl changed on a git repository", () => {
  let w: Workspace;
  let base = "";
  const git = (...args: string[]) =>
    exec("git", args, {
      cwd: w.root,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.org",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.org",
      },
    });

  beforeAll(async () => {
    w = await aWorkspace("changed");
    await git("init", "-q", "-b", "main");
    await git("add", "modules");
    await git("commit", "-q", "-m", "base");
    base = (await git("rev-parse", "HEAD")).stdout.trim();
    await git("checkout", "-q", "-b", "change");
    const file = path.join(w.modulesDir, "migrate/module.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("0001_init applied", "0002_more applied"));
    await mkdir(path.join(w.root, "docs"));
    await writeFile(path.join(w.root, "docs/notes.md"), "notes\n");
    await git("add", "-A");
    await git("commit", "-q", "-m", "change migrate");
  });

  afterAll(() => w.remove());

  it("prints the changed module and its dependents, one per line, and a summary on stderr", async () => {
    const r = await runCli(["changed", "--base", base], w.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("migrate\nweb\n");
    expect(r.stderr).toContain("changed: migrate; dependents: web");
  });

  it("prints a JSON list with --json, and accepts a branch name as the base", async () => {
    const r = await runCli(["changed", "--base", "main", "--json"], w.env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["migrate", "web"]);
  });

  it("compares with the merge base: commits on the base branch after the fork point are not the change's", async () => {
    await git("checkout", "-q", "main");
    const file = path.join(w.modulesDir, "minio/module.yaml");
    await writeFile(file, `${await readFile(file, "utf8")}# main moved on\n`);
    await git("commit", "-q", "-am", "main moves on");
    await git("checkout", "-q", "change");
    const r = await runCli(["changed", "--base", "main"], w.env);
    expect(r.stdout).toBe("migrate\nweb\n");
  });

  it("sees a module renamed away as a touched directory with no module, on stderr", async () => {
    await git("checkout", "-q", "-b", "rename");
    await rename(path.join(w.modulesDir, "web"), path.join(w.root, "web-parked"));
    await git("add", "-A");
    await git("commit", "-q", "-m", "park web");
    const r = await runCli(["changed", "--base", base], w.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("migrate\n");
    expect(r.stderr).toMatch(/note: modules\/web was touched but holds no module at HEAD/);
    await git("checkout", "-q", "change");
  });

  it("fails with a clear error and exit 1 for a base that does not exist", async () => {
    const r = await runCli(["changed", "--base", "origin/no-such-branch"], w.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown base "origin/no-such-branch": not a commit in');
    expect(r.stderr).toMatch(/hint: Fetch it first/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses a base that git would read as an option", async () => {
    const r = await runCli(["changed", "--base=--output=/tmp/x"], w.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid base");
  });

  it("says when the modules directory is not in a git repository", async () => {
    const other = await aWorkspace("changed-nogit");
    try {
      const r = await runCli(["changed", "--base", "main"], other.env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("is not inside a git repository");
    } finally {
      await other.remove();
    }
  });

  it("needs --base", async () => {
    const r = await runCli(["changed"], w.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--base");
  });
});
