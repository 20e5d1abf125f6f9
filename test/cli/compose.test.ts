// A module whose services come from Compose files, as a user meets it: validate (warnings, --strict), and plan against the engine.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDirs } from "../manifest/a-manifest.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";
import { unitName } from "../../src/plan/unit-name.js";
import type { Plan } from "../../src/plan/plan.js";

const temp = tempDirs();
const CANARY = "compose-canary-Jq7w2";

beforeAll(() => assertFreshBuild());
afterAll(() => temp.cleanup());

/** `<root>/compose/compose.yaml` and `<root>/modules/web/module.yaml` taking service `web` from it. */
async function aComposeCatalog(compose: string): Promise<{ modules: string; composeFile: string }> {
  const root = await temp.make("compose-cli");
  const composeFile = path.join(root, "compose", "compose.yaml");
  await mkdir(path.dirname(composeFile), { recursive: true });
  await writeFile(composeFile, compose);
  await mkdir(path.join(root, "modules", "web"), { recursive: true });
  await writeFile(
    path.join(root, "modules", "web", "module.yaml"),
    "apiVersion: platformctl/v1\nkind: Module\nmetadata:\n  name: web\n  description: A web server from Compose.\nspec:\n  runtime:\n    expected_state: running\n  compose:\n    files: [../../compose/compose.yaml]\n    services: [web]\n",
  );
  return { modules: path.join(root, "modules"), composeFile };
}

const WEB = `services:\n  web:\n    image: ${TEST_IMAGE}\n    command: sleep 100000\n    environment:\n      API_TOKEN: \${COMPOSE_TOKEN}\n    restart: unless-stopped\n`;

describe("validate with spec.compose", () => {
  it("accepts the Compose platform fixture in strict mode", async () => {
    const run = await runCli(["validate", "--strict", "test/fixtures/compose/platform/modules"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toBe("✓ 2 modules valid (strict): minio, minio-init\n");
  });

  it("warns about an unsupported Compose field and refuses it with --strict, naming the Compose file:line", async () => {
    const { modules, composeFile } = await aComposeCatalog(`${WEB}    privileged: true\n`);
    const lax = await runCli(["validate", modules]);
    expect(lax.code, lax.stdout).toBe(0);
    expect(lax.stdout).toBe(
      `! ${composeFile}:8:5 services.web.privileged: "privileged" is not supported by platformctl [compose.unsupported_field]\n` +
        "    hint: Remove the field from the Compose file, or declare the service in module.yaml if it needs it.\n" +
        "✓ 1 module valid: web\n",
    );
    const strict = await runCli(["validate", "--strict", modules]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(
      `✗ ${composeFile}:8:5 services.web.privileged: "privileged" is not supported by platformctl [compose.unsupported_field]\n`,
    );
    expect(strict.stdout).toContain("1 problem in 1 file (strict); nothing was changed.");
  });
});

describe("plan of a Compose-sourced module against the engine", () => {
  it("shows service.missing for the unit named as native modules name theirs, and keeps the secret a reference", async () => {
    const { modules } = await aComposeCatalog(WEB);
    const project = testProject("compose-plan");
    const run = await runCli(["plan", "--json", "--project", project, "--modules-dir", modules], { COMPOSE_TOKEN: CANARY });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(CANARY);
    const plan = JSON.parse(run.stdout) as Plan;
    const web = plan.modules.find((m) => m.name === "web");
    expect(web?.drift.map((d) => [d.kind, d.service])).toEqual([["service.missing", "web"]]);
    expect(web?.actions.map((a) => [a.type, a.container])).toEqual([
      ["create", null],
      ["start", unitName(project, "web", "web")],
    ]);
  });
});
