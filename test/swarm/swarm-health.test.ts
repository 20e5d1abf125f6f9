// health and smoke on a real 3-node Swarm (scripts/swarm.sh): verdicts from tasks, exec probes through node engines, http/tcp probes to nodes.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const run = promisify(execFile);
const SWARM = path.join(REPO, "scripts/swarm.sh");

let dockerHost = "";
/** The cluster's subnet prefix, e.g. `172.30.215`: node1..3 are .11, .12, .13. */
let net = "";
let work = "";
/** Every node's engine, as an operator would give them to exec probes. */
let nodeHosts = "";

/** Brings the cluster up; a cluster that cannot form fails every test here (never skips). */
beforeAll(async () => {
  assertFreshBuild();
  work = mkdtempSync(path.join(tmpdir(), "pctl-swarm-health-"));
  const { stdout } = await run("bash", [SWARM, "up"], { timeout: 600_000, maxBuffer: 1 << 20 });
  dockerHost = stdout.trim().split("\n").at(-1) ?? "";
  expect(dockerHost).toMatch(/^tcp:\/\/[0-9.]+\.11:2375$/);
  net = dockerHost.replace(/^tcp:\/\/([0-9.]+)\.11:2375$/, "$1");
  nodeHosts = [1, 2, 3].map((n) => `node${n}=tcp://${net}.${10 + n}:2375`).join(",");
}, 660_000);

/** Tears the whole cluster down, also when a test failed: containers, their volumes, the network. */
afterAll(async () => {
  await run("bash", [SWARM, "down"], { timeout: 120_000 });
  if (work) rmSync(work, { recursive: true, force: true });
}, 180_000);

/** A catalog directory holding one module whose `spec:` body is `spec` (YAML lines, indented under spec). */
function aModule(name: string, spec: string[]): string {
  const dir = mkdtempSync(path.join(work, "cat-"));
  mkdirSync(path.join(dir, name));
  const lines = ["apiVersion: platformctl/v1", "kind: Module", "metadata:", `  name: ${name}`, "spec:", ...spec.map((l) => `  ${l}`)];
  writeFileSync(path.join(dir, name, "module.yaml"), `${lines.join("\n")}\n`);
  return dir;
}

function cli(catalog: string, project: string, args: string[], env: Record<string, string | undefined> = {}) {
  return runCli(["--runtime", "swarm", "--project", project, "--modules-dir", catalog, ...args], {
    DOCKER_HOST: dockerHost,
    STATE_DIR: path.join(work, `state-${project}`),
    PLATFORMCTL_RUNTIME: undefined,
    PLATFORMCTL_SWARM_NODE_HOSTS: undefined,
    PLATFORMCTL_SMOKE_REMOTE_MODE: undefined,
    ...env,
  });
}

interface ServiceJson {
  name: string;
  state: string;
  exit_code: number | null;
  healthy: boolean;
  reason: string;
}
interface ProbeJson {
  name: string;
  kind: string;
  status: string;
  duration_ms: number;
  reason: string | null;
  output: string | null;
}
interface SmokeJson {
  module: string;
  healthy: boolean;
  services: ServiceJson[];
  probes: ProbeJson[];
  passed: boolean;
}

function healthService(stdout: string, module: string, service: string): ServiceJson | undefined {
  const r = JSON.parse(stdout) as { healthy: boolean; modules: { name: string; services: ServiceJson[] }[] };
  return r.modules.find((m) => m.name === module)?.services.find((s) => s.name === service);
}

/** The keys smoke --json prints on the Docker runtime (test/cli smoke tests): the Swarm runtime prints the same. */
const SMOKE_KEYS = ["healthy", "module", "passed", "probes", "services"];
const PROBE_KEYS = ["duration_ms", "kind", "name", "output", "reason", "status"];

const SECRET = "s3cr3t-swarm-probe-value-1a2b";

/** A 2-replica httpd service with an exec probe that prints a secret before passing (its output is never shown on a pass). */
function webModule(): string[] {
  return [
    "runtime:",
    "  expected_state: running",
    "  timeout_seconds: 120",
    "services:",
    "  web:",
    `    image: ${TEST_IMAGE}`,
    '    entrypoint: ["/bin/sh", "-c"]',
    '    command: ["mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]',
    "    restart: always",
    "    stop_grace_period: 1s",
    "    replicas: 2",
    "    environment:",
    "      PROBE_TOKEN: ${PROBE_TOKEN:?set PROBE_TOKEN}",
    "smoke:",
    "  - name: front-page",
    '    exec: {service: web, command: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]}',
    "    timeout_seconds: 20",
  ];
}

describe("health and smoke on a 3-node Swarm", () => {
  it("judges a 2-replica service healthy from its 2 running tasks, and smoke runs its exec probe through the node engines of PLATFORMCTL_SWARM_NODE_HOSTS", async () => {
    const project = testProject("swh-web");
    const catalog = aModule("web", webModule());
    const env = { PROBE_TOKEN: SECRET };
    const applied = await cli(catalog, project, ["apply", "--module", "web"], env);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);

    const health = await cli(catalog, project, ["health", "--json"], env);
    expect(health.code, health.stdout + health.stderr).toBe(0);
    expect(healthService(health.stdout, "web", "web")).toMatchObject({ state: "running", healthy: true, exit_code: null });

    const smoke = await cli(catalog, project, ["smoke", "web", "--json"], { ...env, PLATFORMCTL_SWARM_NODE_HOSTS: nodeHosts });
    expect(smoke.code, smoke.stdout + smoke.stderr).toBe(0);
    const r = JSON.parse(smoke.stdout) as SmokeJson;
    expect(Object.keys(r).sort()).toEqual(SMOKE_KEYS);
    expect(r.probes.map((p) => Object.keys(p).sort())).toEqual([PROBE_KEYS]);
    expect(r.probes.map((p) => [p.name, p.kind, p.status])).toEqual([["front-page", "exec", "passed"]]);
    expect(r.passed).toBe(true);
  });

  it("reports the same exec probe skipped, never passed, without PLATFORMCTL_SWARM_NODE_HOSTS, and smoke exits 1 saying why", async () => {
    const project = testProject("swh-skip");
    const catalog = aModule("web", webModule());
    const env = { PROBE_TOKEN: SECRET };
    const applied = await cli(catalog, project, ["apply", "--module", "web"], env);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);

    const smoke = await cli(catalog, project, ["smoke", "web", "--json"], env);
    expect(smoke.code, smoke.stdout + smoke.stderr).toBe(1);
    const r = JSON.parse(smoke.stdout) as SmokeJson;
    expect(r.healthy).toBe(true);
    expect(r.passed).toBe(false);
    expect(r.probes.map((p) => [p.name, p.status])).toEqual([["front-page", "skipped"]]);
    expect(r.probes[0]?.reason).toContain("PLATFORMCTL_SWARM_NODE_HOSTS");
    expect(r.probes[0]?.reason).toMatch(/no engine address is known for nodes? node[123]/);

    const human = await cli(catalog, project, ["smoke", "web"], env);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain("smoke failed: 0 passed, 0 failed, 1 skipped (1 could not run here, which is not a pass)");

    // Only some nodes known: a task on a known node is used, or the probe is skipped naming the unknown node.
    const partial = await cli(catalog, project, ["smoke", "web", "--json"], {
      ...env,
      PLATFORMCTL_SWARM_NODE_HOSTS: `nodeX=tcp://${net}.11:2375`,
    });
    expect(JSON.parse(partial.stdout).probes[0].status).toBe("skipped");
  });

  it("refuses a malformed PLATFORMCTL_SWARM_NODE_HOSTS as the command's error (not a failed probe), naming the variable, the entry and what was expected", async () => {
    const project = testProject("swh-badenv");
    const catalog = aModule("web", webModule());
    // The variable is read when a command first reaches a node: here, the exec probe of a running service.
    const applied = await cli(catalog, project, ["apply", "--module", "web"], { PROBE_TOKEN: SECRET });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    for (const [value, says] of [
      ["node1=http://10.0.0.1:2375", 'entry 1 ("node1=http://10.0.0.1:2375") gives node node1 an address that is not tcp://host:port'],
      [`node1=tcp://${net}.11:2375,,node2=tcp://x:1`, 'entry 2 ("") is empty'],
      ["node1", "entry 1 (\"node1\") has no '='"],
      ["node1=tcp://admin:hunter2@10.0.0.1:2375", "(no user, no path)"],
      [`node1=tcp://${net}.11:2375,node1=tcp://${net}.12:2375`, "names node node1 a second time"],
    ] as const) {
      const r = await cli(catalog, project, ["smoke", "web"], { PROBE_TOKEN: SECRET, PLATFORMCTL_SWARM_NODE_HOSTS: value });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain("PLATFORMCTL_SWARM_NODE_HOSTS");
      expect(r.stderr).toContain(says);
      expect(r.stderr).toContain("node=DOCKER_HOST");
      expect(r.stderr).not.toContain("hunter2");
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("fails, within the probe's bound, an exec probe whose node engine does not answer, naming the node and the address", async () => {
    const project = testProject("swh-deaf");
    const catalog = aModule("web", webModule());
    const env = { PROBE_TOKEN: SECRET };
    const applied = await cli(catalog, project, ["apply", "--module", "web"], env);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    // .99 is in the cluster's subnet and nobody is there.
    const deaf = [1, 2, 3].map((n) => `node${n}=tcp://${net}.99:2375`).join(",");
    const smoke = await cli(catalog, project, ["smoke", "web", "--json"], { ...env, PLATFORMCTL_SWARM_NODE_HOSTS: deaf });
    expect(smoke.code, smoke.stdout + smoke.stderr).toBe(1);
    const probe = (JSON.parse(smoke.stdout) as SmokeJson).probes[0];
    expect(probe?.status).toBe("failed");
    expect(probe?.reason).toMatch(new RegExp(`node node[123]'s engine at tcp://${net.replace(/\./g, "\\.")}\\.99:2375 .*does not answer`));
  });

  it("masks a secret the exec probe prints when it fails, in the JSON and in the human output", async () => {
    const project = testProject("swh-mask");
    const spec = webModule().slice(0, -3);
    spec.push(
      "  - name: leaks",
      '    exec: {service: web, command: ["sh", "-c", "echo token=$$PROBE_TOKEN; exit 2"]}',
      "    timeout_seconds: 20",
    );
    const catalog = aModule("web", spec);
    const env = { PROBE_TOKEN: SECRET, PLATFORMCTL_SWARM_NODE_HOSTS: nodeHosts };
    const applied = await cli(catalog, project, ["apply", "--module", "web"], env);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const smoke = await cli(catalog, project, ["smoke", "web", "--json"], env);
    expect(smoke.code).toBe(1);
    const probe = (JSON.parse(smoke.stdout) as SmokeJson).probes[0];
    expect(probe).toMatchObject({ status: "failed", reason: "exited with code 2" });
    expect(probe?.output).toContain("token=");
    const human = await cli(catalog, project, ["smoke", "web"], env);
    for (const out of [smoke.stdout + smoke.stderr, human.stdout + human.stderr]) expect(out).not.toContain(SECRET);
  });

  it("runs http and tcp probes from this host against the published port of the node a service is pinned to", async () => {
    const project = testProject("swh-http");
    const catalog = aModule("front", [
      "runtime:",
      "  expected_state: running",
      "  timeout_seconds: 120",
      "placement:",
      '  constraints: ["node.hostname==node2"]',
      "services:",
      "  front:",
      `    image: ${TEST_IMAGE}`,
      '    entrypoint: ["/bin/sh", "-c"]',
      '    command: ["mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www"]',
      "    restart: always",
      "    stop_grace_period: 1s",
      '    ports: ["18080:80"]',
      "smoke:",
      "  - name: page",
      `    http: {url: "http://${net}.12:18080/"}`,
      "  - name: missing-page",
      `    http: {url: "http://${net}.12:18080/nope", expect_status: 404}`,
      "  - name: port",
      `    tcp: {host: "${net}.12", port: 18080}`,
      "  - name: from-here",
      `    command: ["wget", "-q", "-O", "/dev/null", "http://${net}.12:18080/"]`,
      "  - name: not-on-node3",
      `    tcp: {host: "${net}.13", port: 18080}`,
      "    timeout_seconds: 5",
    ]);
    const applied = await cli(catalog, project, ["apply", "--module", "front"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const smoke = await cli(catalog, project, ["smoke", "front", "--json"]);
    const r = JSON.parse(smoke.stdout) as SmokeJson;
    expect(r.probes.map((p) => [p.name, p.kind, p.status])).toEqual([
      ["page", "http", "passed"],
      ["missing-page", "http", "passed"],
      ["port", "tcp", "passed"],
      ["from-here", "command", "passed"],
      // Host-mode publishing: only the node running a task listens.
      ["not-on-node3", "tcp", "failed"],
    ]);
    expect(smoke.code).toBe(1);
  });

  it("judges a service whose tasks keep failing unhealthy as a restart loop, quoting the task error with its exit code", async () => {
    const project = testProject("swh-churn");
    const catalog = aModule("crash", [
      "runtime:",
      "  expected_state: running",
      "  timeout_seconds: 10",
      "services:",
      "  crash:",
      `    image: ${TEST_IMAGE}`,
      '    command: ["sh", "-c", "echo boom >&2; exit 4"]',
      "    restart: always",
      "    stop_grace_period: 1s",
    ]);
    const applied = await cli(catalog, project, ["apply", "--module", "crash"]);
    expect(applied.code).toBe(1);
    const health = await cli(catalog, project, ["health", "--json"]);
    expect(health.code, health.stdout + health.stderr).toBe(1);
    const v = healthService(health.stdout, "crash", "crash");
    expect(v).toMatchObject({ state: "restarting", healthy: false });
    expect(v?.reason).toContain("restart loop");
    expect(v?.reason).toContain("task: non-zero exit (4)");
    const human = await cli(catalog, project, ["health"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain("non-zero exit (4)");
    // plan: the same service is drift quoting its tasks' error. Polled: between a task's start and its exit 4 the one
    // replica runs, and a plan taken at that instant rightly sees it running.
    await eventually(
      async () => {
        const plan = await cli(catalog, project, ["plan", "--json"]);
        const drift = (JSON.parse(plan.stdout) as { modules: { drift: { kind: string; observed: Record<string, unknown> }[] }[] })
          .modules[0]?.drift;
        expect(drift?.map((d) => d.kind)).toEqual(["container.state.not_running"]);
        expect(drift?.[0]?.observed).toMatchObject({ status: "restarting", desired_tasks: 1, running_tasks: 0 });
        expect(String(drift?.[0]?.observed.task_errors)).toContain("task: non-zero exit (4)");
      },
      { timeoutMs: 30_000 },
    );
  });

  it("judges a job that completed with exit 0 healthy, and a failed job unhealthy with its exit code", async () => {
    const project = testProject("swh-jobs");
    const job = (name: string, command: string) =>
      aModule(name, [
        "runtime:",
        "  expected_state: exited-success",
        "  timeout_seconds: 120",
        "services:",
        `  ${name}:`,
        `    image: ${TEST_IMAGE}`,
        `    command: ["sh", "-c", "${command}"]`,
        '    restart: "no"',
      ]);
    const ok = job("done", "echo migrated");
    expect((await cli(ok, project, ["apply", "--module", "done"])).code).toBe(0);
    const good = await cli(ok, project, ["health", "--json"]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(healthService(good.stdout, "done", "done")).toMatchObject({ state: "exited", exit_code: 0, healthy: true, reason: "exited 0" });
    const smokeOk = await cli(ok, project, ["smoke", "done"]);
    expect(smokeOk.code, smokeOk.stdout).toBe(0);

    const bad = job("broken", "echo failing >&2; exit 3");
    expect((await cli(bad, project, ["apply", "--module", "broken"])).code).toBe(1);
    const failed = await cli(bad, project, ["health", "--json"]);
    expect(failed.code).toBe(1);
    const v = healthService(failed.stdout, "broken", "broken");
    expect(v).toMatchObject({ state: "exited", exit_code: 3, healthy: false });
    expect(v?.reason).toContain("exited with code 3");
    const smokeBad = await cli(bad, project, ["smoke", "broken", "--json"]);
    expect(smokeBad.code).toBe(1);
    expect((JSON.parse(smokeBad.stdout) as SmokeJson).healthy).toBe(false);
  });
});
