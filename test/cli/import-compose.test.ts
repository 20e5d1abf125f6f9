// `platformctl import compose` as an operator meets it: modules written from Compose files, judged by validate and plan, refused on bad input.
import { execFile } from "node:child_process";
import { cp, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDirs } from "../manifest/a-manifest.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { REPO } from "../helpers/repo.js";
import { testProject } from "../helpers/run-id.js";
import type { Plan } from "../../src/plan/plan.js";

const temp = tempDirs();
const FIXTURE = path.join(REPO, "test/fixtures/compose/platform");
/** The fixture env file's password: it feeds interpolation only and must never be printed or written. */
const FIXTURE_SECRET = "fixture-not-a-secret";

beforeAll(() => assertFreshBuild());
afterAll(() => temp.cleanup());

/** A copy of the multi-file fixture (compose.yaml + compose.prod.yaml, extends into common.yaml, an env file). */
async function aPlatform(): Promise<string> {
  const root = await temp.make("import");
  await cp(path.join(FIXTURE, "compose"), path.join(root, "compose"), { recursive: true });
  await mkdir(path.join(root, "modules"));
  await cp(path.join(FIXTURE, "modules/platform.env"), path.join(root, "modules/platform.env"));
  return root;
}

const FIXTURE_ARGS = [
  "import",
  "compose",
  "-f",
  "compose/compose.yaml",
  "-f",
  "compose/compose.prod.yaml",
  "--env-file",
  "modules/platform.env",
  "--project",
  "home-platform",
  "--out",
  "modules",
];

interface ImportJson {
  written: string[];
  project: string;
  strict_valid: boolean;
  modules: { name: string; expected_state: string; stateful: boolean; depends_on: string[]; backup_ref_modules: string[] | null }[];
  decisions: { number: number; code: string; module: string | null; message: string; file: string | null; line: number | null }[];
}

describe("import compose on a multi-file platform with extends and an env file", () => {
  it("writes one module per service that validate --strict accepts, and lists the one decision left", async () => {
    const root = await aPlatform();
    const run = await runCli([...FIXTURE_ARGS, "--json"], {}, root);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as ImportJson;
    expect(out.written).toEqual([path.join(root, "modules/minio/module.yaml"), path.join(root, "modules/minio-init/module.yaml")]);
    expect(out.modules.map((m) => [m.name, m.expected_state, m.stateful, m.depends_on, m.backup_ref_modules])).toEqual([
      ["minio", "healthy", true, [], null],
      ["minio-init", "running", false, ["minio"], null],
    ]);
    expect(out.strict_valid).toBe(true);
    expect(out.decisions.map((d) => [d.number, d.code, d.module, d.file, d.line])).toEqual([
      [1, "oneshot.unconfirmed", "minio-init", path.join(root, "compose/compose.yaml"), 44],
    ]);
    const minio = await readFile(path.join(root, "modules/minio/module.yaml"), "utf8");
    expect(minio).toContain("    files:\n      - ../../compose/compose.yaml\n      - ../../compose/compose.prod.yaml\n");
    expect(minio).toContain("    env_file: ../platform.env\n");
    expect(minio).toContain("  # Inferred: it mounts the named volume minio-data.");
    const validate = await runCli(["validate", "--strict", "modules"], {}, root);
    expect(validate.stdout).toBe("✓ 2 modules valid (strict): minio, minio-init\n");
    expect(validate.code).toBe(0);
    const texts = run.stdout + run.stderr + minio + (await readFile(path.join(root, "modules/minio-init/module.yaml"), "utf8"));
    expect(texts).not.toContain(FIXTURE_SECRET);
  });

  it("prints the stateful mark for the operator to confirm and the numbered decisions in its human output", async () => {
    const root = await aPlatform();
    const run = await runCli(FIXTURE_ARGS, {}, root);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "! minio is marked stateful: it mounts the named volume minio-data; confirm it in modules/minio/module.yaml\n",
    );
    expect(run.stdout).toContain(
      "Still to decide (validate --strict passes already):\n" +
        '  1. compose/compose.yaml:44:14 service minio-init has restart: "no" but nothing waits for it with condition service_completed_successfully',
    );
  });

  it("writes the same bytes when run twice with --force, and refuses to overwrite without it", async () => {
    const root = await aPlatform();
    expect((await runCli(FIXTURE_ARGS, {}, root)).code).toBe(0);
    const file = path.join(root, "modules/minio/module.yaml");
    const first = await readFile(file, "utf8");
    await writeFile(file, "# hand-edited\n");
    const refused = await runCli(FIXTURE_ARGS, {}, root);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("error: 2 module files exist already; nothing was written\n");
    expect(refused.stderr).toContain(file);
    expect(await readFile(file, "utf8")).toBe("# hand-edited\n");
    const forced = await runCli([...FIXTURE_ARGS, "--force"], {}, root);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(file, "utf8")).toBe(first);
    expect((await readdir(path.join(root, "modules"))).sort()).toEqual(["minio", "minio-init", "platform.env"]);
  });
});

describe("import compose with what validate --strict still refuses", () => {
  it("numbers each strict problem at its file:line and says validate --strict fails until they are settled", async () => {
    const root = await temp.make("import-strict");
    await writeFile(
      path.join(root, "compose.yaml"),
      "services:\n  web:\n    image: nginx\n    environment:\n      API_TOKEN: literal-value\n",
    );
    const run = await runCli(["import", "compose", "-f", "compose.yaml", "--out", "modules", "--json"], {}, root);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as ImportJson;
    expect(out.project).toBe(
      path
        .basename(root)
        .toLowerCase()
        .replace(/[^a-z0-9_-]/g, ""),
    );
    expect(out.strict_valid).toBe(false);
    expect(out.decisions.map((d) => [d.number, d.code, d.module, d.file, d.line, d.message.split(";")[0]])).toEqual([
      [1, "strict.problem", "web", path.join(root, "compose.yaml"), 3, "services.web.image: image has no tag [strict.image_unpinned]"],
      [
        2,
        "strict.problem",
        "web",
        path.join(root, "compose.yaml"),
        5,
        "services.web.environment: API_TOKEN looks secret and must be a ${VAR} reference, not a literal [strict.secret_literal]",
      ],
    ]);
    expect(run.stdout).not.toContain("literal-value");
    const human = await runCli(["import", "compose", "-f", "compose.yaml", "--out", "modules", "--force"], {}, root);
    expect(human.stdout).toContain("Still to decide (validate --strict fails until these are settled):\n  1. compose.yaml:3:12 ");
    const strict = await runCli(["validate", "--strict", "modules"], {}, root);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain("2 problems in 1 file (strict)");
  });

  it("names an env file outside --out by its absolute path and asks for PLATFORMCTL_ENV_FILE_DIRS, which then makes validate pass", async () => {
    const root = await aPlatform();
    const args = [...FIXTURE_ARGS.slice(0, -1), "elsewhere", "--json"];
    const run = await runCli(args, {}, root);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as ImportJson;
    const envFile = path.join(root, "modules/platform.env");
    expect(out.strict_valid).toBe(false);
    expect(out.decisions.map((d) => [d.code, d.module])).toEqual([
      ["oneshot.unconfirmed", "minio-init"],
      ["env_file.outside_catalog", null],
    ]);
    expect(out.decisions[1]?.message).toContain(`set PLATFORMCTL_ENV_FILE_DIRS=${path.join(root, "modules")}`);
    expect(await readFile(path.join(root, "elsewhere/minio/module.yaml"), "utf8")).toContain(`    env_file: ${envFile}\n`);
    expect((await runCli(["validate", "--strict", "elsewhere"], {}, root)).code).toBe(1);
    const allowed = await runCli(["validate", "--strict", "elsewhere"], { PLATFORMCTL_ENV_FILE_DIRS: path.join(root, "modules") }, root);
    expect(allowed.stdout).toBe("✓ 2 modules valid (strict): minio, minio-init\n");
  });
});

describe("import compose refuses bad input and writes nothing", () => {
  const refusedCases: [string, (root: string) => Promise<string[]>, RegExp][] = [
    [
      "a missing Compose file",
      async () => ["-f", "compose/compose.yaml", "-f", "compose/nope.yaml"],
      /compose\/nope\.yaml Compose file does not exist \[compose\.file\]/,
    ],
    [
      "an unknown service in --group",
      async () => ["-f", "compose/compose.yaml", "--group", "minio,ghost=store"],
      /--group store names service "ghost", which the Compose files do not define/,
    ],
    [
      "a service in two groups",
      async () => ["-f", "compose/compose.yaml", "--group", "minio=a", "--group", "minio,minio-init=b"],
      /service "minio" is in two groups \(a and b\)/,
    ],
    [
      "a Compose error, named at its file:line",
      async (root) => {
        await writeFile(path.join(root, "compose/broken.yaml"), "services:\n  web:\n    image: x:1\n    restart: on-failure:3\n");
        return ["-f", "compose/broken.yaml"];
      },
      /compose\/broken\.yaml:4:14 services\.web\.restart: restart "on-failure:3" is not supported/,
    ],
    [
      "a required variable left unset (no --env-file)",
      async () => ["-f", "compose/compose.yaml"],
      /compose\/compose\.yaml:7:12 services\.minio\.image: MINIO_TAG is required: set MINIO_TAG \[compose\.interpolation\]/,
    ],
  ];
  for (const [what, args, message] of refusedCases)
    it(`refuses ${what} with exit 1, a message naming it and no file written`, async () => {
      const root = await aPlatform();
      const envArgs = what.includes("unset") ? [] : ["--env-file", "modules/platform.env"];
      const run = await runCli(["import", "compose", ...(await args(root)), ...envArgs, "--out", "out"], {}, root);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain("nothing was written");
      expect(run.stderr).not.toMatch(/^\s{4}at /m);
      expect(run.stdout).toBe("");
      await expect(stat(path.join(root, "out"))).rejects.toThrow(/ENOENT/);
    });

  it("refuses a malformed --group before reading anything", async () => {
    const run = await runCli(["import", "compose", "-f", "nope.yaml", "--group", "minio", "--out", "out"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: --group "minio" is not of the form service1,service2=name\n');
  });
});

describe("the Compose quick start (examples/compose)", () => {
  it("is exactly what import compose generates from its compose.yaml, so the committed modules cannot drift from it", async () => {
    const root = await temp.make("import-example");
    await cp(path.join(REPO, "examples/compose/compose.yaml"), path.join(root, "examples/compose/compose.yaml"), { recursive: true });
    const args = ["import", "compose", "-f", "examples/compose/compose.yaml", "--project", "quickstart-compose"];
    const run = await runCli([...args, "--out", "examples/compose/modules", "--json"], {}, root);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as ImportJson;
    expect(out.decisions).toEqual([]);
    expect(out.modules.map((m) => [m.name, m.expected_state, m.stateful, m.depends_on, m.backup_ref_modules])).toEqual([
      ["minio", "healthy", true, [], null],
      ["minio-init", "exited-success", true, ["minio"], ["minio"]],
      ["web", "healthy", false, ["minio-init"], null],
    ]);
    for (const m of ["minio", "minio-init", "web"])
      expect(await readFile(path.join(root, "examples/compose/modules", m, "module.yaml"), "utf8"), m).toBe(
        await readFile(path.join(REPO, "examples/compose/modules", m, "module.yaml"), "utf8"),
      );
  });

  it("passes validate --strict and plans against the engine: every service missing, secrets kept as references", async () => {
    const validate = await runCli(["validate", "--strict", "examples/compose/modules"]);
    expect(validate).toMatchObject({ code: 0, stdout: "✓ 3 modules valid (strict): minio, minio-init, web\n" });
    const project = testProject("import-plan");
    const canary = "import-canary-7Hq2x";
    const plan = await runCli(["plan", "--json", "--project", project, "--modules-dir", "examples/compose/modules"], {
      MINIO_ROOT_USER: "quickstart",
      MINIO_ROOT_PASSWORD: canary,
    });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout + plan.stderr).not.toContain(canary);
    const parsed = JSON.parse(plan.stdout) as Plan;
    expect(parsed.modules.map((m) => [m.name, m.drift.map((d) => d.kind)])).toEqual([
      ["minio", ["service.missing"]],
      ["minio-init", ["service.missing"]],
      ["web", ["service.missing"]],
    ]);
  });
});

describe("the Compose quick start, run by docker-compose and then imported", () => {
  it("plans the imported modules in sync with what docker-compose brought up: nothing to create or recreate", async () => {
    const project = testProject("import-adopt");
    const root = await temp.make("import-adopt");
    await cp(path.join(REPO, "examples/compose/compose.yaml"), path.join(root, "compose.yaml"));
    const env = { MINIO_ROOT_USER: "quickstart", MINIO_ROOT_PASSWORD: "import-adopt-canary-Pz81" };
    const compose = (...args: string[]) =>
      promisify(execFile)("docker-compose", ["-p", project, "-f", path.join(root, "compose.yaml"), ...args], {
        env: { ...process.env, ...env },
        timeout: 120_000,
      });
    try {
      await compose("up", "-d");
      const imported = await runCli(["import", "compose", "-f", "compose.yaml", "--project", project, "--out", "modules"], env, root);
      expect(imported.code, imported.stderr).toBe(0);
      const plan = await runCli(["plan", "--json", "--detailed-exitcode", "--project", project, "--modules-dir", "modules"], env, root);
      expect(plan.stdout + plan.stderr).not.toContain(env.MINIO_ROOT_PASSWORD);
      const parsed = JSON.parse(plan.stdout) as Plan;
      expect(parsed.modules.map((m) => [m.name, m.drift.map((d) => d.kind)])).toEqual([
        ["minio", []],
        ["minio-init", []],
        ["web", []],
      ]);
      expect(plan.code).toBe(0);
    } finally {
      await compose("down", "-v");
    }
  });
});
