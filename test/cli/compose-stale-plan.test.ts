// A saved plan over an adopted Compose container goes stale (exit 5) when a ${VAR} value it was compared on changes.
import Docker from "dockerode";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDirs } from "../manifest/a-manifest.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";
import type { Plan } from "../../src/plan/plan.js";

const docker = new Docker();
const temp = tempDirs();
const project = testProject("adopt-stale");
let root: string;
let stateDir: string;

const cli = (args: string[], nap: string) =>
  runCli([...args, "--project", project, "--modules-dir", path.join(root, "modules")], { NAP: nap, STATE_DIR: stateDir });

beforeAll(async () => {
  assertFreshBuild();
  root = await temp.make("compose-stale");
  stateDir = path.join(root, "state");
  await mkdir(stateDir);
  await mkdir(path.join(root, "compose"));
  await mkdir(path.join(root, "modules", "edge"), { recursive: true });
  // The command holds a ${VAR}: kept as a reference in the plan, compared by value with the inspected container.
  await writeFile(
    path.join(root, "compose", "compose.yaml"),
    `services:\n  edge:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "\${NAP}"]\n`,
  );
  await writeFile(
    path.join(root, "modules", "edge", "module.yaml"),
    "apiVersion: platformctl/v1\nkind: Module\nmetadata:\n  name: edge\n  description: edge from Compose.\nspec:\n  runtime:\n    expected_state: running\n  compose:\n    files: [../../compose/compose.yaml]\n    services: [edge]\n",
  );
  // What `docker compose up -d edge` leaves: its default network and a container with its labels, running.
  await docker.createNetwork({
    Name: `${project}_default`,
    Labels: { "com.docker.compose.project": project, "com.docker.compose.network": "default" },
  });
  const c = await docker.createContainer({
    name: `${project}_edge_1`,
    Image: TEST_IMAGE,
    Cmd: ["sleep", "100000"],
    Labels: {
      "com.docker.compose.project": project,
      "com.docker.compose.service": "edge",
      "com.docker.compose.container-number": "1",
      "com.docker.compose.oneoff": "False",
    },
    HostConfig: { NetworkMode: `${project}_default` },
  });
  await c.start();
}, 120_000);

afterAll(async () => {
  const left = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } });
  for (const c of left) await docker.getContainer(c.Id).remove({ force: true });
  await docker
    .getNetwork(`${project}_default`)
    .remove()
    .catch(() => undefined); // safe: cleanup of this test's own network; global teardown removes it too
  await temp.cleanup();
});

describe("apply --plan over an adopted Compose container", () => {
  it("refuses a saved plan (exit 5) once a ${VAR} value the container was compared on changed, and changes nothing", async () => {
    const planFile = path.join(root, "plan.json");
    const planned = await cli(["plan", "--json", "--out", planFile], "100000");
    expect(planned.code, planned.stderr).toBe(0);
    expect((JSON.parse(planned.stdout) as Plan).modules[0]?.in_sync).toBe(true);
    const before = await docker.getContainer(`${project}_edge_1`).inspect();
    // The same value: the saved plan still holds.
    const same = await cli(["apply", "--module", "edge", "--plan", planFile], "100000");
    expect(same.code, same.stdout + same.stderr).toBe(0);
    // Another value: the live plan would recreate the container, which the reviewed plan did not show.
    const changed = await cli(["apply", "--module", "edge", "--plan", planFile], "200000");
    expect(changed.code, changed.stdout + changed.stderr).toBe(5);
    const after = await docker.getContainer(`${project}_edge_1`).inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.Config.Cmd).toEqual(["sleep", "100000"]);
  }, 120_000);
});
