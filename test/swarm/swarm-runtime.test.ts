// The Swarm runtime on a real 3-node Swarm (scripts/swarm.sh: 1 manager, 2 workers as Docker-in-Docker containers).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { startRecordingProxy } from "../helpers/recording-proxy.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli, spawnCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const run = promisify(execFile);
const SWARM = path.join(REPO, "scripts/swarm.sh");

let dockerHost = "";
let manager: Docker;
let work = "";

/** Brings the cluster up; a cluster that cannot form fails every test here (never skips). */
beforeAll(async () => {
  assertFreshBuild();
  work = mkdtempSync(path.join(tmpdir(), "pctl-swarm-"));
  const { stdout } = await run("bash", [SWARM, "up"], { timeout: 600_000, maxBuffer: 1 << 20 });
  dockerHost = stdout.trim().split("\n").at(-1) ?? "";
  expect(dockerHost).toMatch(/^tcp:\/\/[0-9.]+:2375$/);
  const u = new URL(dockerHost.replace("tcp://", "http://"));
  manager = new Docker({ host: u.hostname, port: Number(u.port), version: "v1.41" });
}, 660_000);

/** Tears the whole cluster down, also when a test failed: containers, their volumes, the network. */
afterAll(async () => {
  await run("bash", [SWARM, "down"], { timeout: 120_000 });
  if (work) rmSync(work, { recursive: true, force: true });
}, 180_000);

interface ModuleOpts {
  expected: "running" | "exited-success";
  command: string[];
  replicas?: number;
  stateful?: boolean;
  constraints?: string[];
  timeoutSeconds?: number;
  /** Mount the project volume `data` at /data (a stateful module always does). */
  volume?: boolean;
  /** Project networks the service attaches to. */
  networks?: string[];
}

/** A catalog directory with one module of one service (named like the module). */
function aCatalog(name: string, o: ModuleOpts): string {
  const dir = mkdtempSync(path.join(work, "cat-"));
  mkdirSync(path.join(dir, name));
  const lines = [
    "apiVersion: platformctl/v1",
    "kind: Module",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    `  stateful: ${o.stateful ?? false}`,
    "  runtime:",
    `    expected_state: ${o.expected}`,
    `    timeout_seconds: ${o.timeoutSeconds ?? 120}`,
    ...(o.constraints ? ["  placement:", `    constraints: ${JSON.stringify(o.constraints)}`] : []),
    "  services:",
    `    ${name}:`,
    `      image: ${TEST_IMAGE}`,
    `      command: ${JSON.stringify(o.command)}`,
    `      restart: ${o.expected === "running" ? "always" : '"no"'}`,
    "      stop_grace_period: 1s",
    ...(o.replicas ? [`      replicas: ${o.replicas}`] : []),
    ...(o.stateful || o.volume ? ["      volumes: [data:/data]"] : []),
    ...(o.networks ? [`      networks: ${JSON.stringify(o.networks)}`] : []),
  ];
  writeFileSync(path.join(dir, name, "module.yaml"), `${lines.join("\n")}\n`);
  return dir;
}

function cli(catalog: string, project: string, args: string[]) {
  return runCli(["--runtime", "swarm", "--project", project, "--modules-dir", catalog, ...args], {
    DOCKER_HOST: dockerHost,
    STATE_DIR: path.join(work, `state-${project}`),
    PLATFORMCTL_RUNTIME: undefined,
  });
}

/** The engine of node `hostname` (node1..node3 are .11..13 of the manager's subnet; scripts/swarm.sh). */
function nodeEngine(hostname: string): Docker {
  const u = new URL(dockerHost.replace("tcp://", "http://"));
  const host = u.hostname.replace(/\.11$/, `.${10 + Number(hostname.replace("node", ""))}`);
  return new Docker({ host, port: Number(u.port), version: "v1.41" });
}

async function hostnameOf(nodeId: string): Promise<string> {
  return ((await manager.getNode(nodeId).inspect()) as { Description: { Hostname: string } }).Description.Hostname;
}

interface Task {
  NodeID: string;
  DesiredState: string;
  JobIteration?: { Index?: number };
  Status: { State: string; Err?: string; ContainerStatus?: { ExitCode?: number; ContainerID?: string } };
  Spec: { ContainerSpec: { Labels?: Record<string, string> } };
}

async function tasksOf(service: string): Promise<Task[]> {
  return (await manager.listTasks({ filters: { service: [service] } })) as Task[];
}

describe("the Swarm runtime on a 3-node Swarm", () => {
  it("runs a service with 2 replicas as 2 tasks on 2 different nodes, labelled as platformctl's and never as a stack's", async () => {
    const project = testProject("swarm-web");
    const catalog = aCatalog("web", { expected: "running", command: ["sleep", "3600"], replicas: 2 });
    const r = await cli(catalog, project, ["apply", "--module", "web"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const running = (await tasksOf(`${project}_web_web`)).filter((t) => t.Status.State === "running");
    expect(running).toHaveLength(2);
    expect(new Set(running.map((t) => t.NodeID)).size).toBe(2);
    const svc = (await manager.getService(`${project}_web_web`).inspect()) as {
      Spec: { Labels: Record<string, string>; EndpointSpec: { Mode: string } };
    };
    expect(svc.Spec.Labels).toMatchObject({
      "dev.platformctl.project": project,
      "dev.platformctl.module": "web",
      "dev.platformctl.service": "web",
    });
    expect(svc.Spec.Labels["dev.platformctl.spec-hash"]).toMatch(/^v1:/);
    expect(Object.keys(svc.Spec.Labels)).not.toContain("com.docker.stack.namespace");
    expect(svc.Spec.EndpointSpec.Mode).toBe("dnsrr");
    expect(running[0]?.Spec.ContainerSpec.Labels?.["dev.platformctl.spec-hash"]).toBe(svc.Spec.Labels["dev.platformctl.spec-hash"]);
    const plan = await cli(catalog, project, ["plan", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  });

  it("runs a one-shot job to exit 0 once, and a second apply does not run it again", async () => {
    const project = testProject("swarm-job");
    const catalog = aCatalog("init", { expected: "exited-success", command: ["sh", "-c", "echo done"] });
    const first = await cli(catalog, project, ["apply", "--module", "init"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const after1 = await tasksOf(`${project}_init_init`);
    expect(after1.map((t) => t.Status.State)).toEqual(["complete"]);
    const second = await cli(catalog, project, ["apply", "--module", "init"]);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const after2 = await tasksOf(`${project}_init_init`);
    expect(after2.map((t) => t.Status.State)).toEqual(["complete"]);
    const svc = (await manager.getService(`${project}_init_init`).inspect()) as { JobStatus?: { JobIteration?: { Index?: number } } };
    expect(svc.JobStatus?.JobIteration?.Index ?? 0).toBe(0);
  });

  it("reports a job that exits 3 with exit code 3, and plan shows it as exited_success drift with that code", async () => {
    const project = testProject("swarm-exit3");
    const catalog = aCatalog("mig", { expected: "exited-success", command: ["sh", "-c", "echo failing >&2; exit 3"] });
    const r = await cli(catalog, project, ["apply", "--module", "mig"]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("exited 3");
    const tasks = await tasksOf(`${project}_mig_mig`);
    expect(tasks.map((t) => [t.Status.State, t.Status.ContainerStatus?.ExitCode])).toEqual([["failed", 3]]);
    const plan = await cli(catalog, project, ["plan", "--json"]);
    const drift = (JSON.parse(plan.stdout) as { modules: { drift: { kind: string; observed: Record<string, unknown> }[] }[] }).modules[0]
      ?.drift;
    expect(drift?.map((d) => [d.kind, d.observed.exit_code])).toEqual([["container.state.exited_success", 3]]);
  });

  it("re-runs a failed job on the next apply as a new JobIteration (a ForceUpdate), and then leaves its exit 0 alone", async () => {
    const project = testProject("swarm-rerun");
    // Fails the first time, succeeds once its marker is on the volume: pinned so both runs see the same volume.
    const catalog = aCatalog("once", {
      expected: "exited-success",
      command: ["sh", "-c", "test -f /data/ran && exit 0; touch /data/ran; exit 3"],
      constraints: ["node.hostname==node2"],
      volume: true,
    });
    const first = await cli(catalog, project, ["apply", "--module", "once"]);
    expect(first.code).toBe(1);
    const second = await cli(catalog, project, ["apply", "--module", "once"]);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const svc = (await manager.getService(`${project}_once_once`).inspect()) as { JobStatus?: { JobIteration?: { Index?: number } } };
    const iteration = svc.JobStatus?.JobIteration?.Index ?? 0;
    expect(iteration).toBeGreaterThan(0);
    const byIteration = (await tasksOf(`${project}_once_once`)).map((t) => [
      t.JobIteration?.Index ?? 0,
      t.Status.State,
      t.Status.ContainerStatus?.ExitCode,
    ]);
    expect(byIteration.sort()).toEqual([
      [0, "failed", 3],
      [iteration, "complete", 0],
    ]);
    const third = await cli(catalog, project, ["apply", "--module", "once"]);
    expect(third.code).toBe(0);
    expect(await tasksOf(`${project}_once_once`)).toHaveLength(2);
    // Its volume was created on node2, where the task ran, with platformctl's labels (the manager does not list it).
    const volume = (await nodeEngine("node2").getVolume(`${project}_data`).inspect()) as { Labels: Record<string, string> | null };
    expect(volume.Labels).toMatchObject({ "dev.platformctl.project": project, "dev.platformctl.module": "once" });
  });

  it("creates the networks a service attaches to as attachable overlays with platformctl's label, and its task's container on its node carries platformctl's labels", async () => {
    const project = testProject("swarm-net");
    const catalog = aCatalog("net", { expected: "running", command: ["sleep", "3600"], networks: ["backend"] });
    const r = await cli(catalog, project, ["apply", "--module", "net"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const net = (await manager.getNetwork(`${project}_backend`).inspect()) as {
      Driver: string;
      Scope: string;
      Attachable: boolean;
      Labels: Record<string, string>;
    };
    expect({ driver: net.Driver, scope: net.Scope, attachable: net.Attachable }).toEqual({
      driver: "overlay",
      scope: "swarm",
      attachable: true,
    });
    expect(net.Labels["dev.platformctl.project"]).toBe(project);
    const [task] = (await tasksOf(`${project}_net_net`)).filter((t) => t.Status.State === "running");
    expect(task).toBeDefined();
    const container = (await nodeEngine(await hostnameOf(task?.NodeID as string))
      .getContainer(task?.Status.ContainerStatus?.ContainerID as string)
      .inspect()) as Docker.ContainerInspectInfo;
    expect(container.Config.Labels).toMatchObject({
      "dev.platformctl.project": project,
      "dev.platformctl.module": "net",
      "dev.platformctl.service": "net",
    });
    expect(Object.keys(container.Config.Labels)).not.toContain("com.docker.stack.namespace");
    expect(Object.keys(container.NetworkSettings.Networks)).toContain(`${project}_backend`);
  });

  it("refuses a stateful module that no placement constraint pins to one node, before it creates anything", async () => {
    const project = testProject("swarm-unpinned");
    const catalog = aCatalog("store", { expected: "running", command: ["sleep", "3600"], stateful: true });
    for (const args of [["plan"], ["apply", "--module", "store"]]) {
      const r = await cli(catalog, project, args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("stateful module store is not pinned to one Swarm node");
      expect(r.stderr).toContain("spec.placement.constraints");
    }
    expect(await manager.listServices({ filters: { label: [`dev.platformctl.project=${project}`] } })).toEqual([]);
  });

  it("fails an apply at once with the scheduler's message when the only node a service may run on is drained", async () => {
    const project = testProject("swarm-drain");
    const node = manager.getNode("node3");
    const drain = async (availability: "drain" | "active") => {
      const n = (await node.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
      await node.update({ version: n.Version.Index, ...n.Spec, Availability: availability });
    };
    await drain("drain");
    try {
      // A 10-minute module bound: only the scheduler's message can end this apply within the test's own timeout.
      const catalog = aCatalog("pinned", {
        expected: "running",
        command: ["sleep", "3600"],
        constraints: ["node.hostname==node3"],
        timeoutSeconds: 600,
      });
      const r = await cli(catalog, project, ["apply", "--module", "pinned"]);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain("no suitable node");
      // plan: a service whose running tasks fall short of its replicas is drift, with the tasks' error messages.
      const plan = await cli(catalog, project, ["plan", "--json"]);
      const drift = (JSON.parse(plan.stdout) as { modules: { drift: { kind: string; observed: Record<string, unknown> }[] }[] }).modules[0]
        ?.drift;
      expect(drift?.map((d) => d.kind)).toEqual(["container.state.not_running"]);
      expect(drift?.[0]?.observed).toMatchObject({ desired_tasks: 1, running_tasks: 0 });
      expect(String(drift?.[0]?.observed.task_errors)).toContain("no suitable node");
      const job = aCatalog("pinnedjob", {
        expected: "exited-success",
        command: ["true"],
        constraints: ["node.hostname==node3"],
        timeoutSeconds: 600,
      });
      const j = await cli(job, project, ["apply", "--module", "pinnedjob"]);
      expect(j.code).toBe(1);
      expect(j.stdout + j.stderr).toContain("no suitable node");
    } finally {
      await drain("active");
    }
  });

  it("keeps Docker's exit codes: 2 for drift with --detailed-exitcode, 4 while another apply holds the lock, 5 for a saved plan the Swarm has moved past, 143 for SIGTERM mid-wait", async () => {
    const project = testProject("swarm-codes");
    const svc = aCatalog("svc", { expected: "running", command: ["sleep", "3600"] });
    const both = aCatalog("slow", { expected: "exited-success", command: ["sleep", "30"] });
    await run("cp", ["-r", path.join(svc, "svc"), both]);
    expect((await cli(both, project, ["plan", "--detailed-exitcode"])).code).toBe(2);
    const saved = path.join(work, `${project}.plan.json`);
    expect((await cli(both, project, ["plan", "--module", "svc", "--out", saved])).code).toBeLessThanOrEqual(2);
    // The Swarm moves on after the plan was saved: the service now exists.
    expect((await cli(both, project, ["apply", "--module", "svc"])).code).toBe(0);
    const stale = await cli(both, project, ["apply", "--module", "svc", "--plan", saved]);
    expect(stale.code, stale.stdout + stale.stderr).toBe(5);
    // One apply waits for the 30 s job; a second apply of the same project finds the lock held.
    const holder = spawnCli(["--runtime", "swarm", "--project", project, "--modules-dir", both, "apply", "--module", "slow"], {
      DOCKER_HOST: dockerHost,
      STATE_DIR: path.join(work, `state-${project}`),
      PLATFORMCTL_RUNTIME: undefined,
    });
    await eventually(async () => expect((await tasksOf(`${project}_slow_slow`)).map((t) => t.Status.State)).toEqual(["running"]), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    const held = await cli(both, project, ["apply", "--module", "svc"]);
    expect(held.code, held.stdout + held.stderr).toBe(4);
    process.kill(holder.pid, "SIGTERM");
    const h = await holder.done;
    expect(h.code, h.stdout + h.stderr).toBe(143);
    // The lock was released: the next apply takes it.
    expect((await cli(both, project, ["apply", "--module", "svc"])).code).toBe(0);
  }, 120_000);

  it("plans with GET requests only: nothing on the Swarm changes", async () => {
    const project = testProject("swarm-plan");
    const catalog = aCatalog("ro", { expected: "exited-success", command: ["true"] });
    const u = new URL(dockerHost.replace("tcp://", "http://"));
    const proxy = await startRecordingProxy({ target: { host: u.hostname, port: Number(u.port) }, tcp: true });
    try {
      const r = await runCli(["--runtime", "swarm", "--project", project, "--modules-dir", catalog, "plan"], {
        DOCKER_HOST: proxy.dockerHost,
        STATE_DIR: path.join(work, `state-${project}`),
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("service.missing");
      expect(proxy.requests.length).toBeGreaterThan(0);
      expect(proxy.requests.filter((q) => q.method !== "GET" && q.method !== "HEAD")).toEqual([]);
    } finally {
      await proxy.close();
    }
    expect(await manager.listServices({ filters: { label: [`dev.platformctl.project=${project}`] } })).toEqual([]);
  });

  it("plans with GET requests only over services and jobs that exist and drifted (a failed job, a changed service): nothing on the Swarm changes", async () => {
    const project = testProject("swarm-plan2");
    const job = aCatalog("fails", { expected: "exited-success", command: ["sh", "-c", "exit 5"] });
    const svc = aCatalog("svc", { expected: "running", command: ["sleep", "3600"] });
    expect((await cli(job, project, ["apply", "--module", "fails"])).code).toBe(1);
    expect((await cli(svc, project, ["apply", "--module", "svc"])).code).toBe(0);
    // One catalog with both: the job failed (exit 5), the service's command changed since it was applied.
    const both = aCatalog("fails", { expected: "exited-success", command: ["sh", "-c", "exit 5"] });
    const changed = aCatalog("svc", { expected: "running", command: ["sleep", "7200"] });
    await run("cp", ["-r", path.join(changed, "svc"), both]);
    const versions = async () =>
      (
        (await manager.listServices({ filters: { label: [`dev.platformctl.project=${project}`] } })) as {
          Spec: { Name: string };
          Version: { Index: number };
        }[]
      )
        .map((x) => [x.Spec.Name, x.Version.Index])
        .sort();
    const before = await versions();
    expect(before).toHaveLength(2);
    const allTasks = async () => [...(await tasksOf(`${project}_fails_fails`)), ...(await tasksOf(`${project}_svc_svc`))].length;
    const tasksBefore = await allTasks();
    const u = new URL(dockerHost.replace("tcp://", "http://"));
    const proxy = await startRecordingProxy({ target: { host: u.hostname, port: Number(u.port) }, tcp: true });
    try {
      const r = await runCli(["--runtime", "swarm", "--project", project, "--modules-dir", both, "plan", "--json"], {
        DOCKER_HOST: proxy.dockerHost,
        STATE_DIR: path.join(work, `state-${project}`),
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const kinds = (JSON.parse(r.stdout) as { modules: { name: string; drift: { kind: string }[] }[] }).modules
        .map((m) => [m.name, m.drift.map((d) => d.kind).sort()])
        .sort();
      expect(kinds).toEqual([
        ["fails", ["container.state.exited_success"]],
        ["svc", ["config.changed"]],
      ]);
      expect(proxy.requests.some((q) => q.url.includes("/tasks"))).toBe(true);
      expect(proxy.requests.filter((q) => q.method !== "GET" && q.method !== "HEAD")).toEqual([]);
    } finally {
      await proxy.close();
    }
    expect(await versions()).toEqual(before);
    expect(await allTasks()).toBe(tasksBefore);
  });
  it("recreates a service whose name is exactly Swarm's 63 characters: the replacement's longer -next name is only looked up, never created", async () => {
    const project = testProject("swarm-63");
    const service = `s${"x".repeat(63 - project.length - "_m63_".length - 1)}`;
    const canonical = `${project}_m63_${service}`;
    expect(canonical).toHaveLength(63);
    const catalog = aCatalog("m63", { expected: "running", command: ["sleep", "100000"] });
    const yaml = path.join(catalog, "m63", "module.yaml");
    const rename = (text: string) => text.replace("    m63:", `    ${service}:`);
    writeFileSync(yaml, rename(readFileSync(yaml, "utf8")));
    const first = await cli(catalog, project, ["apply", "--module", "m63"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    writeFileSync(yaml, readFileSync(yaml, "utf8").replace('"100000"', '"100001"'));
    const u = new URL(dockerHost.replace("tcp://", "http://"));
    const proxy = await startRecordingProxy({ target: { host: u.hostname, port: Number(u.port) }, tcp: true });
    try {
      const r = await runCli(["--runtime", "swarm", "--project", project, "--modules-dir", catalog, "apply", "--module", "m63", "--json"], {
        DOCKER_HOST: proxy.dockerHost,
        STATE_DIR: path.join(work, `state-${project}`),
        PLATFORMCTL_RUNTIME: undefined,
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { actions: { type: string }[] }).actions.map((a) => a.type)).toEqual(["recreate", "start"]);
      // The replacement is staged in memory under `-next` (68 characters; only looked up, as a stray of an earlier
      // run would be) and created under the checked name only.
      const creates = proxy
        .sent()
        .split(/(?=POST |GET |DELETE |PUT |HEAD )/)
        .filter((q) => q.startsWith("POST /v1.41/services/create"));
      expect(creates).toHaveLength(1);
      expect(creates[0]).toContain(`"Name":"${canonical}"`);
      expect(proxy.requests.filter((q) => q.url.includes(`${canonical}-next`) && q.method !== "GET")).toEqual([]);
    } finally {
      await proxy.close();
    }
    const services = (await manager.listServices({ filters: { label: [`dev.platformctl.project=${project}`] } })) as {
      Spec: { Name: string; TaskTemplate: { ContainerSpec: { Args?: string[] } } };
    }[];
    expect(services.map((x) => [x.Spec.Name, x.Spec.TaskTemplate.ContainerSpec.Args])).toEqual([[canonical, ["sleep", "100001"]]]);
  });
});
