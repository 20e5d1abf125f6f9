// Every bad-input rule: the exact problems (code, position, field path) a broken catalog produces, with no stack
// traces and no secret value in any output, read from disk the way `platformctl validate` reads it.
import path from "node:path";
import { execFileSync } from "node:child_process";
import { mkdir, readFile, symlink } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModules } from "../../src/catalog/load-modules.js";
import type { Problem } from "../../src/manifest/problems.js";
import { stopGraceSeconds, type Service } from "../../src/manifest/module.js";
import { CANARY, STACK_FRAME, aManifest, tempDirs, writeCatalog, type Catalog } from "./a-manifest.js";
import { BAD_CASES, type BadCase, type ExpectedProblem } from "./bad-cases.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";

const temp = tempDirs();
afterAll(() => temp.cleanup());

/** Validates a catalog written to a fresh temp directory, exactly as the CLI would. */
async function validate(catalog: Catalog, strict = false) {
  const root = await writeCatalog(await temp.make("bad-input"), catalog);
  return { root, result: await loadModules(root, { strict }) };
}

const shape = (p: { code: string; line: number; column: number; path: string }, module: string) => ({
  module,
  code: p.code,
  line: p.line,
  column: p.column,
  path: p.path,
});
const byPosition = (a: ReturnType<typeof shape>, b: ReturnType<typeof shape>) =>
  a.module.localeCompare(b.module) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);

/** Nothing a user sees may hold a stack frame or the canary value. */
function expectCleanOutput(problems: readonly Problem[]): void {
  for (const p of problems) {
    expect(p.message, `message of ${p.code}`).not.toMatch(STACK_FRAME);
    expect(p.hint, `hint of ${p.code}`).not.toMatch(STACK_FRAME);
    expect(p.message).not.toMatch(/RangeError|Maximum call stack|TypeError/);
  }
  expect(JSON.stringify(problems)).not.toContain(CANARY);
}

async function expectCase(c: BadCase): Promise<void> {
  const first = Object.keys(c.catalog)[0] as string;
  const { result } = await validate(c.catalog, c.strict);

  const actual = result.problems.map((p) => shape(p, path.basename(path.dirname(p.file)))).sort(byPosition);
  const expected = c.problems.map((p: ExpectedProblem) => shape(p, p.module ?? first)).sort(byPosition);
  expect(actual).toEqual(expected);
  expect(result.valid).toBe(false);

  for (const want of c.problems) {
    const got = result.problems.find((p) => p.code === want.code && p.line === want.line && p.column === want.column) as Problem;
    for (const s of want.message ?? []) expect(got.message).toContain(s);
    for (const s of want.hint ?? []) expect(got.hint).toContain(s);
    expect(got.hint.length, `a hint for ${got.code}`).toBeGreaterThan(0);
  }
  expectCleanOutput(result.problems);
}

for (const { layer, cases } of BAD_CASES) {
  describe(`bad input caught by the ${layer} layer`, () => {
    for (const c of cases) it(c.rule, () => expectCase(c));
  });
}

describe("bad input read from committed fixture files", () => {
  it("refuses the committed alias-bomb fixture before expanding it", async () => {
    const root = path.join(REPO, "test/fixtures/manifests/alias-bomb");
    const text = await readFile(path.join(root, "bomb/module.yaml"), "utf8");
    const result = await loadModules(root);
    const bombLine = text.split("\n").findIndex((l) => l.startsWith("x-b:"));
    expect(result.problems.map((p) => [p.code, p.line, p.column, p.path])).toEqual([
      ["yaml.alias_limit", bombLine + 1, (text.split("\n")[bombLine] as string).lastIndexOf("*a") + 1, "x-b[8]"],
    ]);
    expectCleanOutput(result.problems);
  });
});

describe("what the rules accept", () => {
  it("accepts the base manifest the bad cases are built from, also in strict mode", async () => {
    const { result } = await validate({ demo: aManifest() }, true);
    expect(result.problems).toEqual([]);
    expect(result.modules.map((m) => m.name)).toEqual(["demo"]);
  });

  it("defaults the backup method to stop for a stateful module and archive otherwise, and reads an exec backup's commands", async () => {
    const exec = [
      "backup:",
      "  method: exec",
      "  verify: required",
      "  exec:",
      "    service: app",
      '    command: ["pg_dumpall", "-U", "app"]',
      '    restore_command: ["psql", "-d", "postgres"]',
    ];
    const { result } = await validate(
      {
        plain: aManifest({ name: "plain" }),
        held: aManifest({ name: "held", stateful: "true" }),
        dumped: aManifest({ name: "dumped", stateful: "true", specExtra: exec }),
      },
      true,
    );
    expect(result.problems).toEqual([]);
    expect(Object.fromEntries(result.modules.map((m) => [m.name, m.backup]))).toEqual({
      plain: { method: "archive", exec: undefined, verify: "optional" },
      held: { method: "stop", exec: undefined, verify: "optional" },
      dumped: {
        method: "exec",
        exec: { service: "app", command: ["pg_dumpall", "-U", "app"], restoreCommand: ["psql", "-d", "postgres"] },
        verify: "required",
      },
    });
  });

  it('reads stateful: no as the string "no" and never as false', async () => {
    const { result } = await validate({ demo: aManifest({ stateful: "no" }) });
    expect(result.modules).toEqual([]);
    expect(result.problems.map((p) => p.message)).toEqual(['must be a boolean (got a string "no")']);
  });

  it("accepts stop_signal names with their grace period and carries them into the module as written", async () => {
    const { result } = await validate(
      {
        a: aManifest({ name: "a", serviceExtra: ["stop_signal: SIGINT", "stop_grace_period: 1m30s"] }),
        b: aManifest({ name: "b", serviceExtra: ["stop_signal: SIGQUIT"] }),
        c: aManifest({ name: "c" }),
      },
      true,
    );
    expect(result.problems).toEqual([]);
    expect(
      result.modules.map((m) => [
        m.name,
        m.services[0]?.stopSignal,
        m.services[0]?.stopGracePeriodSeconds,
        stopGraceSeconds(m.services[0] as Service),
      ]),
    ).toEqual([
      ["a", "SIGINT", 90, 90],
      ["b", "SIGQUIT", undefined, 10],
      ["c", undefined, undefined, 10],
    ]);
  });

  it("accepts a digest-pinned image in strict mode, with or without a tag", async () => {
    const digest = `sha256:${"0123456789abcdef".repeat(4)}`;
    const { result } = await validate(
      { a: aManifest({ name: "a", image: `busybox@${digest}` }), b: aManifest({ name: "b", image: `busybox:1.36@${digest}` }) },
      true,
    );
    expect(result.problems).toEqual([]);
  });

  it("accepts ${VAR} and ${VAR:?message} references for secret-looking keys in strict mode", async () => {
    const env = ["DB_PASSWORD: ${DB_PASSWORD}", "API_TOKEN: ${API_TOKEN:?set API_TOKEN}", "SSH_KEY: '${SSH_KEY?}'"];
    const { result } = await validate({ demo: aManifest({ environment: env }) }, true);
    expect(result.problems).toEqual([]);
  });

  it("applies the strict rules only when asked to", async () => {
    const lax = aManifest({
      image: "busybox:latest",
      description: null,
      expectedState: "exited-success",
      restart: null,
      environment: [`DB_PASSWORD: ${CANARY}`],
    });
    expect((await validate({ demo: lax })).result.problems).toEqual([]);
    const strict = (await validate({ demo: lax }, true)).result.problems.map((p) => p.code).sort();
    expect(strict).toEqual([
      "strict.description_missing",
      "strict.image_unpinned",
      "strict.oneshot_restart_implicit",
      "strict.secret_literal",
    ]);
  });

  it("finds a cycle among eight modules that all depend on each other quickly and reports it once", async () => {
    const names = Array.from({ length: 8 }, (_, i) => `m${i}`);
    const catalog = Object.fromEntries(
      names.map((n) => [n, aManifest({ name: n, dependsOn: `[${names.filter((x) => x !== n).join(", ")}]` })]),
    );
    const { result } = await validate(catalog);
    expect(result.problems.map((p) => [p.code, p.message])).toEqual([["depends_on.cycle", "depends_on cycle: m0 -> m1 -> m0"]]);
  });

  it("reports a module directory that is a symbolic link instead of silently skipping it", async () => {
    const { root } = await validate({ demo: aManifest() });
    const elsewhere = await writeCatalog(await temp.make("elsewhere"), { other: aManifest({ name: "other" }) });
    await symlink(path.join(elsewhere, "other"), path.join(root, "other"));
    const result = await loadModules(root);
    expect(result.problems.map((p) => [p.code, path.basename(p.file)])).toEqual([["file.symlink", "other"]]);
  });

  it("refuses a module.yaml that is a symbolic link, a FIFO or a directory, naming the file, without hanging on the FIFO", async () => {
    const { root } = await validate({ demo: aManifest() });
    const elsewhere = await writeCatalog(await temp.make("elsewhere-file"), { other: aManifest({ name: "linked" }) });
    await mkdir(path.join(root, "linked"));
    await symlink(path.join(elsewhere, "other", "module.yaml"), path.join(root, "linked", "module.yaml"));
    await mkdir(path.join(root, "piped"));
    execFileSync("mkfifo", [path.join(root, "piped", "module.yaml")]);
    await mkdir(path.join(root, "nested", "module.yaml"), { recursive: true });
    const result = await loadModules(root);
    expect(result.problems.map((p) => [p.code, path.basename(path.dirname(p.file)), p.message]).sort()).toEqual([
      ["file.symlink", "linked", "module.yaml is a symbolic link"],
      ["file.unreadable", "nested", "not a regular file"],
      ["file.unreadable", "piped", "not a regular file"],
    ]);
    expect(result.modules.map((m) => m.name)).toEqual(["demo"]);
  });

  it("accepts bind sources relative to the module directory, ../ included, as Compose resolves them against the project directory", async () => {
    const text = aManifest({ serviceExtra: ['volumes: ["./data:/data", "../shared:/shared:ro", ".:/module", "${HOME}/x:/x"]'] });
    const { result } = await validate({ demo: text }, true);
    expect(result.problems).toEqual([]);
    expect(result.modules[0]?.services[0]?.volumes.map((v) => [v.type, v.source])).toEqual([
      ["bind", "./data"],
      ["bind", "../shared"],
      ["bind", "."],
      ["bind", "${HOME}/x"],
    ]);
  });

  it("accepts env files inside the catalog's tree, and an absolute one under a directory the operator allowed", async () => {
    const inside = aManifest({ serviceExtra: ["env_file: [app.env, ./env/app.env, ../shared/common.env]"] });
    expect((await validate({ demo: inside }, true)).result.problems).toEqual([]);
    const absolute = aManifest({ serviceExtra: ["env_file: /etc/platformctl/env/../env/app.env"] });
    const root = await writeCatalog(await temp.make("env-dirs"), { demo: absolute });
    expect((await loadModules(root, { strict: true, envFileDirs: ["/etc/platformctl/env"] })).problems).toEqual([]);
    expect((await loadModules(root, { strict: true, envFileDirs: ["/etc/platformctl/env-other"] })).problems.map((p) => p.code)).toEqual([
      "env_file.outside_catalog",
    ]);
    const escapes = aManifest({ serviceExtra: ["env_file: /etc/platformctl/env/../../passwd"] });
    const root2 = await writeCatalog(await temp.make("env-dirs-escape"), { demo: escapes });
    expect((await loadModules(root2, { envFileDirs: ["/etc/platformctl/env"] })).problems.map((p) => p.code)).toEqual([
      "env_file.outside_catalog",
    ]);
  });

  it("refuses an env_file outside the catalog through the CLI, and accepts it once PLATFORMCTL_ENV_FILE_DIRS names its directory", async () => {
    assertFreshBuild();
    const root = await writeCatalog(await temp.make("env-dirs-cli"), {
      demo: aManifest({ serviceExtra: ["env_file: /etc/platformctl/app.env"] }),
    });
    const refused = await runCli(["validate", "--strict", root]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("[env_file.outside_catalog]");
    const allowed = await runCli(["validate", "--strict", root], { PLATFORMCTL_ENV_FILE_DIRS: "/etc/platformctl" });
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    const relative = await runCli(["validate", root], { PLATFORMCTL_ENV_FILE_DIRS: "etc/platformctl" });
    expect(relative.code).toBe(1);
    expect(relative.stderr).toContain("PLATFORMCTL_ENV_FILE_DIRS");
    expect(relative.stderr).not.toMatch(STACK_FRAME);
  });

  it('refuses a smoke probe naming the service "constructor", which only exists on the object prototype', async () => {
    const text = aManifest({ smoke: ["- name: probe", '  exec: {service: constructor, command: ["true"]}'] });
    const { result } = await validate({ demo: text });
    expect(result.problems.map((p) => [p.code, p.path])).toEqual([["smoke.unknown_service", "spec.smoke[0].exec.service"]]);
  });
});

describe("secret literals in the CLI's output", () => {
  beforeAll(() => assertFreshBuild());

  const keys = ["DB_PASSWORD", "api_secret", "GithubToken", "SSH_KEY", "aws_credentials", "Client_Credential"];
  const secrets = (): Catalog =>
    Object.fromEntries([
      ...keys.map((k, i) => [`s${i}`, aManifest({ name: `s${i}`, environment: [`${k}: ${CANARY}`] })]),
      ["s-default", aManifest({ name: "s-default", environment: [`DB_PASSWORD: \${DB_PASSWORD:-${CANARY}}`] })],
      ["s-list", aManifest({ name: "s-list", environment: null, serviceExtra: [`environment: ["API_TOKEN=${CANARY}"]`] })],
    ]);

  it("refuses every secret literal in human output without printing the value", async () => {
    const root = await writeCatalog(await temp.make("secrets-human"), secrets());
    const run = await runCli(["validate", "--strict", root]);
    expect(run.code).toBe(1);
    expect(run.stdout.split("\n").filter((l) => l.includes("[strict.secret_literal]"))).toHaveLength(keys.length + 2);
    expect(run.stdout + run.stderr).not.toContain(CANARY);
    expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
  });

  it("refuses every secret literal in JSON output without printing the value", async () => {
    const root = await writeCatalog(await temp.make("secrets-json"), secrets());
    const run = await runCli(["validate", "--strict", "--json", root]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { errors: { code: string }[] };
    expect(report.errors.filter((e) => e.code === "strict.secret_literal")).toHaveLength(keys.length + 2);
    expect(run.stdout + run.stderr).not.toContain(CANARY);
  });

  it("never prints the canary for any bad input of the catalogue, in human or JSON output", async () => {
    const root = await temp.make("all-cases");
    const dirs: string[] = [];
    let i = 0;
    for (const { cases } of BAD_CASES) {
      for (const c of cases) {
        const dir = path.join(root, `case-${i++}`);
        await writeCatalog(dir, c.catalog);
        dirs.push(dir);
      }
    }
    const human = await runCli(["validate", "--strict", ...dirs], { FORCE_COLOR: "1" });
    const json = await runCli(["validate", "--strict", "--json", ...dirs]);
    expect(human.code).toBe(1);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { errors: unknown[] }).errors.length).toBeGreaterThanOrEqual(i);
    for (const out of [human.stdout, human.stderr, json.stdout, json.stderr]) {
      expect(out).not.toContain(CANARY);
      expect(out).not.toMatch(STACK_FRAME);
    }
  });

  it("echoes a wrong value of a field that is not secret, so the canary checks above would see a leak", async () => {
    const root = await writeCatalog(await temp.make("echo"), { demo: aManifest({ expectedState: CANARY }) });
    const run = await runCli(["validate", root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`(got a string "${CANARY}")`);
  });
});
