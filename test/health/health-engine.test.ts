// `platformctl health` against the real engine: every service state produced for real and read back through --json.
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, createAsPlatformctl, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { eventually } from "../helpers/eventually.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const docker = new Docker();
const CANARY = "health-canary-Zk4w9Qp1";

interface HealthJson {
  healthy: boolean;
  modules: {
    name: string;
    healthy: boolean;
    services: {
      name: string;
      expected_state: string;
      state: string;
      exit_code: number | null;
      health: string | null;
      healthy: boolean;
      reason: string;
    }[];
  }[];
  mounts: { code: string; path: string; message: string; remedy: string }[];
}

let catalog: Awaited<ReturnType<typeof aCatalog>>;

const svc = (name: string, lines: string[]) => [`    ${name}:`, `      image: ${TEST_IMAGE}`, ...lines.map((l) => `      ${l}`)].join("\n");

const HC_OK = manifest("hc-ok", {
  expected: "healthy",
  services: svc("hc-ok", [
    'command: ["sleep", "100000"]',
    'restart: "no"',
    "healthcheck:",
    '  test: ["CMD", "true"]',
    "  interval: 1s",
    "  retries: 1",
  ]),
});
// The first probe only runs after `interval`: the healthcheck stays `starting` for the whole test.
const HC_SLOW = manifest("hc-slow", {
  expected: "healthy",
  services: svc("hc-slow", [
    'command: ["sleep", "100000"]',
    'restart: "no"',
    "healthcheck:",
    '  test: ["CMD", "true"]',
    "  interval: 1h",
    "  start_period: 1h",
  ]),
}).replace("timeout_seconds: 30", "timeout_seconds: 2");
const HC_BAD = manifest("hc-bad", {
  expected: "healthy",
  services: svc("hc-bad", [
    'command: ["sleep", "100000"]',
    'restart: "no"',
    "environment:",
    "  TOKEN: ${HC_TOKEN}",
    "healthcheck:",
    '  test: ["CMD-SHELL", "echo db rejected token=$$TOKEN; exit 1"]',
    "  interval: 1s",
    "  retries: 1",
  ]),
});
const LOOP = manifest("loop", { services: svc("loop", ['command: ["sh", "-c", "sleep 0.3; exit 1"]', "restart: on-failure"]) });
// Crashes every ~4 s: at almost every moment it is running, which two samples 1 s apart alone mistake for healthy.
const CRASH = manifest("crash", { services: svc("crash", ['command: ["sh", "-c", "sleep 4; exit 1"]', "restart: on-failure"]) });
const RUN = manifest("run", { services: svc("run", ['command: ["sleep", "100000"]', 'restart: "no"']) });
// The sleep keeps the run longer than dockerd's start bookkeeping: a process that exits within ~1 ms can get
// FinishedAt < StartedAt, which the planner's strict exitedSuccessfully() rejects (see judge-health.test.ts).
const JOB = manifest("job", {
  expected: "exited-success",
  services: svc("job", [
    'command: ["sh", "-c", "sleep 0.2; exit $$JOB_EXIT"]',
    "environment:",
    "  JOB_EXIT: ${JOB_EXIT:-0}",
    'restart: "no"',
  ]),
});
const OOM = manifest("oom", {
  expected: "exited-success",
  // tail buffers a line of /dev/zero that never ends: the kernel's OOM killer, never the shell's own allocation failure.
  services: svc("oom", ['command: ["tail", "/dev/zero"]', "mem_limit: 16m", 'restart: "no"']),
});

async function health(
  project: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ json: HealthJson; code: number; ms: number; raw: string }> {
  const r = await runCli(["--project", project, "--modules-dir", catalog.dir, "health", "--json", ...args], { HC_TOKEN: CANARY, ...env });
  if (r.stderr) throw new Error(`health wrote to stderr: ${r.stderr}`);
  expect(r.stdout).not.toContain(CANARY);
  return { json: JSON.parse(r.stdout) as HealthJson, code: r.code, ms: r.ms, raw: r.stdout };
}

const serviceOf = (j: HealthJson, module: string) => j.modules.find((m) => m.name === module)?.services[0];

beforeAll(async () => {
  catalog = await aCatalog();
  for (const [name, yaml] of Object.entries({
    "hc-ok": HC_OK,
    "hc-slow": HC_SLOW,
    "hc-bad": HC_BAD,
    loop: LOOP,
    crash: CRASH,
    run: RUN,
    job: JOB,
    oom: OOM,
  }))
    await catalog.write(name, yaml);
});

afterAll(async () => {
  await catalog.remove();
});

describe("health against the real engine", () => {
  it("reports a service whose healthcheck passes as healthy (waiting for it with --wait), exit 0", async () => {
    const p = testProject("hc-ok");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "hc-ok", start: true });
    const r = await health(p, ["-m", "hc-ok", "--wait"]);
    expect(r.code).toBe(0);
    expect(r.json.healthy).toBe(true);
    expect(r.json.modules).toEqual([
      {
        name: "hc-ok",
        healthy: true,
        services: [
          {
            name: "hc-ok",
            expected_state: "healthy",
            state: "healthy",
            exit_code: null,
            health: "healthy",
            healthy: true,
            reason: "healthcheck healthy",
          },
        ],
      },
    ]);
    expect(r.json.mounts).toEqual([]);
  });

  it("reports a healthcheck still starting as state starting, exit 1; --wait waits for it only up to timeout_seconds", async () => {
    const p = testProject("hc-slow");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "hc-slow", start: true });
    const now = await health(p, ["-m", "hc-slow"]);
    expect(now.code).toBe(1);
    expect(serviceOf(now.json, "hc-slow")).toMatchObject({
      state: "starting",
      health: "starting",
      healthy: false,
      reason: "healthcheck still starting",
    });

    const waited = await health(p, ["-m", "hc-slow", "--wait"]);
    expect(waited.code).toBe(1);
    expect(waited.ms).toBeGreaterThanOrEqual(2000);
    expect(serviceOf(waited.json, "hc-slow")?.reason).toBe("healthcheck still starting after waiting 2 s (timeout_seconds)");
  });

  it("reports an unhealthy healthcheck with its last probe output, the secret in it masked", async () => {
    const p = testProject("hc-bad");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "hc-bad", env: { HC_TOKEN: CANARY }, start: true });
    await eventually(async () => expect((await c.inspect()).State.Health?.Status).toBe("unhealthy"));
    const r = await health(p, ["-m", "hc-bad"]);
    expect(r.code).toBe(1);
    expect(serviceOf(r.json, "hc-bad")).toMatchObject({ state: "unhealthy", health: "unhealthy", healthy: false });
    expect(serviceOf(r.json, "hc-bad")?.reason).toBe("healthcheck reports unhealthy; last probe exited 1: db rejected token=***");
  });

  it("reports a restart loop (restart: on-failure, exit 1) as state restarting even when momentarily running", async () => {
    const p = testProject("loop");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "loop", start: true });
    await eventually(async () => expect((await c.inspect()).RestartCount).toBeGreaterThanOrEqual(1));
    const r = await health(p, ["-m", "loop"]);
    expect(r.code).toBe(1);
    expect(serviceOf(r.json, "loop")).toMatchObject({ state: "restarting", healthy: false });
    // 1 while waiting to restart; null when caught running again (the engine then reports exit code 0)
    expect([1, null]).toContain(serviceOf(r.json, "loop")?.exit_code);
    expect(serviceOf(r.json, "loop")?.reason).toContain("restart loop");
  });

  it("reports a service crashing every 4 s as a restart loop on every run, each checked while it runs again after a restart", async () => {
    const p = testProject("crash");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "crash", start: true });
    let seen = 0;
    for (let round = 1; round <= 3; round++) {
      // Deterministic: wait for the next restart to have happened and the container to run again, then judge it.
      seen = await eventually(
        async () => {
          const s = (await c.inspect()).State as { Status: string };
          const n = (await c.inspect()).RestartCount;
          expect(n).toBeGreaterThan(seen);
          expect(s.Status).toBe("running");
          return n;
        },
        { timeoutMs: 30_000 },
      );
      const r = await health(p, ["-m", "crash"]);
      expect(r.code).toBe(1);
      expect(serviceOf(r.json, "crash")).toMatchObject({ state: "restarting", healthy: false });
      expect(serviceOf(r.json, "crash")?.reason).toContain("restart loop");
    }
    expect(seen).toBeGreaterThanOrEqual(3);
  });

  it("reports a running service healthy and a missing one unhealthy, in one report", async () => {
    const p = testProject("run");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "run", start: true });
    const r = await health(p, ["-m", "run", "-m", "hc-ok"]);
    expect(r.code).toBe(1);
    expect(r.json.modules.map((m) => [m.name, m.healthy])).toEqual([
      ["hc-ok", false],
      ["run", true],
    ]);
    expect(serviceOf(r.json, "run")).toMatchObject({ state: "running", healthy: true });
    expect(serviceOf(r.json, "hc-ok")).toMatchObject({ state: "missing", exit_code: null, health: null, healthy: false });
  });

  it("reports a one-shot that exited 0 as healthy, exit 0", async () => {
    const p = testProject("job0");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "job", start: true });
    await c.wait();
    const r = await health(p, ["-m", "job"]);
    expect(r.code).toBe(0);
    expect(serviceOf(r.json, "job")).toMatchObject({
      expected_state: "exited-success",
      state: "exited",
      exit_code: 0,
      healthy: true,
      reason: "exited 0",
    });
  });

  it("reports a one-shot that exited 3 as unhealthy with its exit code", async () => {
    const p = testProject("job3");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "job", env: { JOB_EXIT: "3" }, start: true });
    await c.wait();
    const r = await health(p, ["-m", "job"]);
    expect(r.code).toBe(1);
    expect(serviceOf(r.json, "job")).toMatchObject({
      state: "exited",
      exit_code: 3,
      healthy: false,
      reason: "exited with code 3 (a one-shot must exit 0)",
    });
  });

  it("reports an OOM-killed one-shot (mem_limit 16m, tail /dev/zero) as unhealthy", async () => {
    const p = testProject("oom");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "oom", start: true });
    await c.wait();
    // The engine records the OOM kill from its own event, which can land just after the exit the wait returned on.
    await eventually(async () => expect((await c.inspect()).State.OOMKilled).toBe(true));
    const r = await health(p, ["-m", "oom"]);
    expect(r.code).toBe(1);
    expect(serviceOf(r.json, "oom")).toMatchObject({ state: "oom-killed", exit_code: 137, healthy: false });
    expect(serviceOf(r.json, "oom")?.reason).toContain("OOM-killed");
  });

  it("reports a one-shot that was created but never started as unhealthy", async () => {
    const p = testProject("jobnew");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "job" });
    const r = await health(p, ["-m", "job"]);
    expect(r.code).toBe(1);
    expect(serviceOf(r.json, "job")).toMatchObject({
      state: "never-started",
      exit_code: null,
      healthy: false,
      reason: "created but never started",
    });
  });

  it("prints a readable report without --json, naming what is wrong", async () => {
    const p = testProject("text");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "run", start: true });
    const r = await runCli(["--project", p, "--modules-dir", catalog.dir, "health", "-m", "run", "-m", "job"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^run {2}healthy$/m);
    expect(r.stdout).toMatch(/^job {2}UNHEALTHY$/m);
    expect(r.stdout).toContain("FAIL job  missing");
    expect(r.stdout).toContain("unhealthy: job");
  });

  it("refuses an unknown module with a usage error, exit 1", async () => {
    const r = await runCli(["--project", testProject("unknown"), "--modules-dir", catalog.dir, "health", "-m", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown module: nope");
  });
});
