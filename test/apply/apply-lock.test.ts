// The apply lock and signals on the real engine: one apply per project at a time, --lock-wait, and SIGTERM mid-wait.
import { spawnSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { lockFile } from "../../src/state/lock.js";
import { aLockChild } from "../helpers/lock-processes.js";
import { useScenarios, expectAuditOutcomes, oneShot } from "./apply-scenario.js";
import { eventually } from "../helpers/eventually.js";

const scenario = useScenarios();
const children: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const kill of children.splice(0)) await kill();
});

describe("the apply lock", () => {
  it("lets exactly one of two applies started at once act; the other exits 4 saying an apply is already running", async () => {
    const s = await scenario("race", { job: oneShot("job", '["sleep", "3"]') });
    const [a, b] = await Promise.all([s.apply(["--module", "job"]), s.apply(["--module", "job"])]);
    const codes = [a.code, b.code].sort();
    expect(codes, a.stderr + b.stderr).toEqual([0, 4]);
    const loser = a.code === 4 ? a : b;
    expect(loser.stderr).toContain("apply already running");
    const containers = await s.containers();
    expect(containers).toHaveLength(1);
    expect(containers[0]?.State).toMatchObject({ Status: "exited", ExitCode: 0 });
    // Only the winner recorded an intent: the loser never got past the lock.
    expectAuditOutcomes(await s.audit(), ["applied"]);
    expect(await s.lockExists()).toBe(false);
  });

  it("with --lock-wait, waits for the running apply and then finds nothing to do", async () => {
    const s = await scenario("lockwait", { job: oneShot("job", '["sleep", "3"]') });
    const first = s.spawnApply(["--module", "job"]);
    await eventually(async () => expect(await s.lockExists()).toBe(true));
    const second = await s.apply(["--module", "job", "--lock-wait", "30s"]);
    const one = await first.done;
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain("job: no changes");
    const c = await s.container("job");
    expect(c.State).toMatchObject({ Status: "exited", ExitCode: 0 });
    expectAuditOutcomes(await s.audit(), ["applied", "no-op"]);
  });
});

describe("judging the lock's holder", () => {
  it("exits 4 while an apply in another PID namespace holds the lock, instead of calling it dead and taking over", async () => {
    const s = await scenario("pidns", { job: oneShot("job", '["true"]') });
    await mkdir(s.stateDir, { recursive: true });
    const holder = aLockChild(["hold", s.stateDir, s.project], ["unshare", "--pid", "--fork", "--mount-proc"]);
    children.push(() => holder.kill());
    expect(await holder.line("held")).toBe("held 1");
    const before = await readFile(lockFile(s.stateDir, s.project), "utf8");
    const r = await s.apply(["--module", "job"]);
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain("another PID namespace");
    expect(r.stderr).toContain("held until its lease runs out");
    expect(await readFile(lockFile(s.stateDir, s.project), "utf8")).toBe(before);
    expect(await s.containers()).toEqual([]);
  });

  it("does not take over a dead apply's lock when the engine that would say whether its one-shot runs cannot be reached", async () => {
    const s = await scenario("unreach", { job: oneShot("job", '["true"]') });
    await mkdir(s.stateDir, { recursive: true });
    const dead = {
      pid: spawnSync("true").pid as number,
      pid_start: "1",
      host: hostname(),
      user: "ci",
      command: "platformctl apply --module job",
      started_at: new Date(0).toISOString(),
      ci_run_url: null,
      project: s.project,
      one_shot: "4f3c2b1a",
    };
    await writeFile(lockFile(s.stateDir, s.project), JSON.stringify(dead));
    const r = await s.apply(["--module", "job"], { DOCKER_HOST: `unix://${s.stateDir}/no-engine.sock` });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain("whose one-shot 4f3c2b1a may still run: the engine cannot tell");
    expect(r.stderr).toContain("DOCKER_HOST");
    expect(JSON.parse(await readFile(lockFile(s.stateDir, s.project), "utf8"))).toEqual(dead);
  });
});

describe("signals", () => {
  it("on SIGTERM mid-wait exits 143, records interrupted, releases the lock and leaves the one-shot running", async () => {
    const s = await scenario("sigterm", { job: oneShot("job", '["sleep", "30"]'), quick: oneShot("quick", '["sh", "-c", "sleep 0.1"]') });
    const p = s.spawnApply(["--module", "job"]);
    const running = await eventually(async () => {
      const c = await s.container("job");
      expect(c.State.Running).toBe(true);
      return c;
    });
    process.kill(p.pid, "SIGTERM");
    const r = await p.done;
    expect(r.signal).toBeNull();
    expect(r.code, r.stdout + r.stderr).toBe(143);
    expect(r.stdout).toContain("apply interrupted");

    const [run] = expectAuditOutcomes(await s.audit(), ["interrupted"]);
    expect(run?.result.modules[0]?.actions.at(-1)).toMatchObject({ type: "run-once", outcome: "interrupted" });
    expect(await s.lockExists()).toBe(false);
    const c = await s.container("job");
    expect(c.Id).toBe(running.Id);
    expect(c.State.Running).toBe(true);
    expect(c.State.StartedAt).toBe(running.State.StartedAt);

    // The lock is free: another apply of the same project takes it and acts.
    const next = await s.apply(["--module", "quick"]);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect((await s.container("job")).State.StartedAt).toBe(running.State.StartedAt);
  });

  it("on SIGTERM while waiting for the lock exits 143 without acting", async () => {
    const s = await scenario("sigwait", { job: oneShot("job", '["sleep", "30"]') });
    const holder = s.spawnApply(["--module", "job"]);
    await eventually(async () => expect((await s.container("job")).State.Running).toBe(true));
    const waiter = s.spawnApply(["--module", "job", "--lock-wait", "5m"]);
    await eventually(() => expect(waiter.output().stderr).toContain("waiting for the apply lock"));
    process.kill(waiter.pid, "SIGTERM");
    const w = await waiter.done;
    expect(w.signal).toBeNull();
    expect(w.code, w.stdout + w.stderr).toBe(143);
    expect(w.stderr).toContain("interrupted by SIGTERM");
    process.kill(holder.pid, "SIGTERM");
    expect((await holder.done).code).toBe(143);
    expectAuditOutcomes(await s.audit(), ["interrupted"]);
  });
});
