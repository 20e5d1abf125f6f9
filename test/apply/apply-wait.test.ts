// apply of a one-shot already running when apply starts: it waits for the exit through the runtime, never runs it again.
import { describe, expect, it } from "vitest";
import { createAsPlatformctl } from "../helpers/platform.js";
import { docker, expectAuditOutcomes, oneShot, type Scenario, useScenarios } from "./apply-scenario.js";
import { eventually } from "../helpers/eventually.js";

const scenario = useScenarios();

/** A one-shot that runs until the test releases it (touches /tmp/go), then exits with `code`. */
const held = (code: number) => oneShot("job", `["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.2; done; exit ${code}"]`);

/** A one-shot that runs until released, then is OOM-killed by the kernel (mem_limit 16m, tail buffering /dev/zero). */
const heldThenOom = oneShot("job", '["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.2; done; exec tail /dev/zero"]', {
  more: "      mem_limit: 16m\n",
});

/** Starts the one-shot as platformctl would, runs apply, and releases the one-shot once apply planned (its intent is on disk). */
async function applyWhileRunning(s: Scenario) {
  const c = await createAsPlatformctl(docker, { project: s.project, dir: s.dir, module: "job", start: true });
  const startedAt = (await c.inspect()).State.StartedAt;
  const run = s.spawnApply(["--module", "job"]);
  await eventually(async () => expect((await s.audit()).some((r) => r.type === "intent")).toBe(true), { timeoutMs: 60_000 });
  await (await c.exec({ Cmd: ["touch", "/tmp/go"] })).start({ Detach: true });
  return { r: await run.done, startedAt };
}

describe("apply of a one-shot that is already running", () => {
  it("waits for it to exit 0 instead of starting it again, and records the wait with its exit code", async () => {
    const s = await scenario("wait-ok", { job: held(0) });
    const { r, startedAt } = await applyWhileRunning(s);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await s.container("job")).State).toMatchObject({ Status: "exited", ExitCode: 0, StartedAt: startedAt });
    const runs = expectAuditOutcomes(await s.audit(), ["applied"]);
    expect(runs[0]?.result.modules[0]?.actions.map((a) => [a.type, a.outcome, a.exit_code])).toEqual([["wait", "done", 0]]);
  });

  it("fails with exit 1 naming the exit code when the running one-shot exits non-zero, without running it again", async () => {
    const s = await scenario("wait-fail", { job: held(5) });
    const { r, startedAt } = await applyWhileRunning(s);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("one-shot job/job exited 5");
    expect((await s.container("job")).State).toMatchObject({ Status: "exited", ExitCode: 5, StartedAt: startedAt });
    const runs = expectAuditOutcomes(await s.audit(), ["failed"]);
    expect(runs[0]?.result.modules[0]?.actions.at(-1)).toMatchObject({ type: "wait", outcome: "failed", exit_code: 5 });
  });

  it("reports a running one-shot that the kernel OOM-kills as OOM-killed, not as killed by signal 9", async () => {
    const s = await scenario("wait-oom", { job: heldThenOom });
    const { r } = await applyWhileRunning(s);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain("one-shot job/job exited 137 (OOM-killed)");
    expect((await s.container("job")).State).toMatchObject({ Status: "exited", ExitCode: 137, OOMKilled: true });
    const runs = expectAuditOutcomes(await s.audit(), ["failed"]);
    expect(runs[0]?.result.modules[0]?.actions.at(-1)).toMatchObject({ type: "wait", outcome: "failed", exit_code: 137, oom_killed: true });
  });
});
