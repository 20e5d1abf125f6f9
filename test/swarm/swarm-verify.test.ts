// restore --verify and the volume helper's image on a real 3-node Swarm: verify restores on the pinned node and leaves nothing, the image checked where the helper runs.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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

/**
 * A stateful store pinned to node2; its smoke probe passes only where /data/marker says "backed-up", which only the
 * test writes (into the live volume, before the backup): a scratch copy passes only if the archive was restored into it.
 */
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
  '      command: ["sleep", "3600"]',
  "      stop_grace_period: 1s",
  '      volumes: ["store-data:/data"]',
  "  backup:",
  "    method: archive",
  "  smoke:",
  "    - name: holds-the-marker",
  '      exec: {service: store, command: ["grep", "-qx", "backed-up", "/data/marker"]}',
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

/** Runs `sh -c script` in the live store's container on node2. */
async function shInStore(script: string): Promise<void> {
  const id = (await storeTask()).Status.ContainerStatus?.ContainerID ?? "";
  const exec = await node2.getContainer(id).exec({ Cmd: ["sh", "-c", script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  await new Promise((resolve) => {
    stream.on("end", resolve);
    stream.resume();
  });
  expect((await exec.inspect()).ExitCode).toBe(0);
}

/** Everything a scratch project of this test's project left: services on the manager; containers, volumes, networks on every node. */
async function scratchLeftovers(): Promise<string[]> {
  const isScratch = (name: string) => /^0verify-[0-9]+x[0-9a-f]{6}-/.test(name) && name.replace(/^0verify-[^-]+-/, "").startsWith(project);
  const mine = (labels: Record<string, string> | null | undefined) => isScratch(labels?.["dev.platformctl.project"] ?? "");
  const prefix = "0verify-";
  const services = ((await manager.listServices()) as { Spec: { Name: string; Labels?: Record<string, string> } }[])
    .filter((s) => mine(s.Spec.Labels))
    .map((s) => `service ${s.Spec.Name}`);
  const perNode = await Promise.all(
    nodes.map(async (d, i) => {
      const cs = (await d.listContainers({ all: true })).filter((c) => mine(c.Labels)).map((c) => `node${i + 1} container ${c.Names[0]}`);
      const vs = ((await d.listVolumes()).Volumes ?? [])
        .filter(
          (v) => mine(v.Labels as Record<string, string> | null) || (v.Name.startsWith(prefix) && isScratch(v.Name.split("_")[0] ?? "")),
        )
        .map((v) => `node${i + 1} volume ${v.Name}`);
      const ns = (await d.listNetworks())
        .filter((n) => mine(n.Labels) || (n.Name.startsWith(prefix) && isScratch(n.Name.split("_")[0] ?? "")))
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

/** The live store's volume on node2, as the engine describes it (its creation time says it was never replaced). */
async function liveVolume(): Promise<string> {
  const v = (await node2.getVolume(`${project}_store-data`).inspect()) as unknown as { CreatedAt: string };
  return v.CreatedAt;
}

/** The verification `backup list` records for `file` (null when none). */
async function verificationOf(file: string): Promise<{ outcome: string } | null> {
  const list = JSON.parse((await cli(["backup", "list", "--module", "store", "--json"])).stdout) as {
    backups: { file: string; verification?: { outcome: string } | null }[];
  };
  return list.backups.find((x) => x.file === file)?.verification ?? null;
}

describe("restore --verify on a 3-node Swarm", () => {
  let backup = "";

  it("restores a backup taken on node2 into a scratch project on node2, passes its smoke probe there, records the verdict, and leaves nothing on any node", async () => {
    await shInStore("echo backed-up > /data/marker");
    const b = await cli(["backup", "store"]);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    backup = b.stdout.trim();
    // The live store says something else from now on: the scratch copy can pass only with what the archive holds.
    await shInStore("echo live > /data/marker");
    const live = await storeTask();
    const volume = await liveVolume();
    const r = await cli(["restore", "store", "--from", backup, "--verify", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { outcome: string; scratch_project: string; left_behind: string[]; probes: unknown[] };
    expect(result).toMatchObject({ outcome: "passed", left_behind: [] });
    expect(result.scratch_project).toMatch(new RegExp(`^0verify-[0-9]+x[0-9a-f]{6}-${project}$`));
    expect(result.probes).toEqual([expect.objectContaining({ name: "holds-the-marker", status: "passed" })]);
    expect(await verificationOf(backup)).toMatchObject({ outcome: "passed" });
    expect(await scratchLeftovers()).toEqual([]);
    // The live store was not touched: the same task, the same volume, still saying "live".
    expect((await storeTask()).ID).toBe(live.ID);
    expect(await liveVolume()).toBe(volume);
    await shInStore("grep -qx live /data/marker");
  }, 240_000);

  it("fails the verification of a backup whose archive no longer holds the data, exits 1, records it as failed, and leaves nothing on any node", async () => {
    // A backup taken while the marker says "live": restored, it is healthy but its smoke probe fails.
    const b = await cli(["backup", "store"]);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    const bad = b.stdout.trim();
    const live = await storeTask();
    const r = await cli(["restore", "store", "--from", bad, "--verify", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const result = JSON.parse(r.stdout) as { outcome: string; problem: string; left_behind: string[] };
    expect(result).toMatchObject({ outcome: "failed", left_behind: [] });
    expect(result.problem).toContain("holds-the-marker");
    expect(await verificationOf(bad)).toMatchObject({ outcome: "failed" });
    expect(await scratchLeftovers()).toEqual([]);
    expect((await storeTask()).ID).toBe(live.ID);
  }, 240_000);

  it("refuses to verify an archive corrupted after the backup (its checksum no longer matches the catalog), exits 3, records nothing and creates nothing on any node", async () => {
    const b = await cli(["backup", "store"]);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    const file = b.stdout.trim();
    const bytes = await readFile(file);
    bytes.fill(0x41, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 64);
    await writeFile(file, bytes);
    const r = await cli(["restore", "store", "--from", file, "--verify"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout + r.stderr).toContain("backup.checksum_mismatch");
    expect(await verificationOf(file)).toBeNull();
    expect(await scratchLeftovers()).toEqual([]);
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
