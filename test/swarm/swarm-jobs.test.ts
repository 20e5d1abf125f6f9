// Swarm job lifecycle on a real 3-node Swarm: a timed-out job's task is stopped (parked), each run's own log tail is
// kept and masked, a running job's service is removed without orphaning its task, and a cluster lost mid-wait ends apply.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine } from "../../src/engine/connect.js";
import { swarmRuntime } from "../../src/engine/swarm/swarm-runtime.js";
import { eventually } from "../helpers/eventually.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli, spawnCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const run = promisify(execFile);
const SWARM = path.join(REPO, "scripts/swarm.sh");
/** Not a secret anywhere: a value a job prints, which no output of platformctl may show. */
const TOKEN = "pctl-swarm-token-7c1e9d4f";

let dockerHost = "";
let manager: Docker;
let work = "";

/** Brings the cluster up; a cluster that cannot form fails every test here (never skips). */
beforeAll(async () => {
  assertFreshBuild();
  work = mkdtempSync(path.join(tmpdir(), "pctl-swarm-jobs-"));
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

/** A catalog of one one-shot module `name` (one service of the same name) pinned to node2 with volume `data` at /data. */
function aJob(name: string, script: string, o: { timeoutSeconds: number; env?: string[] }): string {
  const dir = mkdtempSync(path.join(work, "cat-"));
  mkdirSync(path.join(dir, name));
  const lines = [
    "apiVersion: platformctl/v1",
    "kind: Module",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    "  runtime:",
    "    expected_state: exited-success",
    `    timeout_seconds: ${o.timeoutSeconds}`,
    "  placement:",
    '    constraints: ["node.hostname==node2"]',
    "  services:",
    `    ${name}:`,
    `      image: ${TEST_IMAGE}`,
    `      command: ${JSON.stringify(["sh", "-c", script])}`,
    '      restart: "no"',
    "      stop_grace_period: 1s",
    "      volumes: [data:/data]",
    ...(o.env ? ["      environment:", ...o.env.map((l) => `        ${l}`)] : []),
  ];
  writeFileSync(path.join(dir, name, "module.yaml"), `${lines.join("\n")}\n`);
  return dir;
}

function cli(catalog: string, project: string, args: string[], env: Record<string, string> = {}) {
  return runCli(["--runtime", "swarm", "--project", project, "--modules-dir", catalog, ...args], {
    DOCKER_HOST: dockerHost,
    STATE_DIR: path.join(work, `state-${project}`),
    PLATFORMCTL_RUNTIME: undefined,
    ...env,
  });
}

interface Task {
  ID: string;
  NodeID: string;
  DesiredState: string;
  JobIteration?: { Index?: number };
  Status: { State: string; Err?: string; ContainerStatus?: { ExitCode?: number } };
}

const tasksOf = async (service: string) => (await manager.listTasks({ filters: { service: [service] } })) as Task[];

/** Running containers of Swarm service `service` on every node, asked of each node's own engine. */
async function runningOnNodes(service: string): Promise<string[]> {
  const nodes = (await manager.listNodes()) as { Description: { Hostname: string }; Status: { Addr: string } }[];
  const found = await Promise.all(
    nodes.map(async (n) => {
      const engine = new Docker({ host: n.Status.Addr, port: 2375, version: "v1.41" });
      const cs = await engine.listContainers({ filters: { label: [`com.docker.swarm.service.name=${service}`] } });
      return cs.map((c) => `${n.Description.Hostname}:${c.Names[0] ?? c.Id}`);
    }),
  );
  return found.flat();
}

describe("Swarm jobs on a 3-node Swarm", () => {
  it("stops the task of a job that outlives its timeout by parking the job, says so, keeps its output, and runs it again on the next apply", async () => {
    const project = testProject("swarm-timeout");
    const service = `${project}_slow_slow`;
    // First run: never ends (marker absent); any later run: exit 0.
    const catalog = aJob("slow", "if test -f /data/slow; then echo second; exit 0; fi; touch /data/slow; echo started-slow; sleep 600", {
      timeoutSeconds: 15,
    });
    const first = await cli(catalog, project, ["apply", "--module", "slow"]);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toContain("did not finish within 15s; its task was shut down and the job kept, parked on no node");
    expect(first.stdout).toContain("started-slow");
    // The stopped run kept no exit code (parking removed its task): nothing may call it an exit 0.
    expect(first.stdout).not.toMatch(/\bexit(ed)? 0\b/);
    const audit = readFileSync(path.join(work, `state-${project}`, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { modules?: unknown[] });
    const runs = audit
      .flatMap((r) => r.modules ?? [])
      .flatMap((m) => (typeof m === "object" && m !== null ? (m as { actions: { type: string; exit_code: number | null }[] }).actions : []))
      .filter((a) => a.type === "run-once");
    expect(runs.map((a) => a.exit_code)).toEqual([null]);
    expect(await runningOnNodes(service)).toEqual([]);
    expect((await tasksOf(service)).filter((t) => t.Status.State === "running")).toEqual([]);
    const plan = await cli(catalog, project, ["plan", "--json"]);
    const drift = (JSON.parse(plan.stdout) as { modules: { drift: { kind: string; observed: { task_errors?: string[] } }[] }[] }).modules[0]
      ?.drift;
    expect(drift?.map((d) => d.kind)).toEqual(["container.state.exited_success"]);
    expect(drift?.[0]?.observed.task_errors?.join(" ")).toContain("parked");
    expect(drift?.[0]?.observed).toMatchObject({ status: "exited", exit_code: null });
    const health = await cli(catalog, project, ["health", "--json"]);
    expect(health.code, health.stderr).toBe(1);
    const verdict = (JSON.parse(health.stdout) as { modules: { services: { exit_code: number | null; reason: string }[] }[] }).modules[0]
      ?.services[0];
    expect(verdict?.exit_code).toBeNull();
    expect(verdict?.reason).toMatch(/^stopped, with no exit code kept: stopped by platformctl when its run outlived the module timeout/);
    const human = await cli(catalog, project, ["health"]);
    expect(human.stdout).toContain("no exit code kept");
    expect(human.stdout).not.toMatch(/\bexit(ed)? 0\b/);
    const second = await cli(catalog, project, ["apply", "--module", "slow"]);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const svc = (await manager.getService(service).inspect()) as { Spec: { TaskTemplate: { Placement?: { Constraints?: string[] } } } };
    expect(svc.Spec.TaskTemplate.Placement?.Constraints).toEqual(["node.hostname==node2"]);
    const again = await cli(catalog, project, ["plan", "--detailed-exitcode"]);
    expect(again.code, again.stdout).toBe(0);
  });

  it("shows the log tail of the failed run only, never an earlier run's, with the secret value it printed masked", async () => {
    const project = testProject("swarm-tail");
    const catalog = aJob(
      "leaky",
      'if test -f /data/one; then echo "run-two token=$$API_TOKEN"; exit 5; fi; touch /data/one; echo "run-one token=$$API_TOKEN"; exit 4',
      { timeoutSeconds: 120, env: ["API_TOKEN: ${PCTL_TEST_API_TOKEN}"] },
    );
    const env = { PCTL_TEST_API_TOKEN: TOKEN };
    const first = await cli(catalog, project, ["apply", "--module", "leaky"], env);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toContain("exited 4");
    expect(first.stdout).toContain("run-one token=");
    const second = await cli(catalog, project, ["apply", "--module", "leaky"], env);
    expect(second.code, second.stdout + second.stderr).toBe(1);
    expect(second.stdout).toContain("exited 5");
    expect(second.stdout).toContain("run-two token=");
    // The service's log holds both runs; the failure shows its own run's.
    expect(second.stdout).not.toContain("run-one");
    for (const r of [first, second]) expect(r.stdout + r.stderr).not.toContain(TOKEN);
    const json = await cli(catalog, project, ["apply", "--module", "leaky", "--json"], env);
    expect(json.code).toBe(1);
    expect(json.stdout + json.stderr).not.toContain(TOKEN);
    const audit = await runCli(["audit", "--json"], { STATE_DIR: path.join(work, `state-${project}`) });
    expect(audit.stdout).not.toContain(TOKEN);
  });

  it("removes a running job's service without leaving its task running on a node (moby#44312: it parks the job first)", async () => {
    const project = testProject("swarm-rm");
    const service = `${project}_busy_busy`;
    await manager.createService({
      Name: service,
      Labels: { "dev.platformctl.project": project },
      TaskTemplate: {
        ContainerSpec: { Image: TEST_IMAGE, Command: ["sleep", "600"], StopGracePeriod: 1e9 },
        RestartPolicy: { Condition: "none" },
      },
      Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
    });
    await eventually(async () => expect(await runningOnNodes(service)).toHaveLength(1), { timeoutMs: 60_000 });
    const runtime = swarmRuntime(connectEngine({ DOCKER_HOST: dockerHost }));
    expect(await runtime.removeUnit(service, { force: true })).toBe("removed");
    expect(await runningOnNodes(service)).toEqual([]);
  });

  it("ends an apply with a bounded error when the whole cluster goes away while it waits for a job", async () => {
    const project = testProject("swarm-gone");
    const catalog = aJob("hang", "echo waiting; sleep 600", { timeoutSeconds: 600 });
    const apply = spawnCli(["--runtime", "swarm", "--project", project, "--modules-dir", catalog, "apply", "--module", "hang"], {
      DOCKER_HOST: dockerHost,
      STATE_DIR: path.join(work, `state-${project}`),
      PLATFORMCTL_RUNTIME: undefined,
    });
    await eventually(async () => expect((await tasksOf(`${project}_hang_hang`)).map((t) => t.Status.State)).toContain("running"), {
      timeoutMs: 60_000,
    });
    // The manager's node container (this file's own cluster) dies: its engine stops answering mid-wait.
    const slot = process.env.PLATFORMCTL_SWARM_SLOT ?? "0";
    await new Docker().getContainer(`platformctl-swarm${slot === "0" ? "" : slot}-node1`).kill();
    // The module's 600 s bound is far beyond this test's: only the lost engine can end the apply in time.
    const r = await apply.done;
    expect(r.code, r.stdout + r.stderr).toBe(1);
    // A connect that never completes reads as "did not answer" (the request deadline), a refused one as unreachable.
    expect(r.stdout + r.stderr).toMatch(/engine unreachable|did not answer/);
  }, 240_000);
});
