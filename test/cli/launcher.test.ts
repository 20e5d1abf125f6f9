// bin/platformctl, the launcher users run: it starts from the start-up snapshot built for this node in this directory,
// falls back to the plain entry anywhere else, and the snapshot takes its environment, directory and arguments from
// the run, never from the build. (Every other CLI test also runs through it: test/helpers/run-cli.ts.)
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, stat, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, manifest } from "../helpers/platform.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli, spawnCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const LAUNCHER = path.join(REPO, "bin/platformctl");
let version: string;
let catalog: Awaited<ReturnType<typeof aCatalog>>;
let copy: string;

/** Runs the launcher under `sh -x`, which traces the command it execs: the snapshot or the plain entry. */
function traced(launcher: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync("sh", ["-x", launcher, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  const exec = r.stderr.split("\n").filter((l) => l.startsWith("+ exec "));
  return { code: r.status, stdout: r.stdout, exec: exec.at(-1) ?? "", trace: r.stderr };
}

beforeAll(async () => {
  assertFreshBuild();
  version = (JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;
  catalog = await aCatalog();
  await catalog.write("web", manifest("web", { services: `    web:\n      image: ${TEST_IMAGE}\n` }));
  // The package copied elsewhere: its snapshot's identity names the repository, so the copy must not use it.
  copy = await mkdtemp(path.join(tmpdir(), "platformctl-moved-"));
  for (const part of ["bin", "dist", "package.json"]) await cp(path.join(REPO, part), path.join(copy, part), { recursive: true });
  await symlink(path.join(REPO, "node_modules"), path.join(copy, "node_modules"));
});

afterAll(async () => {
  await catalog?.remove();
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe("bin/platformctl", () => {
  it("starts from the start-up snapshot that `npm run build` made for this node", () => {
    const r = traced(LAUNCHER, ["--version"]);
    expect(r.code).toBe(0);
    expect(r.exec).toContain(`--snapshot-blob ${path.join(REPO, "dist/snapshot/platformctl.blob")} -- --version`);
    expect(r.stdout.trim()).toBe(version);
  });

  it("falls back to the plain entry, with the same result, when the package was moved after it was built", () => {
    const r = traced(path.join(copy, "bin/platformctl"), ["--version"]);
    expect(r.code).toBe(0);
    expect(r.exec).not.toContain("--snapshot-blob");
    expect(r.exec).toContain(path.join(copy, "bin/platformctl.js"));
    expect(r.stdout.trim()).toBe(version);
  });

  it("uses a snapshot only with the node binary that made it (another inode, size or mtime: the plain entry)", async () => {
    const identity = path.join(copy, "dist/snapshot/identity");
    const launcher = path.join(copy, "bin/platformctl");
    const n = statSync(process.execPath);
    const id = (ino: number, mtime: number) => `${copy}\n${n.dev}:${ino}:${n.size}:${mtime}\n`;
    const mtime = Math.floor(n.mtimeMs / 1000);
    await writeFile(identity, id(n.ino, mtime));
    expect(traced(launcher, ["--version"]).exec).toContain(`--snapshot-blob ${path.join(copy, "dist/snapshot/platformctl.blob")}`);
    for (const other of [id(n.ino + 1, mtime), id(n.ino, mtime - 1)]) {
      await writeFile(identity, other);
      const r = traced(launcher, ["--version"]);
      expect(r.exec).toContain(path.join(copy, "bin/platformctl.js"));
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it("finds its snapshot when reached through a symlink to the script, a symlinked directory or a relative path", async () => {
    const links = await mkdtemp(path.join(tmpdir(), "platformctl-links-"));
    try {
      await symlink(LAUNCHER, path.join(links, "platformctl"));
      await symlink(REPO, path.join(links, "pkg"));
      const blob = `--snapshot-blob ${path.join(REPO, "dist/snapshot/platformctl.blob")}`;
      for (const launcher of [path.join(links, "platformctl"), path.join(links, "pkg", "bin", "platformctl")]) {
        const r = traced(launcher, ["--version"]);
        expect(r.exec, launcher).toContain(blob);
        expect(r.stdout.trim()).toBe(version);
      }
      // Relative to the working directory (sh -x runs it as given).
      const rel = spawnSync("sh", ["-x", "bin/platformctl", "--version"], { cwd: REPO, encoding: "utf8" });
      expect(rel.stderr).toContain(blob);
      expect(rel.stdout.trim()).toBe(version);
      // An absolute path that is the real one needs no readlink (a fork fewer at every start).
      expect(traced(LAUNCHER, ["--version"]).trace).not.toContain("readlink");
    } finally {
      await rm(links, { recursive: true, force: true });
    }
  });

  it("falls back to the plain entry when PLATFORMCTL_NO_SNAPSHOT is set", () => {
    const r = traced(LAUNCHER, ["--version"], { PLATFORMCTL_NO_SNAPSHOT: "1" });
    expect(r.exec).toContain(path.join(REPO, "bin/platformctl.js"));
    expect(r.stdout.trim()).toBe(version);
  });

  it("keeps Node from reading NODE_EXTRA_CA_CERTS at start, and the command gets it back (test/health/smoke-extra-ca)", () => {
    const r = traced(LAUNCHER, ["--version"], { NODE_EXTRA_CA_CERTS: "/nonexistent/ca.pem" });
    expect(r.code).toBe(0);
    expect(r.trace).toContain("unset NODE_EXTRA_CA_CERTS");
    expect(r.trace).toContain("export PLATFORMCTL_DEFERRED_NODE_EXTRA_CA_CERTS");
    // Node itself would warn on stderr about a file it cannot read; deferred, it never tries.
    expect(r.trace).not.toContain("Ignoring extra certs");
    expect(r.stdout.trim()).toBe(version);
  });

  it("passes node's own flags through to platformctl as arguments (--version, --help, -e are not node's)", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: platformctl");
    const bad = await runCli(["-e", "process.exit(7)"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("unknown option '-e'");
  });

  it("reads the run's working directory, environment and colour settings, not the build's", async () => {
    const cwd = path.dirname(catalog.dir);
    const plain = await runCli(["validate", "--modules-dir", "modules"], { NO_COLOR: "1" }, cwd);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).not.toContain("\u001b[");
    const coloured = await runCli(["validate", "--modules-dir", "modules"], { FORCE_COLOR: "1" }, cwd);
    expect(coloured.code, coloured.stderr).toBe(0);
    expect(coloured.stdout).toContain("\u001b[");
    const elsewhere = await runCli(["validate", "--modules-dir", "modules"], {}, copy);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stdout).toContain("modules path does not exist");
  });

  it("logs under the pid of the running process, not the build's (plan on the engine, --verbose)", async () => {
    const run = spawnCli(["plan", "--project", testProject("launcher"), "--modules-dir", catalog.dir, "--verbose"], {
      STATE_DIR: path.join(copy, "state"),
    });
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    const logged = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { pid?: number });
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line.pid).toBe(run.pid);
  });
});

describe("scripts/build-snapshot.mjs", () => {
  /** A copy of the package with its sources and build scripts, where a snapshot can be built again. */
  async function aBuildableCopy() {
    const dir = await mkdtemp(path.join(tmpdir(), "platformctl-rebuild-"));
    for (const part of ["bin", "dist", "package.json", "scripts", "src"])
      await cp(path.join(REPO, part), path.join(dir, part), { recursive: true });
    await symlink(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    return dir;
  }
  const buildSnapshot = (dir: string, umask = "022") =>
    spawnSync("sh", ["-c", `umask ${umask} && exec "$0" "$1"`, process.execPath, path.join(dir, "scripts/build-snapshot.mjs")], {
      cwd: dir,
      encoding: "utf8",
    });

  it("ignores the compiled files of modules that no longer exist (a checkout updated in place; tsc never deletes)", async () => {
    const dir = await aBuildableCopy();
    try {
      // What an older version left in dist/: it imports a name that is gone, so bundling it would fail.
      await writeFile(
        path.join(dir, "dist/cli/removed-command.js"),
        'import { noSuchExport } from "../gate/decide.js";\nnoSuchExport();\n',
      );
      const r = buildSnapshot(dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toContain("no start-up snapshot");
      expect(await readFile(path.join(dir, "dist/snapshot/identity"), "utf8")).toMatch(new RegExp(`^${dir}\n`));
      const run = traced(path.join(dir, "bin/platformctl"), ["--version"]);
      expect(run.exec).toContain(`--snapshot-blob ${path.join(dir, "dist/snapshot/platformctl.blob")}`);
      expect(run.stdout.trim()).toBe(version);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("builds its snapshot under a umask that leaves new directories group-writable (the warm-up's cache is still used)", async () => {
    const dir = await aBuildableCopy();
    try {
      const r = buildSnapshot(dir, "002");
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toContain("no start-up snapshot");
      expect(traced(path.join(dir, "bin/platformctl"), ["--version"]).exec).toContain("--snapshot-blob");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("warns and exits 0 when the snapshot cannot be built, and the launcher then runs the plain entry", async () => {
    const dir = await aBuildableCopy();
    try {
      // A compiled module missing (a build interrupted after tsc): bundling fails.
      await unlink(path.join(dir, "dist/plan/compute-plan.js"));
      const r = buildSnapshot(dir);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain("platformctl build: no start-up snapshot (commands start slower): bundling failed");
      await expect(stat(path.join(dir, "dist/snapshot"))).rejects.toThrow(/ENOENT/);
      const run = traced(path.join(dir, "bin/platformctl"), ["--version"]);
      expect(run.exec).toContain(path.join(dir, "bin/platformctl.js"));
      expect(run.stdout.trim()).toBe(version);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
