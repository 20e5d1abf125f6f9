// apply of one-shots on the real engine: success and a no-op re-apply, failures by exit code, OOM, signal and timeout.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { startRecordingProxy } from "../helpers/recording-proxy.js";
import { useScenarios, expectAuditOutcomes, expectNoCanary, oneShot } from "./apply-scenario.js";

const scenario = useScenarios();

describe("apply of a one-shot", () => {
  it("runs a one-shot to exit 0, leaves the plan in sync, and a second apply changes nothing", async () => {
    // After a sub-millisecond exit dockerd can stamp FinishedAt before StartedAt; the `true` test below covers that.
    const s = await scenario("ok", { job: oneShot("job", '["sh", "-c", "echo migrated; sleep 0.2"]') });
    const first = await s.apply(["--module", "job"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const after = await s.container("job");
    expect(after.State).toMatchObject({ Status: "exited", ExitCode: 0, OOMKilled: false });
    expect((await s.plan(["--module", "job"])).modules[0]).toMatchObject({ name: "job", in_sync: true, actions: [] });

    const second = await s.apply(["--module", "job"]);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain("job: no changes");
    const again = await s.container("job");
    expect(again.Id).toBe(after.Id);
    expect(again.State.StartedAt).toBe(after.State.StartedAt);
    const runs = expectAuditOutcomes(await s.audit(), ["applied", "no-op"]);
    expect(runs[0]?.result.modules[0]?.actions.map((a) => [a.type, a.outcome, a.exit_code])).toEqual([
      ["create", "done", null],
      ["run-once", "done", 0],
    ]);
  });

  it("fails with exit 1 naming the exit code and the last log lines, with the secret masked everywhere", async () => {
    const command = '["sh", "-c", "echo token=$$TOKEN; echo half-way; exit 3"]';
    const s = await scenario("exit3", { job: oneShot("job", command, { more: "      environment:\n        TOKEN: ${APPLY_CANARY}\n" }) });
    const r = await s.apply(["--module", "job"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("one-shot job/job exited 3");
    expect(r.stdout).toContain("token=***");
    expect(r.stdout).toContain("half-way");
    const c = await s.container("job");
    expect(c.State).toMatchObject({ Status: "exited", ExitCode: 3 });

    const planFile = `${s.stateDir}/../plan.json`;
    const plan = await s.run("plan", ["--module", "job", "--out", planFile, "--json"]);
    const json = await s.apply(["--module", "job", "--json"]);
    expect(json.code).toBe(1);
    expectNoCanary(
      r.stdout,
      r.stderr,
      plan.stdout,
      plan.stderr,
      json.stdout,
      json.stderr,
      await readFile(planFile, "utf8"),
      await s.auditText(),
      JSON.stringify(c.Config.Labels),
    );
    const runs = expectAuditOutcomes(await s.audit(), ["failed", "failed"]);
    expect(runs[0]?.result.modules[0]?.actions.at(-1)).toMatchObject({ type: "run-once", outcome: "failed", exit_code: 3 });
  });

  it("never misses a one-shot that exits in under a millisecond (`true`), run after run", async () => {
    const s = await scenario("instant", { job: oneShot("job", '["true"]') });
    const first = await s.apply(["--module", "job"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    let started = (await s.container("job")).State.StartedAt;
    for (let i = 0; i < 4; i++) {
      const r = await s.apply(["--module", "job", "--rerun"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/run-once \S+ exit 0/);
      const c = await s.container("job");
      expect(c.State).toMatchObject({ Status: "exited", ExitCode: 0 });
      expect(c.State.StartedAt, "it ran again").not.toBe(started);
      started = c.State.StartedAt;
    }
    expectAuditOutcomes(await s.audit(), ["applied", "applied", "applied", "applied", "applied"]);
  });

  it("re-runs a one-shot from the observation its plan was gated on: one inspect (by name, beside the list) to observe, wait and start back to back, one inspect after", async () => {
    const s = await scenario("rerun-calls", { job: oneShot("job", '["true"]') });
    const first = await s.apply(["--module", "job"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const before = await s.container("job");
    const proxy = await startRecordingProxy();
    try {
      const r = await s.apply(["--module", "job", "--rerun"], { DOCKER_HOST: proxy.dockerHost });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const calls = proxy.requests.map((q) => `${q.method} ${q.url.split("?")[0]}`);
      // Observed: the service's own container read by its name while the engine lists (one round trip, not two);
      // after the run: one read by id. Nothing else is inspected, and plan and apply never list networks.
      expect(
        calls.filter((c) => /\/containers\/[^/]+\/json$/.test(c)),
        calls.join("\n"),
      ).toEqual([`GET /v1.41/containers/${before.Name.replace(/^\//, "")}/json`, `GET /v1.41/containers/${before.Id}/json`]);
      expect(calls.filter((c) => c.startsWith("GET /v1.41/containers/json"))).toHaveLength(1);
      expect(calls.filter((c) => c.startsWith("GET /v1.41/networks"))).toEqual([]);
      const wait = calls.indexOf(`POST /v1.41/containers/${before.Id}/wait`);
      expect(wait).toBeGreaterThan(0);
      expect(calls[wait + 1]).toBe(`POST /v1.41/containers/${before.Id}/start`);
      expect((await s.container("job")).State.StartedAt, "it ran again").not.toBe(before.State.StartedAt);
    } finally {
      await proxy.close();
    }
  });

  it("reads only the applied module's containers: another module of the project is listed but never inspected", async () => {
    const s = await scenario("rerun-scope", { job: oneShot("job", '["true"]'), other: oneShot("other", '["true"]') });
    const first = await s.apply(["--module", "job", "--module", "other"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const other = await s.container("other");
    const proxy = await startRecordingProxy();
    try {
      const r = await s.apply(["--module", "job", "--rerun"], { DOCKER_HOST: proxy.dockerHost });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const urls = proxy.requests.map((q) => q.url);
      expect(
        urls.filter((u) => u.includes(other.Id) || u.includes(other.Name.replace(/^\//, ""))),
        urls.join("\n"),
      ).toEqual([]);
      expect((await s.container("other")).State.StartedAt, "the other module did not run").toBe(other.State.StartedAt);
    } finally {
      await proxy.close();
    }
  });

  it("reports an OOM-killed one-shot as OOM, with exit 1", async () => {
    const s = await scenario("oom", {
      job: oneShot("job", '["sh", "-c", "x=a; while true; do x=$$x$$x; done"]', { more: "      mem_limit: 16m\n" }),
    });
    const r = await s.apply(["--module", "job"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("was OOM-killed");
    expect((await s.container("job")).State).toMatchObject({ Status: "exited", OOMKilled: true });
    const [run] = expectAuditOutcomes(await s.audit(), ["failed"]);
    expect(run?.result.modules[0]?.actions.at(-1)).toMatchObject({ type: "run-once", outcome: "failed", oom_killed: true });
  });

  it("reports a one-shot killed by SIGKILL (137) as killed, not as its own failure code", async () => {
    // PID 1 ignores a SIGKILL sent from inside its namespace, so a child shell kills itself and the parent exits with it.
    const s = await scenario("kill9", { job: oneShot("job", `["sh", "-c", "sh -c 'kill -9 $$$$'; exit $$?"]`) });
    const r = await s.apply(["--module", "job"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("was killed by signal 9 (exit 137)");
    expect((await s.container("job")).State).toMatchObject({ Status: "exited", ExitCode: 137, OOMKilled: false });
    expectAuditOutcomes(await s.audit(), ["failed"]);
  });

  it("stops a one-shot that outlives --timeout, keeps the container, and exits 1", async () => {
    const s = await scenario("hang", { job: oneShot("job", '["sleep", "1000"]') });
    const r = await s.apply(["--module", "job", "--timeout", "2"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("did not finish within 2s; it was stopped and kept for inspection");
    const c = await s.container("job");
    expect(c.State.Running).toBe(false);
    expect(c.State.Status).toBe("exited");
    const [run] = expectAuditOutcomes(await s.audit(), ["failed"]);
    expect(run?.result.modules[0]?.actions.at(-1)?.message).toContain("did not finish within 2s");
  });
});
