// Side by side with the real docker-compose (1.29.2): a project it brought up is adopted, planned honestly and its failed one-shot repaired through the gate.
import Docker from "dockerode";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDirs } from "../manifest/a-manifest.js";
import { eventually } from "../helpers/eventually.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";
import type { Plan } from "../../src/plan/plan.js";

const docker = new Docker();
const temp = tempDirs();
const project = testProject("adopt");
const TOKEN = "adopt-canary-Xu4p9";
const GATE = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];

/** A stateful store with a healthcheck and a named volume; a one-shot that fails its first run (a marker in its own filesystem). */
const composeYaml = (
  storeImage: string,
  edgeSleep = 100000,
  store = { ports: '["127.0.0.1::8080", "8081/udp"]', mem: "64m", grace: "5s" },
) => `services:
  store:
    image: ${storeImage}
    command: ["sh", "-c", "trap 'exit 0' TERM; touch /data/ready; while true; do sleep 1; done"]
    environment:
      STORE_TOKEN: \${STORE_TOKEN}
      MODE: plain
    volumes:
      - data:/data
      - type: tmpfs
        target: /scratch
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      timeout: 2s
      retries: 3
    restart: unless-stopped
    ports: ${store.ports}
    mem_limit: ${store.mem}
    stop_grace_period: ${store.grace}
  init:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "if [ -f /tmp/ran ]; then echo second run; exit 0; fi; touch /tmp/ran; echo first run fails; exit 1"]
    restart: "no"
    depends_on:
      store:
        condition: service_healthy
  edge:
    image: ${TEST_IMAGE}
    command: ["sleep", "${edgeSleep}"]
    stop_grace_period: 1s
volumes:
  data:
`;

const moduleYaml = (name: string, spec: string) =>
  `apiVersion: platformctl/v1\nkind: Module\nmetadata:\n  name: ${name}\n  description: ${name} from Compose.\nspec:\n${spec}  compose:\n    files: [../../compose/compose.yaml]\n    services: [${name}]\n`;

let root: string;
let composeFile: string;
let env: Record<string, string>;

const exec = promisify(execFile);
/** docker-compose v1 on this test's project, bounded. */
const compose = (...args: string[]) =>
  exec("docker-compose", ["-p", project, "-f", composeFile, ...args], {
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
const cli = (args: string[]) => runCli([...args, "--project", project, "--modules-dir", path.join(root, "modules")], env);
const inspect = (name: string) => docker.getContainer(name).inspect();
const planOf = async (): Promise<{ code: number; plan: Plan }> => {
  const r = await cli(["plan", "--json", "--detailed-exitcode"]);
  expect(r.stdout + r.stderr).not.toContain(TOKEN);
  return { code: r.code, plan: JSON.parse(r.stdout) as Plan };
};
const driftOf = (plan: Plan) => plan.modules.map((m) => [m.name, m.drift.map((d) => [d.kind, d.container, d.detail.fields ?? null])]);

beforeAll(async () => {
  assertFreshBuild();
  root = await temp.make("compose-adopt");
  composeFile = path.join(root, "compose", "compose.yaml");
  await mkdir(path.dirname(composeFile), { recursive: true });
  await writeFile(composeFile, composeYaml(TEST_IMAGE));
  const modules = {
    store: "  stateful: true\n  runtime:\n    expected_state: healthy\n    timeout_seconds: 60\n",
    init: "  stateful: true\n  backup_ref_modules: [store]\n  depends_on: [store]\n  runtime:\n    expected_state: exited-success\n    timeout_seconds: 60\n",
    edge: "  runtime:\n    expected_state: running\n",
  };
  for (const [name, spec] of Object.entries(modules)) {
    await mkdir(path.join(root, "modules", name), { recursive: true });
    await writeFile(path.join(root, "modules", name, "module.yaml"), moduleYaml(name, spec));
  }
  env = {
    STORE_TOKEN: TOKEN,
    STATE_DIR: path.join(root, "state"),
    PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"),
  };
  await mkdir(env.PLATFORMCTL_BACKUP_DIR as string);
  await compose("up", "-d", "store", "init");
  await eventually(async () => expect((await inspect(`${project}_init_1`)).State).toMatchObject({ Status: "exited", ExitCode: 1 }), {
    timeoutMs: 60_000,
  });
}, 180_000);

afterAll(() => temp.cleanup());

describe("a project brought up by docker-compose up -d", () => {
  let storeId: string;
  let initId: string;

  it("is adopted: the store is in sync and the failed one-shot shows only container.state.exited_success, re-running the same container", async () => {
    storeId = (await inspect(`${project}_store_1`)).Id;
    initId = (await inspect(`${project}_init_1`)).Id;
    const { code, plan } = await planOf();
    expect(code).toBe(2);
    expect(driftOf(plan).filter(([m]) => m !== "edge")).toEqual([
      ["store", []],
      ["init", [["container.state.exited_success", `${project}_init_1`, null]]],
    ]);
    expect(plan.modules.find((m) => m.name === "store")?.warnings).toEqual([]);
    expect(plan.modules.find((m) => m.name === "init")?.actions).toEqual([
      { type: "run-once", service: "init", container: `${project}_init_1`, cause: "container.state.exited_success" },
    ]);
  });

  it("refuses a plain apply of the one-shot (exit 3) and changes nothing", async () => {
    const r = await cli(["apply", "--module", "init"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(await inspect(`${project}_init_1`)).toMatchObject({ Id: initId, State: { Status: "exited", ExitCode: 1 } });
  });

  it("re-runs the one-shot to exit 0 with the F3 inputs after a backup of the store, leaving the store's container as it was", async () => {
    const backup = await cli(["backup", "store", "--json"]);
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
    const ref = (JSON.parse(backup.stdout) as { file: string }).file;
    const r = await cli(["apply", "--module", "init", ...GATE, "--backup-ref", ref]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    // The same container ran again (its marker from the first run made it exit 0): started, not recreated.
    expect(await inspect(`${project}_init_1`)).toMatchObject({ Id: initId, State: { Status: "exited", ExitCode: 0 } });
    await eventually(async () =>
      expect(await inspect(`${project}_store_1`)).toMatchObject({ Id: storeId, State: { Health: { Status: "healthy" } } }),
    );
    const ps = (await compose("ps", "-q")).stdout.split("\n").filter(Boolean).sort();
    expect(ps).toEqual([initId, storeId].sort());
    const after = await planOf();
    expect(driftOf(after.plan).filter(([m]) => m !== "edge")).toEqual([
      ["store", []],
      ["init", []],
    ]);
  });

  it("adopts a container with Docker Compose v2's name (<project>-<service>-1) made by hand with Compose's labels", async () => {
    const name = `${project}-edge-1`;
    const c = await docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ["sleep", "100000"],
      Labels: {
        "com.docker.compose.project": project,
        "com.docker.compose.service": "edge",
        "com.docker.compose.container-number": "1",
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.version": "2.20.2",
      },
      StopTimeout: 1,
      HostConfig: { NetworkMode: `${project}_default` },
    });
    await c.start();
    const { plan } = await planOf();
    expect(driftOf(plan).find(([m]) => m === "edge")).toEqual(["edge", []]);
    expect(plan.modules.find((m) => m.name === "edge")?.in_sync).toBe(true);
  });

  it("recreates a drifted adopted container under its Compose name with Compose's labels kept, so docker-compose ps still lists it", async () => {
    const name = `${project}-edge-1`;
    const before = await inspect(name);
    await writeFile(composeFile, composeYaml(TEST_IMAGE, 200000));
    const { plan } = await planOf();
    expect(driftOf(plan).find(([m]) => m === "edge")).toEqual(["edge", [["config.changed", name, ["command"]]]]);
    const r = await cli(["apply", "--module", "edge"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const after = await inspect(name);
    expect(after.Id).not.toBe(before.Id);
    expect(after.Config.Cmd).toEqual(["sleep", "200000"]);
    expect(after.Config.Labels).toMatchObject({
      "com.docker.compose.project": project,
      "com.docker.compose.service": "edge",
      "com.docker.compose.oneoff": "False",
      "dev.platformctl.project": project,
      "dev.platformctl.module": "edge",
    });
    expect(after.Config.Labels).not.toHaveProperty("com.docker.compose.config-hash");
    expect((await compose("ps", "-q")).stdout.split("\n")).toContain(after.Id);
    const again = await planOf();
    expect(again.plan.modules.find((m) => m.name === "edge")?.in_sync).toBe(true);
  });

  it("leaves docker-compose to recreate that container once (no config-hash), after which both tools find it up to date", async () => {
    const ids = async () => (await compose("ps", "-q", "edge")).stdout.split("\n").filter(Boolean);
    const [byPlatformctl] = await ids();
    await compose("up", "-d", "--no-deps", "edge");
    const [byCompose] = await ids();
    expect(byCompose).toBeDefined();
    expect(byCompose).not.toBe(byPlatformctl);
    const c = await inspect(byCompose as string);
    expect(c.Config.Cmd).toEqual(["sleep", "200000"]);
    expect(c.Config.Labels).toHaveProperty("com.docker.compose.config-hash");
    const { plan } = await planOf();
    expect(driftOf(plan).find(([m]) => m === "edge")).toEqual(["edge", []]);
    await compose("up", "-d", "--no-deps", "edge");
    expect(await ids()).toEqual([byCompose]);
  });

  it("shows ports, mem_limit and stop_grace_period changed in the Compose file as config.changed on the adopted store", async () => {
    await writeFile(
      composeFile,
      composeYaml(TEST_IMAGE, 200000, { ports: '["127.0.0.1::8080", "8082/udp"]', mem: "128m", grace: "1m30s" }),
    );
    const { plan } = await planOf();
    expect(driftOf(plan).find(([m]) => m === "store")).toEqual([
      "store",
      [["config.changed", `${project}_store_1`, ["mem_limit", "ports", "stop_grace_period"]]],
    ]);
    // Compose's container and its volume <project>_data are the module's: --bootstrap is not a first creation.
    const r = await cli(["apply", "--module", "store", "--bootstrap"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout + r.stderr).toContain("a container of the module exists; a volume of the module exists");
    expect((await inspect(`${project}_store_1`)).Id).toBe(storeId);
  });

  it("shows an image changed in the Compose file as image.changed on the adopted store", async () => {
    await writeFile(composeFile, composeYaml("platformctl-test/busybox:adopt-absent", 200000));
    const { plan } = await planOf();
    const store = plan.modules.find((m) => m.name === "store");
    expect(store?.drift.map((d) => [d.kind, d.observed, d.expected])).toEqual([
      ["image.changed", { image: TEST_IMAGE }, { image: "platformctl-test/busybox:adopt-absent" }],
    ]);
    expect((await inspect(`${project}_store_1`)).Id).toBe(storeId);
  });
});

describe("a Compose project other than --project", () => {
  it("refuses to create a container (apply.compose_project, exit 1) rather than give it volumes and networks Compose does not use", async () => {
    const other = testProject("adopt-other");
    const dir = path.join(root, "modules-other");
    await mkdir(path.join(dir, "edge"), { recursive: true });
    await writeFile(
      path.join(dir, "edge", "module.yaml"),
      moduleYaml("edge", "  runtime:\n    expected_state: running\n").replace(
        "services: [edge]",
        "services: [edge]\n    project: elsewhere",
      ),
    );
    const r = await runCli(["apply", "--module", "edge", "--project", other, "--modules-dir", dir], env);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toContain('edge/edge: spec.compose.project is "elsewhere" but the apply runs for project');
    expect(await docker.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${other}`] } })).toEqual([]);
  });
});
