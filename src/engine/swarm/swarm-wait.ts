// Bounded waits on Swarm services and jobs, by polling tasks: Swarm has no server-side wait, and its CLI's job waiter has no failure exit.
import type { Engine } from "../connect.js";
import { EngineError } from "../errors.js";
import type { ObservedContainer } from "../../plan/observed-state.js";
import type { OneShotResult, WaitForExitResult, WaitForStateOutcome, WaitForStateResult } from "../../runtime/runtime.js";
import { judgeJob } from "./judge-job.js";
import { describeService, getService, isTerminal, listTasks, type SwarmService, type SwarmTask } from "./observe-swarm.js";

const POLL_MS = 250;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

function checkAborted(signal: AbortSignal | undefined, operation: string, target: string): void {
  if (signal?.aborted) throw new EngineError({ kind: "aborted", operation, target, errno: "ABORT_ERR" });
}

async function look(engine: Engine, ref: string, signal?: AbortSignal): Promise<{ s: SwarmService; tasks: SwarmTask[] } | null> {
  const s = await getService(engine, ref, signal);
  if (!s) return null;
  return { s, tasks: await listTasks(engine, s.ID, signal) };
}

/** A pending task the scheduler could not place carries its reason in `Err` (e.g. "no suitable node (…)"). */
const unschedulable = (t: SwarmTask): boolean => t.Status.State === "pending" && (t.Status.Err ?? "") !== "";

/**
 * Waits for job iteration `iteration` of service `ref` to end, within `timeoutMs`, with its own failure detection
 * (`judgeJob`): a `complete` task is success; `failed` (its container's exit code), `rejected`, `orphaned`,
 * `shutdown` or `remove` tasks of the iteration end the run as failed; a task the scheduler cannot place (a drained
 * node, an unsatisfiable constraint) ends it at once with the scheduler's message instead of waiting out the bound;
 * more than one task with a container is Swarm running the one-shot twice (moby#42741), never a success. A run that
 * outlives the bound is returned `timedOut` and left as it is (the caller decides how to stop it); when the iteration
 * never got a task at all, the result's `note` says the job reconciler may be stuck (moby#42742).
 */
export async function waitForJob(
  engine: Engine,
  ref: string,
  iteration: number,
  opts: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<OneShotResult> {
  const t0 = Date.now();
  let ran = false;
  for (;;) {
    checkAborted(opts.signal, "wait for job", ref);
    const seen = await look(engine, ref, opts.signal);
    if (!seen) return result("vanished", { unit: null, ranThisTime: ran, t0 });
    const unit = describeService(seen.s, seen.tasks);
    const v = judgeJob(seen.tasks, iteration);
    switch (v.kind) {
      case "succeeded":
        return result("succeeded", { unit, ranThisTime: true, t0 });
      case "failed":
        return result("failed", { unit, ranThisTime: true, t0, exitCode: v.exitCode });
      case "start-error":
        return result("start-error", { unit, ranThisTime: ran || v.ran, t0, exitCode: v.exitCode, error: v.error });
      case "unschedulable":
        return result("start-error", { unit, ranThisTime: false, t0, error: v.error });
      case "duplicated":
        return result("start-error", { unit, ranThisTime: true, t0, error: v.error });
      case "waiting":
        ran ||= v.ran;
        if (Date.now() - t0 >= opts.timeoutMs)
          return result("timed-out", {
            unit,
            ranThisTime: ran,
            t0,
            note:
              v.tasks === 0
                ? `Swarm created no task for job iteration ${iteration} in ${Math.round((Date.now() - t0) / 1000)} s: its job reconciliation may have stopped (moby#42742, Docker Engine 20.10; fixed in 24); see \`docker service ps ${seen.s.Spec.Name}\``
                : undefined,
          });
    }
    await sleep(POLL_MS, opts.signal);
  }
}

function result(
  kind: "succeeded" | "failed" | "start-error" | "vanished" | "timed-out",
  r: { unit: ObservedContainer | null; ranThisTime: boolean; t0: number; exitCode?: number; error?: string; note?: string | undefined },
): OneShotResult {
  const code = r.exitCode ?? 0;
  const outcome: OneShotResult["outcome"] =
    kind === "succeeded"
      ? { kind: "succeeded" }
      : kind === "failed"
        ? { kind: "failed", exitCode: code }
        : kind === "start-error"
          ? { kind: "start-error", exitCode: code, error: r.error ?? "" }
          : kind === "vanished"
            ? { kind: "vanished" }
            : { kind: "running" };
  return {
    outcome,
    ranThisTime: r.ranThisTime,
    timedOut: kind === "timed-out",
    waitLost: false,
    // A run stopped at its timeout is parked, which removes its task and the exit code with it: none is known.
    exitCode: kind === "timed-out" ? null : code,
    oomKilled: false,
    startError: kind === "start-error" ? r.error : undefined,
    unit: r.unit,
    durationMs: Date.now() - r.t0,
    note: r.note,
  };
}

/**
 * Waits until no task of service `ref` from an iteration before `iteration` still runs or is about to (a parked
 * job's earlier run being shut down: its task goes to `shutdown` or is removed with its container), within
 * `timeoutMs`. Returns the tasks still running at the bound (the nodes they run on), or none.
 */
export async function waitForEarlierIterationsStopped(
  engine: Engine,
  serviceId: string,
  iteration: number,
  opts: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<SwarmTask[]> {
  const t0 = Date.now();
  for (;;) {
    checkAborted(opts.signal, "wait for job task to stop", serviceId);
    const live = (await listTasks(engine, serviceId, opts.signal)).filter(
      (t) => (t.JobIteration?.Index ?? 0) < iteration && !isTerminal(t),
    );
    if (live.length === 0 || Date.now() - t0 >= opts.timeoutMs) return live;
    await sleep(POLL_MS, opts.signal);
  }
}

/**
 * Waits until service `ref` runs as many tasks as it wants (`healthy`: the same, since a Swarm task with a
 * healthcheck only reaches `running` once healthy), held for `stableMs`. Ends early on what will not recover in
 * time: a task the scheduler cannot place or a rejected task (`never-started`, with the message), tasks failing
 * after the wait began (`restart-loop`, or `exited` when the restart policy is none), no healthcheck for `healthy`.
 */
export async function waitForService(
  engine: Engine,
  ref: string,
  target: "running" | "healthy",
  opts: { timeoutMs: number; signal?: AbortSignal | undefined; intervalMs?: number | undefined; stableMs?: number | undefined },
): Promise<WaitForStateResult> {
  const t0 = Date.now();
  const began = new Date(t0 - 1000).toISOString();
  let reachedAt: number | undefined;
  const end = (outcome: WaitForStateOutcome, unit: ObservedContainer | null): WaitForStateResult => ({
    outcome,
    unit,
    elapsedMs: Date.now() - t0,
  });
  for (;;) {
    checkAborted(opts.signal, "wait for service", ref);
    const seen = await look(engine, ref, opts.signal);
    if (!seen) return end("vanished", null);
    const unit = describeService(seen.s, seen.tasks);
    if (target === "healthy" && (seen.s.Spec.TaskTemplate.ContainerSpec.Healthcheck?.Test ?? []).filter((x) => x !== "NONE").length === 0)
      return end("no-healthcheck", unit);
    const live = seen.tasks.filter((t) => t.DesiredState === "running");
    if (live.some((t) => unschedulable(t) || t.Status.State === "rejected")) return end("never-started", unit);
    const failedSince = seen.tasks.filter((t) => ["failed", "rejected"].includes(t.Status.State) && (t.UpdatedAt ?? t.CreatedAt) >= began);
    if (failedSince.length > 0) {
      const restarts = (seen.s.Spec.TaskTemplate as { RestartPolicy?: { Condition?: string } }).RestartPolicy?.Condition !== "none";
      return end(restarts ? "restart-loop" : "exited", unit);
    }
    if (unit.status === "running") {
      reachedAt ??= Date.now();
      if (Date.now() - reachedAt >= (opts.stableMs ?? 0)) return end("reached", unit);
    } else reachedAt = undefined;
    if (Date.now() - t0 >= opts.timeoutMs) return end("timed-out", unit);
    await sleep(opts.intervalMs ?? POLL_MS, opts.signal);
  }
}

/** Waits until service `ref` has no task running or about to run (a job someone else started); never starts one. */
export async function waitForNoTasks(
  engine: Engine,
  ref: string,
  opts: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<WaitForExitResult> {
  const t0 = Date.now();
  for (;;) {
    checkAborted(opts.signal, "wait for tasks", ref);
    const seen = await look(engine, ref, opts.signal);
    if (!seen) return { outcome: "vanished", unit: null };
    const unit = describeService(seen.s, seen.tasks);
    if (!seen.tasks.some((t) => !isTerminal(t) && t.DesiredState !== "shutdown")) return { outcome: "exited", unit };
    if (Date.now() - t0 >= opts.timeoutMs) return { outcome: "timed-out", unit };
    await sleep(POLL_MS, opts.signal);
  }
}
