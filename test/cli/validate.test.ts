// `platformctl validate` as a user runs it: exit codes, the one-line problem format, the JSON report, PATH forms,
// clear errors without stack traces, and NO_COLOR.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STACK_FRAME, aManifest, tempDirs, writeCatalog } from "../manifest/a-manifest.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, type CliResult, runCli } from "../helpers/run-cli.js";

const BROKEN = "test/fixtures/manifests/broken-catalog";
const ESC = "\u001b";
const temp = tempDirs();

beforeAll(() => assertFreshBuild());
afterAll(() => temp.cleanup());

/** Nothing a user sees may be a stack trace or an internal-error banner. */
function expectNoStack(run: CliResult): void {
  expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME);
  expect(run.stdout + run.stderr).not.toMatch(/internal error|Error: |RangeError|TypeError/);
}

describe("valid catalogs", () => {
  it("exits 0 for the repository's modules in strict mode and names every module", async () => {
    const run = await runCli(["validate", "--strict", "modules"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toBe("✓ 5 modules valid (strict): postgres, app-migrate, minio, minio-init, web\n");
  });

  it("exits 0 for the quick-start modules, also in strict mode, on both runtimes, without a warning (its Swarm pinning is no news to one engine)", async () => {
    for (const runtime of [undefined, "swarm"])
      for (const args of [
        ["validate", "examples/quickstart/modules"],
        ["validate", "--strict", "examples/quickstart/modules"],
      ]) {
        const run = await runCli(args, { PLATFORMCTL_RUNTIME: runtime });
        expect(run.code, run.stdout).toBe(0);
        expect(run.stdout).toMatch(/^✓ 4 modules valid( \(strict\))?: migrate, minio, minio-init, web\n$/);
      }
  });

  it("validates the modules directory named by PLATFORMCTL_MODULES_DIR when no PATH is given", async () => {
    const run = await runCli(["validate"], { PLATFORMCTL_MODULES_DIR: "examples/quickstart/modules" });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("4 modules valid");
  });
});

describe("runtime-specific fields", () => {
  it("warns that the Docker runtime ignores replicas (not placement: one engine is one node), exits 0, and says nothing with --runtime swarm", async () => {
    const root = await writeCatalog(await temp.make("cli-swarm-fields"), {
      demo: aManifest({ specExtra: ["placement:", '  constraints: ["node.hostname==db1"]'], serviceExtra: ["replicas: 2"] }),
    });
    const docker = await runCli(["validate", root], { PLATFORMCTL_RUNTIME: undefined });
    expect(docker.code, docker.stdout).toBe(0);
    expect(docker.stdout).toContain("spec.services.app.replicas: 2 replicas are ignored on the Docker runtime");
    expect(docker.stdout).not.toContain("spec.placement");
    const json = await runCli(["validate", "--json", root], { PLATFORMCTL_RUNTIME: undefined });
    expect((JSON.parse(json.stdout) as { warnings: { path: string; code: string }[] }).warnings.map((w) => [w.path, w.code])).toEqual([
      ["spec.services.app.replicas", "runtime.ignored_field"],
    ]);
    const swarm = await runCli(["--runtime", "swarm", "validate", root], { PLATFORMCTL_RUNTIME: undefined });
    expect(swarm.code, swarm.stdout).toBe(0);
    expect(swarm.stdout).not.toContain("ignored");
  });
});

describe("PATH forms", () => {
  it("accepts a modules directory, a module directory and a module.yaml", async () => {
    for (const target of ["modules", "modules/postgres", "modules/postgres/module.yaml"]) {
      const run = await runCli(["validate", "--strict", target]);
      expect(run.code, `${target}: ${run.stdout}`).toBe(0);
    }
  });

  it("lets a single module directory depend on its sibling modules", async () => {
    const run = await runCli(["validate", "--strict", "modules/web"]);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toBe("✓ 1 module valid (strict): web\n");
  });

  it("lets a module.yaml given on its own depend on its sibling modules", async () => {
    const run = await runCli(["validate", "modules/web/module.yaml"]);
    expect(run.code, run.stdout).toBe(0);
  });

  it("finds the siblings of `.` when run inside a module directory", async () => {
    const run = await runCli(["validate", "."], {}, path.join(REPO, "modules/web"));
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toBe("✓ 1 module valid: web\n");
  });

  it("still refuses a dependency that is not among the siblings", async () => {
    const root = await writeCatalog(await temp.make("cli-siblings"), {
      a: aManifest({ name: "a", dependsOn: "[b, ghost]" }),
      b: aManifest({ name: "b" }),
    });
    const run = await runCli(["validate", path.join(root, "a")]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('spec.depends_on[1]: module "ghost" is not in the catalog [depends_on.unknown]');
    expect(run.stdout).not.toContain("depends_on[0]");
  });

  it("refuses two catalogs that declare the same module names", async () => {
    const run = await runCli(["validate", "--json", "modules", "examples/quickstart/modules"]);
    expect(run.code).toBe(1);
    const codes = (JSON.parse(run.stdout) as { errors: { code: string }[] }).errors.map((e) => e.code);
    expect(codes).toEqual(["module.duplicate_name", "module.duplicate_name", "module.duplicate_name"]);
  });

  it("refuses a path that does not exist with a clear one-line error", async () => {
    const run = await runCli(["validate", "no/such/dir"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("no/such/dir path does not exist [file.not_found]");
    expect(run.stdout).toContain("hint: Pass a modules directory, a module directory or a module.yaml.");
    expectNoStack(run);
  });

  it("refuses a directory that holds no module", async () => {
    const run = await runCli(["validate", "schema"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("schema no */module.yaml found in this directory [file.not_found]");
    expectNoStack(run);
  });
});

describe("invalid catalogs", () => {
  it("exits 1 and prints every problem as `file:line:column path: message [code]` with a hint", async () => {
    const run = await runCli(["validate", BROKEN]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("");
    const problems = run.stdout.split("\n").filter((l) => l.startsWith("✗ "));
    expect(problems).toEqual([
      `✗ ${BROKEN}/api/module.yaml:7:13 spec.stateful: must be a boolean (got a string "yes") [schema.type]`,
      `✗ ${BROKEN}/api/module.yaml:10:5 spec.runtime.timout_seconds: unknown field "timout_seconds" [schema.unknown_field]`,
      `✗ ${BROKEN}/api/module.yaml:13:14 spec.services.api.image: is not a valid image reference [image.invalid_reference]`,
      `✗ ${BROKEN}/worker/module.yaml:7:21 spec.depends_on[1]: module "queue" is not in the catalog [depends_on.unknown]`,
      `✗ ${BROKEN}/worker/module.yaml:13:16 spec.services.worker.restart: a one-shot (exited-success) must have restart "no" (got "always") [oneshot.restart_policy]`,
    ]);
    expect(run.stdout.split("\n").filter((l) => l.startsWith("    hint: "))).toHaveLength(5);
    expect(run.stdout).toContain('    hint: Did you mean "timeout_seconds"?');
    expect(run.stdout).toMatch(/5 problems in 2 files; nothing was changed\.\n$/);
    expectNoStack(run);
  });

  it("prints a JSON report of exactly {valid, modules, errors: [{file, line, column, path, code, message, hint}], warnings}", async () => {
    const run = await runCli(["validate", "--json", BROKEN]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(["valid", "modules", "errors", "warnings"]);
    expect(report.valid).toBe(false);
    expect(report.modules).toEqual(["worker"]);
    const errors = report.errors as Record<string, unknown>[];
    expect(errors).toHaveLength(5);
    for (const e of errors) {
      expect(Object.keys(e)).toEqual(["file", "line", "column", "path", "code", "message", "hint"]);
      expect([typeof e.file, typeof e.line, typeof e.column, typeof e.path, typeof e.code, typeof e.message, typeof e.hint]).toEqual([
        "string",
        "number",
        "number",
        "string",
        "string",
        "string",
        "string",
      ]);
    }
    expect(errors[0]).toEqual({
      file: `${BROKEN}/api/module.yaml`,
      line: 7,
      column: 13,
      path: "spec.stateful",
      code: "schema.type",
      message: 'must be a boolean (got a string "yes")',
      hint: "Booleans are written true or false, unquoted (YAML 1.2: yes/no/on/off are strings).",
    });
  });

  it("prints a JSON report for a valid catalog with an empty error list", async () => {
    const run = await runCli(["validate", "--json", "--strict", "modules"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      valid: true,
      modules: ["postgres", "app-migrate", "minio", "minio-init", "web"],
      errors: [],
      warnings: [],
    });
  });

  it("exits 1 when only strict rules fail, and 0 for the same catalog without --strict", async () => {
    const root = await writeCatalog(await temp.make("cli-strict"), { demo: aManifest({ image: "busybox:latest" }) });
    expect((await runCli(["validate", root])).code).toBe(0);
    const strict = await runCli(["validate", "--strict", root]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('spec.services.app.image: image is tagged "latest" [strict.image_unpinned]');
    expect(strict.stdout).toContain("1 problem in 1 file (strict); nothing was changed.");
  });

  it("reports a named volume mounted read-write by two modules as two writers in strict mode only, at the second writer's mount", async () => {
    const root = await writeCatalog(await temp.make("cli-volume-writers"), {
      minio: aManifest({ name: "minio", stateful: "true", serviceExtra: ['volumes: ["minio-data:/data"]'] }),
      wiper: aManifest({ name: "wiper", serviceExtra: ['volumes: ["minio-data:/data"]'] }),
      reader: aManifest({ name: "reader", serviceExtra: ['volumes: ["minio-data:/data:ro"]'] }),
    });
    expect((await runCli(["validate", root])).code).toBe(0);
    const strict = await runCli(["validate", "--strict", root]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(
      'spec.services.app.volumes[0]: volume "minio-data" is mounted read-write by module "minio" and by module "wiper": two modules write one tree [strict.volume_two_writers]',
    );
    expect(strict.stdout).toMatch(/wiper\/module\.yaml:\d+:\d+ /);
    expect(strict.stdout).not.toContain("reader/module.yaml");
    expect(strict.stdout).toContain("1 problem in 1 file (strict)");
  });

  it("reports binary garbage, a directory named module.yaml and an unknown option without a stack trace", async () => {
    const root = await temp.make("cli-garbage");
    await writeCatalog(root, { demo: new Uint8Array(4096).map((_, i) => (i * 7919) % 256) });
    await mkdir(path.join(root, "odd", "module.yaml"), { recursive: true });
    const garbage = await runCli(["validate", root]);
    expect(garbage.code).toBe(1);
    expect(garbage.stdout).toMatch(/demo\/module\.yaml .*\[file\.(not_utf8|bad_character)\]/);
    expect(garbage.stdout).toMatch(/odd\/module\.yaml not a regular file \[file\.unreadable\]/);
    expectNoStack(garbage);
    const unknown = await runCli(["validate", "--no-such-flag", "modules"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown option '--no-such-flag'");
    expectNoStack(unknown);
  });
});

describe("colour", () => {
  it("colours problems when FORCE_COLOR asks for it (so the NO_COLOR check below can fail)", async () => {
    const run = await runCli(["validate", BROKEN], { FORCE_COLOR: "1" });
    expect(run.stdout).toContain(ESC);
  });

  it("honours NO_COLOR: no escape character in problems, hints or the summary", async () => {
    for (const target of [BROKEN, "modules"]) {
      const run = await runCli(["validate", target], { FORCE_COLOR: "1", NO_COLOR: "1" });
      expect(run.stdout + run.stderr).not.toContain(ESC);
    }
  });

  it("prints no colour when stdout is not a terminal", async () => {
    const run = await runCli(["validate", BROKEN]);
    expect(run.stdout).not.toContain(ESC);
  });
});
