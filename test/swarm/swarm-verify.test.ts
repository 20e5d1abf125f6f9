// restore --verify and the volume helper's image on a real 3-node Swarm: verify refused plainly, nothing left, the image checked where the helper runs.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const run = promisify(execFile);
const SWARM = path.join(REPO, "scripts/swarm.sh");
const CONFIRM = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];
/** The store's image: the test image under a tag of this run, loaded on every node, so one node can lose it. */
const IMAGE = `platformctl-test/busybox:verify-${process.pid}`;

let manager: Docker;
let node2: Docker;
let nodes: Docker[] = [];
let node2Address = "";
let root = "";
let modulesDir = "";
let env: Record<string, string | undefined> = {};
let project = "";

const cli = (args: string[]) => runCli(["--project", project, "--modules-dir", modulesDir, ...args], env);

/** A stateful store pinned to node2, holding /data/marker ("one") from its first start; its smoke probe reads it. */
const STORE = [
  "apiVersion: platformctl/v1",
  "kind: Module",
  "metadata:",
  "  name: store",
  "spec:",
  "  stateful: true",
  "  runtime:",
  "    expected_state: running",
  "    timeout_seconds: 60",
  "  placement:",
  '    constraints: ["node.hostname==node2"]',
  "  services:",
  "    store:",
  `      image: ${IMAGE}`,
  '      command: ["sh", "-c", "[ -e /data/.init ] || { echo one > /data/marker; touch /data/.init; }; exec sleep 3600"]',
  "      stop_grace_period: 1s",
  '      volumes: ["store-data:/data"]',
  "  backup:",
  "    method: archive",
  "  smoke:",
  "    - name: holds-the-marker",
  '      exec: {service: store, command: ["grep", "-q", "one", "/data/marker"]}',
  "      timeout_seconds: 10",
  "",
].join("\n");

interface Task {
  ID: string;
  NodeID: string;
  Status: { State: string; ContainerStatus?: { ContainerID?: string } };
}

/** The store's running task (on node2). */
async function storeTask(): Promise<Task> {
  return eventually(async () => {
    const ts = ((await manager.listTasks({ filters: { service: [`${project}_store_store`] } })) as Task[]).filter(
      (t) => t.Status.State === "running",
    );
    expect(ts).toHaveLength(1);
    return ts[0] as Task;
  });
}

/** Everything a scratch project of this test's project left: services on the manager; containers, volumes, networks on every node. */
async function scratchLeftovers(): Promise<string[]> {
  const prefix = `${project}.verify-`;
  const mine = (labels: Record<string, string> | null | undefined) => (labels?.["dev.platformctl.project"] ?? "").startsWith(prefix);
  const services = ((await manager.listServices()) as { Spec: { Name: string; Labels?: Record<string, string> } }[])
    .filter((s) => mine(s.Spec.Labels))
    .map((s) => `service ${s.Spec.Name}`);
  const perNode = await Promise.all(
    nodes.map(async (d, i) => {
      const cs = (await d.listContainers({ all: true })).filter((c) => mine(c.Labels)).map((c) => `node${i + 1} container ${c.Names[0]}`);
      const vs = ((await d.listVolumes()).Volumes ?? [])
        .filter((v) => mine(v.Labels as Record<string, string> | null) || v.Name.startsWith(prefix))
        .map((v) => `node${i + 1} volume ${v.Name}`);
      const ns = (await d.listNetworks())
        .filter((n) => mine(n.Labels) || n.Name.startsWith(prefix))
        .map((n) => `node${i + 1} network ${n.Name}`);
      return [...cs, ...vs, ...ns];
    }),
  );
  return [...services, ...perNode.flat()];
}

beforeAll(async () => {
  assertFreshBuild();
  const { stdout } = await run("bash", [SWARM, "up"], { timeout: 600_000, maxBuffer: 1 << 20 });
  const dockerHost = stdout.trim().split("\n").at(-1) ?? "";
  expect(dockerHost).toMatch(/^tcp:\/\/[0-9.]+\.11:2375$/);
  const at = (n: number) => dockerHost.replace(/\.11:2375$/, `.${n}:2375`);
  const docker = (h: string) => {
    const u = new URL(h.replace("tcp://", "http://"));
    return new Docker({ host: u.hostname, port: Number(u.port), version: "v1.41" });
  };
  nodes = [11, 12, 13].map((n) => docker(at(n)));
  manager = nodes[0] as Docker;
  node2 = nodes[1] as Docker;
  node2Address = at(12);
  const [repo, tag] = IMAGE.split(":") as [string, string];
  for (const d of nodes) await d.getImage(TEST_IMAGE).tag({ repo, tag });
  root = await mkdtemp(path.join(tmpdir(), "pctl-swarm-verify-"));
  modulesDir = path.join(root, "modules");
  await mkdir(path.join(modulesDir, "store"), { recursive: true });
  await writeFile(path.join(modulesDir, "store", "module.yaml"), STORE);
  project = testProject("swarm-verify");
  env = {
    PLATFORMCTL_RUNTIME: "swarm",
    DOCKER_HOST: dockerHost,
    PLATFORMCTL_SWARM_NODE_HOSTS: `node1=${at(11)},node2=${at(12)},node3=${at(13)}`,
    STATE_DIR: path.join(root, "state"),
    PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"),
    NO_COLOR: "1",
  };
  await mkdir(env.PLATFORMCTL_BACKUP_DIR as string);
  const boot = await cli(["apply", "--module", "store", ...CONFIRM, "--bootstrap"]);
  expect(boot.code, boot.stdout + boot.stderr).toBe(0);
}, 660_000);

/** Tears the whole cluster down, also when a test failed: nodes, their images and volumes, the network. */
afterAll(async () => {
  await run("bash", [SWARM, "down"], { timeout: 120_000 });
  if (root) await rm(root, { recursive: true, force: true });
}, 180_000);

describe("restore --verify on a 3-node Swarm", () => {
  it("refuses it plainly before creating anything (Swarm refuses the scratch project's '.' in service names), records no verdict, and leaves nothing on any node", async () => {
    const b = await cli(["backup", "store"]);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    const backup = b.stdout.trim();
    const live = await storeTask();
    const r = await cli(["restore", "store", "--from", backup, "--verify", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain("restore --verify is not supported on the Swarm runtime yet");
    expect(r.stderr).toContain("which Swarm refuses in service names");
    expect(await scratchLeftovers()).toEqual([]);
    // The live store was not touched, and no verification (neither passed nor failed) is recorded for the backup.
    expect((await storeTask()).ID).toBe(live.ID);
    const list = JSON.parse((await cli(["backup", "list", "--module", "store", "--json"])).stdout) as {
      backups: { file: string; verification?: unknown }[];
    };
    expect(list.backups.find((x) => x.file === backup)?.verification ?? null).toBeNull();
  }, 240_000);
});

describe("the volume helper's image on a Swarm", () => {
  it("refuses a backup when the pinned node lacks the helper's image (the manager has it), naming the node and how to load it there, before any copy", async () => {
    const live = await storeTask();
    await node2.getImage(IMAGE).remove(); // an untag: the test image keeps the layers the running store uses
    expect((await manager.getImage(IMAGE).inspect()).Id).toMatch(/^sha256:/);
    const r = await cli(["backup", "store"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`image ${IMAGE} of store is not present on node node2`);
    expect(r.stderr).toContain(`docker save ${IMAGE} | docker -H ${node2Address} load`);
    expect(r.stdout).toBe("");
    // Nothing was created or stopped on the node: no helper, the same task runs.
    const helpers = await node2.listContainers({
      all: true,
      filters: { label: [`dev.platformctl.project=${project}`, "dev.platformctl.service=_volume"] },
    });
    expect(helpers).toEqual([]);
    expect((await storeTask()).ID).toBe(live.ID);
  }, 120_000);
});
