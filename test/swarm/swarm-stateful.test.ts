// Stateful modules on a real 3-node Swarm: the seed scenario (failed stateful job → blocked → backup → gated re-run) and backup/restore on the pinned node.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildService } from "../../src/engine/swarm/service-spec.js";
import { loadModules } from "../../src/catalog/load-modules.js";
import { eventually } from "../helpers/eventually.js";
import { failMinioInit } from "../helpers/seed-scenario.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli, spawnCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const run = promisify(execFile);
const SLOT = process.env.PLATFORMCTL_SWARM_SLOT ?? "0";
/** The harness's container of node2 (scripts/swarm.sh names them per slot). */
const NODE2_CONTAINER = `platformctl-swarm${SLOT === "0" ? "" : SLOT}-node2`;
const SWARM = path.join(REPO, "scripts/swarm.sh");
const PASSWORD = "swarm-seed-canary-Qx81Zr";
const TOKEN = "BACKUP_DONE_F3";

let manager: Docker;
let node2: Docker;
let root = "";
let env: Record<string, string | undefined> = {};
let modulesDir = "";
let project = "";

const cli = (args: string[], extra: Record<string, string | undefined> = {}) =>
  runCli(["--project", project, "--modules-dir", modulesDir, ...args], { ...env, ...extra });

/** node2 carries the label the quick-start catalog pins minio and minio-init by (node.labels.platformctl.store==minio). */
async function labelNode2(): Promise<void> {
  const node = manager.getNode("node2");
  const n = (await node.inspect()) as { Version: { Index: number }; Spec: { Labels?: Record<string, string> } };
  await node.update({ version: n.Version.Index, ...n.Spec, Labels: { ...(n.Spec.Labels ?? {}), "platformctl.store": "minio" } });
}

interface Task {
  NodeID: string;
  DesiredState: string;
  Status: { State: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  Spec: { ContainerSpec: { Labels?: Record<string, string>; Env?: string[] } };
}
const tasksOf = async (service: string) => (await manager.listTasks({ filters: { service: [service] } })) as Task[];
const nodeIdOf = async (hostname: string) =>
  ((await manager.listNodes()) as { ID: string; Description: { Hostname: string } }[]).find((n) => n.Description.Hostname === hostname)?.ID;

/** The running minio task's container on node2. */
async function minioContainer(): Promise<Docker.Container> {
  const t = await eventually(async () => {
    const running = (await tasksOf(`${project}_minio_minio`)).filter((x) => x.Status.State === "running");
    expect(running).toHaveLength(1);
    return running[0] as Task;
  });
  expect(t.NodeID).toBe(await nodeIdOf("node2"));
  return node2.getContainer(t.Status.ContainerStatus?.ContainerID as string);
}

async function execIn(c: Docker.Container, cmd: string[]): Promise<string> {
  const e = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (b: Buffer) => chunks.push(b));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  // Demultiplex the 8-byte frame headers.
  const all = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let i = 0; i + 8 <= all.length; ) {
    const n = all.readUInt32BE(i + 4);
    out.push(all.subarray(i + 8, i + 8 + n));
    i += 8 + n;
  }
  return Buffer.concat(out).toString("utf8");
}

/** Containers platformctl's volume helpers left on node2 for this project. */
const helpersOnNode2 = async () =>
  node2.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${project}`, "dev.platformctl.service=_volume"] } });

/** Audit records reduced to what must be the same on every runtime (no ids, times, hosts, container ids, durations, project, paths). */
function comparable(records: Record<string, unknown>[], projectName: string, ref: string) {
  const neutral = JSON.parse(JSON.stringify(records).replaceAll(ref, "<backup-ref>").replaceAll(projectName, "<project>")) as Record<
    string,
    unknown
  >[];
  return neutral.map((r) => {
    const { id: _id, time: _time, actor: _actor, plan_fingerprint: _fp, intent_id: _iid, ...rest } = r;
    if (Array.isArray(rest.modules) && typeof rest.modules[0] === "object")
      rest.modules = (rest.modules as { module: string; outcome: string; actions: Record<string, unknown>[] }[]).map((m) => ({
        ...m,
        actions: m.actions.map(({ duration_ms: _d, container: _c, ...a }) => a),
      }));
    if (Array.isArray(rest.actions))
      rest.actions = (rest.actions as Record<string, unknown>[]).map(({ duration_ms: _d, container: _c, ...a }) => a);
    if ("downtime_ms" in rest) rest.downtime_ms = typeof rest.downtime_ms;
    return rest;
  });
}
const auditRecords = async (e: Record<string, string | undefined>) =>
  (await readFile(path.join(e.STATE_DIR as string, "audit.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

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
  manager = docker(dockerHost);
  node2 = docker(at(12));
  root = await mkdtemp(path.join(tmpdir(), "pctl-swarm-seed-"));
  modulesDir = path.join(root, "modules");
  await cp(path.join(REPO, "examples/quickstart/modules"), modulesDir, { recursive: true });
  await labelNode2();
  project = testProject("swarm-seed");
  env = {
    PLATFORMCTL_RUNTIME: "swarm",
    DOCKER_HOST: dockerHost,
    PLATFORMCTL_SWARM_NODE_HOSTS: `node1=${at(11)},node2=${at(12)},node3=${at(13)}`,
    STATE_DIR: path.join(root, "state"),
    PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"),
    MINIO_ROOT_USER: "admin",
    MINIO_ROOT_PASSWORD: PASSWORD,
  };
  await mkdir(env.PLATFORMCTL_BACKUP_DIR as string);
}, 660_000);

afterAll(async () => {
  await run("bash", [SWARM, "down"], { timeout: 120_000 });
  if (root) await rm(root, { recursive: true, force: true });
}, 180_000);

let backupRef = "";

describe("the seed scenario on a 3-node Swarm: a failed stateful job, blocked, backed up on its node, re-run by the gate", () => {
  let auditBefore = 0;

  it("bootstraps minio (pinned by a node label only node2 carries), healthy, with --allow-stateful --confirm --bootstrap", async () => {
    const r = await cli(["apply", "--module", "minio", "--allow-stateful", "--confirm", TOKEN, "--bootstrap"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await execIn(await minioContainer(), ["cat", "/data/index.html"])).toBe("ok\n");
  }, 120_000);

  it("has minio-init exit 1 for real (run as apply builds it while minio had no task), and plan shows exited_success with exit 1", async () => {
    const svc = manager.getService(`${project}_minio_minio`);
    const scale = async (n: number) => {
      const s = (await svc.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
      await svc.update({ version: s.Version.Index, ...s.Spec, Mode: { Replicated: { Replicas: n } } });
    };
    await scale(0);
    await eventually(async () => expect((await tasksOf(`${project}_minio_minio`)).filter((t) => t.Status.State === "running")).toEqual([]));
    const catalog = await loadModules(modulesDir);
    const m = catalog.modules.find((x) => x.name === "minio-init");
    if (!m) throw new Error("minio-init not in the catalog");
    const image = (await manager.getImage(TEST_IMAGE).inspect()) as { Id: string };
    const built = buildService(
      { project, module: m, service: m.services[0] as (typeof m.services)[0], env, digestKey: undefined, envFileValues: {} },
      `${project}_minio-init_minio-init`,
      image.Id,
    );
    await manager.createService(built.spec as unknown as Docker.CreateServiceOptions);
    await eventually(
      async () =>
        expect(
          (await tasksOf(`${project}_minio-init_minio-init`)).map((t) => [t.Status.State, t.Status.ContainerStatus?.ExitCode]),
        ).toEqual([["failed", 1]]),
      { timeoutMs: 60_000 },
    );
    await scale(1);
    await eventually(
      async () => expect(await execIn(await minioContainer(), ["wget", "-q", "-O", "-", "http://127.0.0.1:9000/"])).toBe("ok\n"),
      {
        timeoutMs: 60_000,
      },
    );
    const plan = await cli(["plan", "--json", "--module", "minio-init"]);
    const drift = JSON.parse(plan.stdout).modules[0]?.drift as { kind: string; observed: Record<string, unknown> }[];
    expect(drift.map((d) => d.kind)).toEqual(["container.state.exited_success"]);
    expect(drift[0]?.observed).toMatchObject({ exit_code: 1 });
  }, 180_000);

  it("blocks a plain apply of minio-init with exit 3, one reason per missing input, and changes nothing", async () => {
    auditBefore = (await auditRecords(env)).length;
    const r = await cli(["apply", "--module", "minio-init", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect((JSON.parse(r.stdout).reasons as { code: string }[]).map((x) => x.code).sort()).toEqual([
      "input.allow_stateful_missing",
      "input.backup_ref_missing",
      "input.confirm_missing",
    ]);
    expect((await tasksOf(`${project}_minio-init_minio-init`)).map((t) => t.Status.State)).toEqual(["failed"]);
  }, 60_000);

  it("backs minio up on node2 (stop method: its task stopped and started again), verified by checksum and recorded in the catalog", async () => {
    const r = await cli(["backup", "minio", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; sha256: string; size: number; method: string; volumes: string[] };
    backupRef = out.file;
    expect(path.basename(backupRef)).toMatch(/^minio-[0-9]{8}T[0-9]{6}Z\.tar\.gz$/);
    expect(out).toMatchObject({ method: "stop", volumes: [`${project}_minio-data`] });
    const catalog = (await readFile(path.join(env.STATE_DIR as string, "backup-catalog.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(catalog.at(-1)).toMatchObject({ file: backupRef, module: "minio", sha256: out.sha256, size: out.size });
    const { stdout } = await run("tar", ["-tzf", backupRef]);
    expect(stdout.split("\n")).toContain("volumes/minio-data/index.html");
    expect(await helpersOnNode2()).toEqual([]);
    await minioContainer();
  }, 180_000);

  it("re-runs minio-init to exit 0 with --allow-stateful, the backup ref and the typed token; plan is then in sync and no secret leaks", async () => {
    const r = await cli(["apply", "--module", "minio-init", "--allow-stateful", "--backup-ref", backupRef, "--confirm", TOKEN]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const tasks = await tasksOf(`${project}_minio-init_minio-init`);
    expect(tasks.map((t) => [t.Status.State, t.Status.ContainerStatus?.ExitCode]).sort()).toEqual([
      ["complete", 0],
      ["failed", 1],
    ]);
    const plan = await cli(["plan", "--json", "--module", "minio", "--module", "minio-init"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect((JSON.parse(plan.stdout).modules as { in_sync: boolean }[]).every((m) => m.in_sync)).toBe(true);
    const audit = await readFile(path.join(env.STATE_DIR as string, "audit.jsonl"), "utf8");
    expect(audit).toContain("stateful-oneshot-exception");
    expect(audit).not.toContain(TOKEN);
    expect(audit).toContain("--confirm ***");
    const specs = await Promise.all(
      ["minio_minio", "minio-init_minio-init"].map(async (s) =>
        JSON.stringify(((await manager.getService(`${project}_${s}`).inspect()) as { Spec: { Labels: unknown } }).Spec.Labels),
      ),
    );
    const taskLabels = JSON.stringify(tasks.map((t) => t.Spec.ContainerSpec.Labels));
    for (const text of [r.stdout, r.stderr, plan.stdout, audit, ...specs, taskLabels]) expect(text).not.toContain(PASSWORD);
  }, 180_000);

  it("writes the same audit records as the Docker runtime does for the same commands (blocked apply, backup, gated re-run)", async () => {
    const swarm = comparable((await auditRecords(env)).slice(auditBefore), project, backupRef);
    expect(swarm.map((r) => r.type)).toEqual(["intent", "result", "backup-intent", "backup-result", "intent", "result"]);
    expect(swarm[4]).toMatchObject({ decisions: [{ module: "minio-init", eligible: true, rule: "stateful-oneshot-exception" }] });
    // The same catalog, commands and inputs on the local Docker engine (the seed scenario as test/policy runs it).
    const dproject = testProject("docker-seed");
    const denv = {
      ...env,
      PLATFORMCTL_RUNTIME: "docker",
      DOCKER_HOST: undefined,
      PLATFORMCTL_SWARM_NODE_HOSTS: undefined,
      STATE_DIR: path.join(root, "docker-state"),
      PLATFORMCTL_BACKUP_DIR: path.join(root, "docker-backups"),
    };
    await mkdir(denv.PLATFORMCTL_BACKUP_DIR);
    const dcli = (args: string[]) => runCli(["--project", dproject, "--modules-dir", modulesDir, ...args], denv);
    const local = new Docker();
    try {
      expect((await dcli(["apply", "--module", "minio", "--allow-stateful", "--confirm", TOKEN, "--bootstrap"])).code).toBe(0);
      await failMinioInit(local, { project: dproject, modulesDir, env: { MINIO_ROOT_USER: "admin", MINIO_ROOT_PASSWORD: PASSWORD } });
      const before = (await auditRecords(denv)).length;
      expect((await dcli(["apply", "--module", "minio-init", "--json"])).code).toBe(3);
      const b = await dcli(["backup", "minio", "--json"]);
      expect(b.code, b.stderr).toBe(0);
      const dref = (JSON.parse(b.stdout) as { file: string }).file;
      expect((await dcli(["apply", "--module", "minio-init", "--allow-stateful", "--backup-ref", dref, "--confirm", TOKEN])).code).toBe(0);
      const docker = comparable((await auditRecords(denv)).slice(before), dproject, dref);
      expect(swarm).toEqual(docker);
    } finally {
      for (const c of await local.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${dproject}`] } }))
        await local.getContainer(c.Id).remove({ force: true, v: true });
      for (const v of (await local.listVolumes({ filters: { label: [`dev.platformctl.project=${dproject}`] } })).Volumes ?? [])
        await local.getVolume(v.Name).remove();
      for (const n of await local.listNetworks({ filters: { label: [`dev.platformctl.project=${dproject}`] } }))
        await local.getNetwork(n.Id).remove();
    }
  }, 240_000);
});

describe("backup and restore of a pinned store on a 3-node Swarm, attacked", () => {
  const backups = async () => (await readdir(env.PLATFORMCTL_BACKUP_DIR as string)).sort();
  const minioTaskIds = async () =>
    (await tasksOf(`${project}_minio_minio`)).filter((t) => t.Status.State === "running").map((t) => (t as Task & { ID: string }).ID);

  it("refuses a backup whose node engine PLATFORMCTL_SWARM_NODE_HOSTS does not name, before it stops anything", async () => {
    const before = { tasks: await minioTaskIds(), files: await backups(), audit: (await auditRecords(env)).length };
    const r = await cli(["backup", "minio"], { PLATFORMCTL_SWARM_NODE_HOSTS: "node1=tcp://127.0.0.1:1" });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain("needs the engine of node node2, which PLATFORMCTL_SWARM_NODE_HOSTS does not name");
    expect({ tasks: await minioTaskIds(), files: await backups(), audit: (await auditRecords(env)).length }).toEqual(before);
  }, 60_000);

  it("interrupted (SIGINT) while it copies, a backup exits 130, removes its helper from node2, keeps no file and starts minio again", async () => {
    const c = await minioContainer();
    await execIn(c, ["sh", "-c", "head -c 300000000 /dev/urandom > /data/big"]);
    const files = await backups();
    const p = spawnCli(["--project", project, "--modules-dir", modulesDir, "backup", "minio"], env);
    await eventually(async () => expect((await helpersOnNode2()).length).toBe(1), { timeoutMs: 60_000, intervalMs: 50 });
    process.kill(p.pid, "SIGINT");
    const r = await p.done;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(await helpersOnNode2()).toEqual([]);
    expect(await backups()).toEqual(files);
    await execIn(await minioContainer(), ["rm", "/data/big"]);
    const last = (await auditRecords(env)).at(-1);
    expect(last).toMatchObject({ type: "backup-result", module: "minio", outcome: "failed" });
  }, 180_000);

  it("restores the backup into minio's non-empty volume on node2: what was written since (a bucket, a file) is gone, only the backup's content is there", async () => {
    await execIn(await minioContainer(), ["sh", "-c", "echo changed > /data/index.html; echo extra > /data/extra.txt"]);
    const refused = await cli(["restore", "minio", "--from", backupRef, "--allow-stateful", "--confirm", TOKEN]);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stderr).toContain("mounted by other modules' containers");
    // As on Docker: the module sharing the volume (minio-init) is removed first; its next apply creates it again.
    await manager.getService(`${project}_minio-init_minio-init`).remove();
    const r = await cli(["restore", "minio", "--from", backupRef, "--allow-stateful", "--confirm", TOKEN]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const c = await minioContainer();
    expect(await execIn(c, ["ls", "/data"])).toBe("index.html\n");
    expect(await execIn(c, ["cat", "/data/index.html"])).toBe("ok\n");
    expect(await helpersOnNode2()).toEqual([]);
    for (const text of [r.stdout, r.stderr, await readFile(path.join(env.STATE_DIR as string, "audit.jsonl"), "utf8")])
      expect(text).not.toContain(PASSWORD);
  }, 180_000);

  it("fails a backup at once, before stopping minio, when node2 is down, naming the node", async () => {
    await run("docker", ["pause", NODE2_CONTAINER]);
    try {
      await eventually(
        async () => {
          const n = (await manager.getNode("node2").inspect()) as { Status: { State: string } };
          expect(n.Status.State).toBe("down");
        },
        { timeoutMs: 90_000, intervalMs: 1000 },
      );
      const files = await backups();
      const audit = (await auditRecords(env)).length;
      const r = await cli(["backup", "minio"]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toContain("node node2, where module minio keeps its volumes, is down");
      expect(await backups()).toEqual(files);
      expect((await auditRecords(env)).length).toBe(audit);
    } finally {
      await run("docker", ["unpause", NODE2_CONTAINER]);
    }
    await eventually(
      async () => expect(((await manager.getNode("node2").inspect()) as { Status: { State: string } }).Status.State).toBe("ready"),
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
  }, 240_000);
});
