// Waiting on containers, the one home of polling: the ACKed one-shot run, waiting for running/healthy or for an exit.
import { setTimeout as sleep } from "node:timers/promises";
import { startContainer, stopContainer } from "./actions.js";
import { classifyState } from "./classify-state.js";
import type { Engine } from "./connect.js";
import { MAX_JSON_REPLY_BYTES, openStream, readBody, seg } from "./dial.js";
import { EngineError, isEngineError, toEngineError } from "./errors.js";
import { inspectContainer } from "./inspect-container.js";
import type { ObservedContainer } from "../plan/observed-state.js";
import { int, nullish, object, readReply, str } from "./reply-shape.js";
import { waitQuery } from "./requests.js";
import type {
  OneShotOptions,
  OneShotResult,
  WaitForExitResult,
  WaitForStateOptions,
  WaitForStateOutcome,
  WaitForStateResult,
} from "../runtime/runtime.js";

export type { OneShotOptions, OneShotResult, WaitForExitResult, WaitForStateOptions, WaitForStateResult };

export type WaitCondition = "not-running" | "next-exit" | "removed";

/** The wait reply. StatusCode 0 is not success: a never-started or removed container also yields 0. */
export interface WaitReply {
  StatusCode: number;
  Error: { Message: string } | null;
}

const readWaitReply = object({ StatusCode: int, Error: nullish(object({ Message: str })) });

/**
 * Registers a wait and resolves once the engine has ACKed it (the 200 header, flushed after the waiter exists), so
 * a start issued afterwards cannot be missed however fast the container exits. `result` settles with the reply, or
 * rejects when the connection drops or `signal` aborts (it never hangs). Abort `signal` to release the waiter.
 */
export async function waitRegistered(
  engine: Engine,
  id: string,
  condition: WaitCondition,
  signal?: AbortSignal,
): Promise<{ result: Promise<WaitReply> }> {
  const req = {
    method: "POST",
    path: `/containers/${seg(id)}/wait`,
    query: waitQuery(condition),
    operation: "wait for container",
    target: id,
    signal,
  } as const;
  const res = await openStream(engine, req);
  // The reply comes when the container exits: no idle limit here, the caller's signal carries the module's timeout.
  const result = readBody(
    res,
    { operation: req.operation, target: id, endpoint: engine.endpoint },
    signal,
    null,
    MAX_JSON_REPLY_BYTES,
  ).then((body) => {
    const r = readReply(readWaitReply, JSON.parse(body.toString("utf8")), req.operation);
    return { StatusCode: r.StatusCode, Error: r.Error ?? null };
  });
  result.catch(() => undefined); // the caller may never read it (e.g. after a failed start)
  return { result };
}

const POLL_MS = 250;

/**
 * Runs a created (or exited) container once: ACKed `next-exit` wait, start, read the wait reply, then inspect as
 * the authority (before: `opts.before` when the caller has just read it, else one inspect). A lost wait connection falls back to polling inspect. On timeout the container is stopped with
 * `graceSeconds` and kept. With a restart policy this returns at the first exit. Throws `engine.aborted` when the
 * caller's signal fires (the container is left as it is), and `engine.not_found` when there is no such container.
 */
export async function runOneShot(engine: Engine, id: string, opts: OneShotOptions): Promise<OneShotResult> {
  const t0 = Date.now();
  const { signal } = opts;
  const before = opts.before ?? (await inspectContainer(engine, id, signal));
  if (!before) throw new EngineError({ kind: "not_found", operation: "run one-shot container", target: id, statusCode: 404 });
  const deadline = t0 + opts.timeoutMs;
  const waitEnd = new AbortController(); // ends the wait on timeout, on caller abort, and always at the end
  const timer = setTimeout(() => waitEnd.abort(), opts.timeoutMs);
  const onAbort = () => waitEnd.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  let waitLost = false;
  let startError: string | undefined;
  let alreadyRunning = false;
  try {
    const wait = await waitRegistered(engine, before.id, "next-exit", waitEnd.signal).catch((e: unknown) => {
      if (signal?.aborted || !waitEnd.signal.aborted) throw e;
      return undefined; // the deadline passed before the engine ACKed the wait: nothing was started
    });
    if (!wait) timedOut = true;
    else {
      try {
        // The caller's signal, not the deadline: a start cut half-way would leave us not knowing whether it ran.
        alreadyRunning = (await startContainer(engine, before.id, signal)) === "already-running";
      } catch (e) {
        if (isEngineError(e, "unreachable")) {
          // The connection dropped during the start: it may or may not have started. Poll, then let inspect
          // (`ranThisTime`) tell.
          waitLost = true;
        } else if (isEngineError(e, "bad_request", "server")) {
          // The runtime refused (missing binary, bad mount); inspect shows `created` with State.Error.
          startError = e.detail ?? e.message;
        } else throw e;
      }
      if (waitLost) timedOut = !(await pollUntilStopped(engine, before.id, deadline, signal));
      else if (startError === undefined) {
        try {
          await wait.result;
        } catch (e) {
          if (signal?.aborted) throw toEngineError(e, { operation: "run one-shot container", target: id }, signal);
          if (waitEnd.signal.aborted) timedOut = true;
          else {
            waitLost = true;
            timedOut = !(await pollUntilStopped(engine, before.id, deadline, signal));
          }
        }
      }
    }
    if (timedOut) await stopContainer(engine, before.id, opts.graceSeconds ?? 10, signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    waitEnd.abort();
  }
  let after = await inspectContainer(engine, before.id, signal);
  // After a lost start, the engine may still have been carrying it out while we polled (the container was `created`,
  // then started): a container found running now is waited for too, within the same deadline, so a run is never
  // reported as still running.
  if (waitLost && !timedOut && after?.running) {
    timedOut = !(await pollUntilStopped(engine, before.id, deadline, signal));
    if (timedOut) await stopContainer(engine, before.id, opts.graceSeconds ?? 10, signal);
    after = await inspectContainer(engine, before.id, signal);
  }
  after = await settleOomKilled(engine, after, signal);
  const durationMs = Date.now() - t0;
  if (!after)
    return {
      outcome: { kind: "vanished" },
      ranThisTime: false,
      timedOut,
      waitLost,
      exitCode: -1,
      oomKilled: false,
      startError,
      unit: null,
      durationMs,
    };
  return {
    outcome: classifyState(after),
    // Started by us: a unit someone else had started meanwhile changed its start time too, but that run is not ours.
    ranThisTime: !alreadyRunning && after.startedAt !== undefined && after.startedAt !== before.startedAt,
    timedOut,
    waitLost,
    alreadyRunning,
    exitCode: after.exitCode,
    oomKilled: after.oomKilled,
    startError: startError === undefined ? undefined : after.error || startError,
    unit: after,
    durationMs,
  };
}

/** How long after an exit 137 without OOMKilled the container is read once more. */
const OOM_SETTLE_MS = 500;

/**
 * A container that exited 137 (SIGKILL) with OOMKilled still false, read once more after OOM_SETTLE_MS: the engine
 * sets OOMKilled from the kernel's OOM event, which can arrive just after the exit a wait returned on, and an OOM kill
 * would otherwise be reported as a kill by signal 9. Any other state is returned as it is, and so is the first read
 * when the container has gone meanwhile.
 */
async function settleOomKilled(engine: Engine, c: ObservedContainer | null, signal?: AbortSignal): Promise<ObservedContainer | null> {
  if (!c || c.running || c.exitCode !== 137 || c.oomKilled) return c;
  await pause(OOM_SETTLE_MS, signal);
  return (await inspectContainer(engine, c.id, signal)) ?? c;
}

/** Polls inspect until the container is not running (true) or gone (true), or the deadline passes (false). */
async function pollUntilStopped(engine: Engine, id: string, deadline: number, signal?: AbortSignal): Promise<boolean> {
  while (Date.now() < deadline) {
    try {
      const c = await inspectContainer(engine, id, signal);
      if (!c?.running) return true;
    } catch (e) {
      if (!isEngineError(e, "unreachable")) throw e; // the daemon may be restarting: keep trying until the deadline
    }
    await pause(POLL_MS, signal);
  }
  return false;
}

/**
 * Polls inspect until a started container is `running` (or `healthy`), failing early on what cannot recover in
 * time: an exit, a restart (count rising above the first observation), an unhealthy report.
 */
export async function waitForState(
  engine: Engine,
  id: string,
  target: "running" | "healthy",
  opts: WaitForStateOptions,
): Promise<WaitForStateResult> {
  const t0 = Date.now();
  const done = (outcome: WaitForStateOutcome, unit: ObservedContainer | null): WaitForStateResult => ({
    outcome,
    unit,
    elapsedMs: Date.now() - t0,
  });
  let baseline: number | undefined;
  let last: ObservedContainer | null = null;
  let upSince: { startedAt: string | undefined; at: number } | undefined;
  for (;;) {
    const c = await inspectContainer(engine, id, opts.signal);
    if (!c) return done("vanished", null);
    last = c;
    baseline ??= c.restartCount;
    if (c.restartCount > baseline || c.status === "restarting") return done("restart-loop", c);
    if (c.status === "created") return done("never-started", c);
    if (!c.running) return done("exited", c);
    if (c.status === "running") {
      if (!upSince || upSince.startedAt !== c.startedAt) upSince = { startedAt: c.startedAt, at: Date.now() };
      if (target === "running") {
        if (Date.now() - upSince.at >= (opts.stableMs ?? 0)) return done("reached", c);
      } else if (c.health === undefined) return done("no-healthcheck", c);
      else if (c.health === "healthy") return done("reached", c);
      else if (c.health === "unhealthy") return done("unhealthy", c);
    }
    if (Date.now() - t0 >= opts.timeoutMs) return done("timed-out", last);
    await pause(Math.min(opts.intervalMs ?? POLL_MS, Math.max(1, t0 + opts.timeoutMs - Date.now())), opts.signal);
  }
}

/**
 * Polls inspect until a running container stops (`exited`), vanishes, or `timeoutMs` passes (`timed-out`; it is
 * left running). Never starts it. An unreachable engine is retried until the bound, as a daemon may be restarting.
 */
export async function waitForExit(
  engine: Engine,
  id: string,
  opts: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<WaitForExitResult> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: ObservedContainer | null = null;
  for (;;) {
    try {
      last = await inspectContainer(engine, id, opts.signal);
      if (!last) return { outcome: "vanished", unit: null };
      if (!last.running) return { outcome: "exited", unit: await settleOomKilled(engine, last, opts.signal) };
    } catch (e) {
      if (!isEngineError(e, "unreachable")) throw e;
    }
    if (Date.now() >= deadline) return { outcome: "timed-out", unit: last };
    await pause(Math.min(POLL_MS, Math.max(1, deadline - Date.now())), opts.signal);
  }
}

async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (e) {
    throw toEngineError(e, { operation: "wait for container" }, signal);
  }
}
