// The Swarm runtime on a real 3-node Swarm (scripts/swarm.sh: 1 manager, 2 workers as Docker-in-Docker containers).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRecordingProxy } from "../helpers/recording-proxy.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
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

interface Task {
  NodeID: string;
  DesiredState: string;
  JobIteration?: { Index?: number };
  Status: { State: string; Err?: string; ContainerStatus?: { ExitCode?: number } };
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
});
