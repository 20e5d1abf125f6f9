// runOneShot (ACKed next-exit wait, start, inspect) and waitForState against the real engine.
import { describe, expect, it } from "vitest";
import { classifyState } from "../../src/engine/classify-state.js";
import { connectEngine } from "../../src/engine/connect.js";
import { EngineError } from "../../src/engine/errors.js";
import { inspectContainer } from "../../src/engine/inspect-container.js";
import { runOneShot, waitForState, waitRegistered } from "../../src/engine/wait.js";
import { aLabelledContainer, rawInspect, testEngine } from "../helpers/docker.js";
import { testProject } from "../helpers/run-id.js";
import { startRecordingProxy } from "../helpers/recording-proxy.js";
import { eventually } from "../helpers/eventually.js";

const engine = testEngine();
const oneShot = (service: string, cmd: string[], extra: Partial<Parameters<typeof aLabelledContainer>[1]> = {}) =>
  aLabelledContainer(engine, { project: testProject(`wait-${service}`), service, cmd, ...extra });

describe("runOneShot", () => {
  it("reports an exit 0 as succeeded and proves the container ran this time", async () => {
    const id = await oneShot("ok", ["sh", "-c", "echo done"]);
    const r = await runOneShot(engine, id, { timeoutMs: 20_000 });
    expect(r).toMatchObject({
      outcome: { kind: "succeeded" },
      ranThisTime: true,
      timedOut: false,
      waitLost: false,
      exitCode: 0,
      oomKilled: false,
      startError: undefined,
    });
    expect(r.unit?.status).toBe("exited");
  });

  it("reports exit 3 as failed with its code", async () => {
    const id = await oneShot("fail", ["sh", "-c", "exit 3"]);
    const r = await runOneShot(engine, id, { timeoutMs: 20_000 });
    expect(r).toMatchObject({ outcome: { kind: "failed", exitCode: 3 }, ranThisTime: true, timedOut: false, exitCode: 3 });
  });

  it("never misses the exit of `true`, which exits in under a millisecond, over 10 runs of the same container", async () => {
    const id = await oneShot("fast", ["true"]);
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await runOneShot(engine, id, { timeoutMs: 10_000 }));
    expect(results.map((r) => `${r.outcome.kind}/${r.ranThisTime}/${r.timedOut}`)).toEqual(Array(10).fill("succeeded/true/false"));
    const starts = new Set(results.map((r) => r.unit?.startedAt));
    expect(starts.size).toBe(10);
    const ms = results.map((r) => r.durationMs).sort((a, b) => a - b);
    console.info(`one-shot cycle for \`true\`: median ${ms[5]} ms, max ${ms[9]} ms`);
  });

  it("stops a container that outlives the timeout, keeps it, and reports timedOut (killed, not success)", async () => {
    const id = await oneShot("hang", ["sleep", "3600"]);
    // `sleep 3600` ending killed and timed out is the proof that the bound held (no wall-clock threshold: CI load varies).
    const r = await runOneShot(engine, id, { timeoutMs: 800, graceSeconds: 1 });
    expect(r).toMatchObject({ timedOut: true, ranThisTime: true, outcome: { kind: "killed", signal: 9, exitCode: 137 } });
    expect((await rawInspect(engine, id)).State.Status).toBe("exited");
  });

  it("reports a missing binary as a start error with the engine's message, not as a run", async () => {
    const id = await oneShot("badbin", ["/nonexistent"]);
    const r = await runOneShot(engine, id, { timeoutMs: 20_000 });
    expect(r.outcome.kind).toBe("start-error");
    expect(r).toMatchObject({ ranThisTime: false, timedOut: false, exitCode: 127 });
    expect(r.startError).toContain("/nonexistent");
    expect(r.unit?.status).toBe("created");
  });

  it("reports an OOM kill as oom-killed", async () => {
    const id = await oneShot("oom", ["tail", "/dev/zero"], { memory: 16 * 1024 * 1024 });
    const r = await runOneShot(engine, id, { timeoutMs: 20_000 });
    expect(r).toMatchObject({ outcome: { kind: "oom-killed" }, oomKilled: true, ranThisTime: true });
  });

  it("does not take the wait's status 0 for a never-started container as success", async () => {
    const id = await oneShot("never", ["true"]);
    const ac = new AbortController();
    try {
      const w = await waitRegistered(engine, id, "not-running", ac.signal);
      expect(await w.result).toEqual({ StatusCode: 0, Error: null });
    } finally {
      ac.abort();
    }
    const c = await inspectContainer(engine, id);
    expect(c && classifyState(c)).toEqual({ kind: "never-started" });
  });

  it("falls back to polling inspect when the wait connection drops, and still reports the real exit code", async () => {
    const id = await oneShot("drop", ["sh", "-c", "sleep 2; exit 5"]);
    const proxy = await startRecordingProxy();
    try {
      const run = runOneShot(connectEngine({ DOCKER_HOST: proxy.dockerHost }), id, { timeoutMs: 20_000 });
      await eventually(async () => expect((await rawInspect(engine, id)).State.Running).toBe(true), { intervalMs: 20 });
      await new Promise((r) => setTimeout(r, 300)); // let the start reply through; only the wait stays open
      const open = proxy.requests.map((r) => r.url.split("?")[0]?.split("/").at(-1));
      expect(open).toEqual(["json", "wait", "start"]);
      proxy.dropConnections();
      const r = await run;
      expect(r).toMatchObject({ waitLost: true, timedOut: false, ranThisTime: true, outcome: { kind: "failed", exitCode: 5 } });
      expect(r.durationMs).toBeGreaterThanOrEqual(2_000);
    } finally {
      await proxy.close();
    }
  });

  it("reports what really happened when the connection drops during the start", async () => {
    const id = await oneShot("dropstart", ["sh", "-c", "sleep 1; exit 4"]);
    const proxy = await startRecordingProxy();
    try {
      proxy.onRequest = (r) => {
        if (r.url.includes("/start")) setImmediate(() => proxy.dropConnections());
      };
      const r = await runOneShot(connectEngine({ DOCKER_HOST: proxy.dockerHost }), id, { timeoutMs: 20_000 });
      expect(r.waitLost).toBe(true);
      // Either the start reached the engine (it ran and failed with 4) or it did not (never started): never success.
      if (r.ranThisTime) expect(r.outcome).toEqual({ kind: "failed", exitCode: 4 });
      else expect(r.outcome).toEqual({ kind: "never-started" });
    } finally {
      await proxy.close();
    }
  });

  it("throws engine.aborted when the caller aborts, leaving the container running", async () => {
    const id = await oneShot("abort", ["sleep", "3600"]);
    const err = await runOneShot(engine, id, { timeoutMs: 20_000, signal: AbortSignal.timeout(700) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ kind: "aborted" });
    expect((await rawInspect(engine, id)).State.Running).toBe(true);
  });

  it("throws engine.not_found for a container that does not exist", async () => {
    await expect(runOneShot(engine, "platformctl-no-such-one-shot", { timeoutMs: 1_000 })).rejects.toMatchObject({ kind: "not_found" });
  });
});

describe("waitForState", () => {
  it("reaches running for a started container", async () => {
    const id = await oneShot("up", ["sleep", "3600"], { start: true });
    const r = await waitForState(engine, id, "running", { timeoutMs: 10_000 });
    expect(r.outcome).toBe("reached");
    expect(r.unit?.status).toBe("running");
  });

  it("reaches healthy once the healthcheck passes", async () => {
    const id = await oneShot("hc-ok", ["sleep", "3600"], { start: true, health: { shell: "exit 0" } });
    const r = await waitForState(engine, id, "healthy", { timeoutMs: 15_000 });
    expect(r.outcome).toBe("reached");
    expect(r.unit?.health).toBe("healthy");
  });

  it("fails early on unhealthy instead of waiting out the timeout", async () => {
    const id = await oneShot("hc-bad", ["sleep", "3600"], { start: true, health: { shell: "exit 1", retries: 1 } });
    const r = await waitForState(engine, id, "healthy", { timeoutMs: 30_000 });
    expect(r.outcome).toBe("unhealthy");
  });

  it("fails early on a restart loop when running must be stable", async () => {
    const id = await oneShot("loop", ["sh", "-c", "sleep 0.3; exit 2"], { start: true, restart: "always" });
    const r = await waitForState(engine, id, "running", { timeoutMs: 30_000, stableMs: 2_000 });
    expect(r.outcome).toBe("restart-loop");
  });

  it("reaches running only after the container stayed up for stableMs", async () => {
    const id = await oneShot("stable", ["sleep", "3600"], { start: true });
    const r = await waitForState(engine, id, "running", { timeoutMs: 10_000, stableMs: 600 });
    expect(r.outcome).toBe("reached");
    expect(r.elapsedMs).toBeGreaterThanOrEqual(600);
  });

  it("reports a container that exits while waited on as exited", async () => {
    const id = await oneShot("exits", ["sh", "-c", "exit 1"], { start: true });
    await eventually(async () => expect((await rawInspect(engine, id)).State.Status).toBe("exited"));
    expect((await waitForState(engine, id, "running", { timeoutMs: 5_000 })).outcome).toBe("exited");
  });

  it("reports no-healthcheck when asked for healthy on a container without one", async () => {
    const id = await oneShot("nohc", ["sleep", "3600"], { start: true });
    expect((await waitForState(engine, id, "healthy", { timeoutMs: 5_000 })).outcome).toBe("no-healthcheck");
  });

  it("times out while the healthcheck is still starting", async () => {
    const id = await oneShot("slowhc", ["sleep", "3600"], { start: true, health: { shell: "exit 0", intervalMs: 60_000 } });
    const r = await waitForState(engine, id, "healthy", { timeoutMs: 600 });
    expect(r.outcome).toBe("timed-out");
    expect(r.unit?.health).toBe("starting");
    expect(r.elapsedMs).toBeGreaterThanOrEqual(600);
  });

  it("reports never-started for a created container and vanished for a missing one", async () => {
    const id = await oneShot("created", ["true"]);
    expect((await waitForState(engine, id, "running", { timeoutMs: 5_000 })).outcome).toBe("never-started");
    expect((await waitForState(engine, "platformctl-no-such-container", "running", { timeoutMs: 5_000 })).outcome).toBe("vanished");
  });
});
