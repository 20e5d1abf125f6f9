// Executes one approved module plan through the runtime, action by action, in plan order. Decides nothing new.
import type { Logger } from "pino";
import type { Module, Service } from "../manifest/module.js";
import type { Action } from "../plan/plan.js";
import type { ObservedContainer } from "../plan/observed-state.js";
import { exitedSuccessfully } from "../plan/compute-plan.js";
import { replacementUnitName, unitName } from "../plan/unit-name.js";
import { isRuntimeError, type Runtime } from "../runtime/runtime.js";
import { redact } from "../secrets/masker.js";
import { envFileDirs, readEnvFiles } from "../secrets/env-files.js";
import { heldEnvNames, heldSecrets } from "../secrets/module-secrets.js";
import { InternalError, PlatformError } from "../errors.js";
import { assertApproved, type ApprovedModulePlan } from "../gate/approve.js";
import type { ActionRecord } from "../state/audit.js";
import type { LockHandle } from "../state/lock.js";

export interface ExecuteContext {
  runtime: Runtime;
  project: string;
  module: Module;
  env: Readonly<Record<string, string | undefined>>;
  digestKey: Uint8Array;
  /** Overrides the module's timeout_seconds. */
  timeoutSeconds: number | undefined;
  signal: AbortSignal;
  log: Logger;
  lock: LockHandle;
  /** Progress for the live display: a service, what it is doing, and the latest log line (already redacted). */
  progress: (service: string, text: string) => void;
  /**
   * The module's mask set, built up front (`readModuleSecrets`) so every action masks, not only a create; the values
   * an existing container holds are added before it is run, started or waited for (`maskHeld`).
   */
  secrets: Set<string>;
}

/** An action that failed or was interrupted; `record` is what the audit log and the result show for it. */
export class ActionFailedError extends PlatformError {
  readonly record: ActionRecord;
  constructor(record: ActionRecord, message: string, detail: string | undefined, cause?: unknown) {
    super("apply.action_failed", message, {
      detail,
      hint: "See runbooks/ for the situation; the container is kept for inspection.",
      cause,
    });
    this.record = record;
  }
}

const LOG_LINES_ON_FAILURE = 50;

/** The last lines of a container's output, every secret masked. */
async function lastLines(ctx: ExecuteContext, id: string, n = LOG_LINES_ON_FAILURE): Promise<string> {
  const lines = await ctx.runtime.tailLogs(id, n).catch(() => []); // logs only decorate a failure already being reported
  return redact(lines.map((l) => `${l.stream === "stderr" ? "! " : "  "}${l.text}`).join("\n"), [...ctx.secrets]);
}

function serviceOf(ctx: ExecuteContext, name: string): Service {
  const s = ctx.module.services.find((x) => x.name === name);
  if (!s) throw new InternalError(`plan names service ${name} which module ${ctx.module.name} does not declare`);
  return s;
}

/** Creates a service's unit (networks and volumes first) under `name`; returns its id. */
async function createFor(ctx: ExecuteContext, service: Service, name: string): Promise<string> {
  const spec = {
    project: ctx.project,
    module: ctx.module,
    service,
    env: ctx.env,
    digestKey: ctx.digestKey,
    envFileValues: await readEnvFiles(ctx.module, service, envFileDirs(ctx.env)),
  };
  const onSecrets = (values: readonly string[]) => {
    for (const v of values) ctx.secrets.add(v);
  };
  const created = await ctx.runtime.createUnit(spec, { name, signal: ctx.signal, onSecrets });
  return created.id;
}

/** Adds what an existing container holds for the manifest's references (it may predate a rotation) to the mask set. */
async function maskHeld(ctx: ExecuteContext, service: Service, target: string): Promise<void> {
  const held = await ctx.runtime.heldValues(target, ctx.signal);
  if (!held) return;
  const fileKeys = Object.keys(await readEnvFiles(ctx.module, service, envFileDirs(ctx.env)).catch(() => heldEnvNames(held))); // unreadable: mask every undeclared variable
  for (const v of heldSecrets(service, held, fileKeys)) ctx.secrets.add(v);
}

const canonicalName = (ctx: ExecuteContext, service: string) => unitName(ctx.project, ctx.module.name, service);

/**
 * Success of a run apply itself started and saw end (`ranThisTime`): exited 0, not OOM-killed, no start error. Unlike
 * the planner's `exitedSuccessfully` it does not require FinishedAt >= StartedAt: for a process that exits within
 * about a millisecond, dockerd stamps StartedAt after containerd's exit time (measured on 20.10: `true` showed
 * FinishedAt < StartedAt in 5 runs of 10), and that run still happened and succeeded.
 */
const ranToSuccess = (c: ObservedContainer): boolean =>
  c.status === "exited" && c.exitCode === 0 && !c.oomKilled && c.error === "" && c.startedAt !== undefined;

async function runOnce(ctx: ExecuteContext, service: Service, target: string, rec: ActionRecord): Promise<void> {
  const timeoutMs = (ctx.timeoutSeconds ?? ctx.module.timeoutSeconds) * 1000;
  await maskHeld(ctx, service, target);
  const before = await ctx.runtime.inspectUnit(target, ctx.signal);
  if (!before)
    throw new ActionFailedError(
      { ...rec, outcome: "failed" },
      `${service.name}: container ${target} vanished before it could run`,
      undefined,
    );
  await ctx.lock.setOneShot(before.id);
  ctx.progress(service.name, "running");
  const r = await ctx.runtime.runOneShot(before.id, { timeoutMs, signal: ctx.signal, graceSeconds: service.stopGracePeriodSeconds ?? 10 });
  await ctx.lock.setOneShot(null);
  rec.exit_code = r.exitCode;
  rec.oom_killed = r.oomKilled;
  const ok = r.outcome.kind === "succeeded" && r.ranThisTime && r.unit !== null && ranToSuccess(r.unit);
  if (ok) return;
  const logs = await lastLines(ctx, before.id);
  const why = r.timedOut
    ? `did not finish within ${timeoutMs / 1000}s; it was stopped and kept for inspection`
    : r.outcome.kind === "oom-killed"
      ? `was OOM-killed (exit ${r.exitCode}, OOMKilled=true)`
      : r.outcome.kind === "start-error"
        ? `failed to start: ${redact(r.startError ?? "", [...ctx.secrets])}`
        : r.outcome.kind === "vanished"
          ? "vanished while it ran (removed by someone else?)"
          : r.waitLost && !r.ranThisTime
            ? "lost contact with the engine and cannot prove the run happened"
            : r.outcome.kind === "killed"
              ? `was killed by signal ${r.outcome.signal} (exit ${r.exitCode}) from outside platformctl: docker stop/kill, or the engine stopping it in a shutdown or restart`
              : `exited ${r.exitCode}${r.oomKilled ? " (OOM-killed)" : ""}`;
  const lost =
    r.waitLost && r.ranThisTime
      ? "; the connection to the engine dropped during the wait (engine restart?), the end was read from inspect"
      : "";
  throw new ActionFailedError(
    { ...rec, outcome: "failed", message: why + lost },
    `one-shot ${ctx.module.name}/${service.name} ${why}${lost}`,
    logs ? `last ${LOG_LINES_ON_FAILURE} log lines:\n${logs}` : undefined,
  );
}

async function startAndWait(ctx: ExecuteContext, service: Service, target: string, rec: ActionRecord): Promise<void> {
  const timeoutMs = (ctx.timeoutSeconds ?? ctx.module.timeoutSeconds) * 1000;
  await maskHeld(ctx, service, target);
  const c = await ctx.runtime.inspectUnit(target, ctx.signal);
  if (!c) throw new ActionFailedError({ ...rec, outcome: "failed" }, `${service.name}: container ${target} vanished`, undefined);
  if (c.status === "paused")
    throw new ActionFailedError(
      { ...rec, outcome: "failed" },
      `${service.name}: container ${c.name} is paused`,
      "Unpause it (docker unpause) or let apply recreate it after a manifest change.",
    );
  await ctx.runtime.startUnit(c.id, ctx.signal);
  const want = service.expectedState === "healthy" ? "healthy" : "running";
  ctx.progress(service.name, `waiting until ${want}`);
  const r = await ctx.runtime.waitForState(c.id, want, { timeoutMs, signal: ctx.signal, stableMs: 1000 });
  if (r.outcome === "reached") return;
  const logs = await lastLines(ctx, c.id, 20);
  const why = {
    "timed-out": `was not ${want} within ${timeoutMs / 1000}s`,
    exited: `exited (code ${r.unit?.exitCode ?? "?"}) instead of running`,
    "restart-loop": `is in a restart loop (restart count ${r.unit?.restartCount ?? "?"})`,
    unhealthy: `reports unhealthy${
      r.unit?.healthLog.length
        ? `: ${redact(r.unit.healthLog.at(-1)?.output ?? "", [...ctx.secrets])
            .trim()
            .slice(0, 500)}`
        : ""
    }`,
    "no-healthcheck": "is expected healthy but has no healthcheck",
    "never-started": `did not start${r.unit?.error ? `: ${redact(r.unit.error, [...ctx.secrets])}` : ""}`,
    vanished: "vanished while starting",
    reached: "",
  }[r.outcome];
  throw new ActionFailedError(
    { ...rec, outcome: "failed", exit_code: r.unit?.exitCode ?? null, message: why },
    `${ctx.module.name}/${service.name} ${why}`,
    logs ? `last log lines:\n${logs}` : undefined,
  );
}

async function waitFor(ctx: ExecuteContext, service: Service, action: Action, rec: ActionRecord): Promise<void> {
  const target = action.container ?? canonicalName(ctx, service.name);
  const timeoutMs = (ctx.timeoutSeconds ?? ctx.module.timeoutSeconds) * 1000;
  await maskHeld(ctx, service, target);
  if (action.cause === "health.starting") {
    const r = await ctx.runtime.waitForState(target, "healthy", { timeoutMs, signal: ctx.signal });
    if (r.outcome !== "reached")
      throw new ActionFailedError(
        { ...rec, outcome: "failed", message: r.outcome },
        `${ctx.module.name}/${service.name} did not become healthy (${r.outcome})`,
        await lastLines(ctx, target, 20),
      );
    return;
  }
  // A one-shot already running: wait for its exit, never start it again.
  ctx.progress(service.name, "waiting for the running one-shot");
  const r = await ctx.runtime.waitForExit(target, { timeoutMs, signal: ctx.signal });
  const c = r.unit;
  if (r.outcome === "vanished" || !c)
    throw new ActionFailedError({ ...rec, outcome: "failed" }, `${service.name}: container ${target} vanished while running`, undefined);
  if (r.outcome === "timed-out")
    throw new ActionFailedError(
      { ...rec, outcome: "failed" },
      `one-shot ${ctx.module.name}/${service.name} still running after ${timeoutMs / 1000}s (left running)`,
      undefined,
    );
  rec.exit_code = c.exitCode;
  rec.oom_killed = c.oomKilled;
  if (exitedSuccessfully(c)) return;
  throw new ActionFailedError(
    { ...rec, outcome: "failed" },
    `one-shot ${ctx.module.name}/${service.name} exited ${c.exitCode}${c.oomKilled ? " (OOM-killed)" : ""}`,
    await lastLines(ctx, c.id),
  );
}

/** Runs one action; returns its record. Throws ActionFailedError (with the record) on failure. */
async function executeAction(ctx: ExecuteContext, action: Action): Promise<ActionRecord> {
  const t0 = Date.now();
  const service = serviceOf(ctx, action.service);
  const rec: ActionRecord = {
    type: action.type,
    service: action.service,
    container: action.container,
    outcome: "done",
    exit_code: null,
    duration_ms: 0,
  };
  const name = canonicalName(ctx, service.name);
  try {
    switch (action.type) {
      case "create":
        ctx.progress(service.name, "creating");
        rec.container = name;
        await createFor(ctx, service, name);
        break;
      case "recreate": {
        // The replacement exists before the old container goes: a failed create leaves the old one untouched.
        ctx.progress(service.name, "recreating");
        const old = action.container ? await ctx.runtime.inspectUnit(action.container, ctx.signal) : null;
        const next = replacementUnitName(name);
        const stray = await ctx.runtime.inspectUnit(next, ctx.signal);
        if (stray) await ctx.runtime.removeUnit(stray.id, { force: true, signal: ctx.signal });
        const id = await createFor(ctx, service, next);
        if (old) {
          if (old.running) await ctx.runtime.stopUnit(old.id, service.stopGracePeriodSeconds ?? 10, ctx.signal);
          await ctx.runtime.removeUnit(old.id, { force: true, signal: ctx.signal });
        }
        await ctx.runtime.renameUnit(id, name, ctx.signal);
        rec.container = name;
        break;
      }
      case "start":
        await startAndWait(ctx, service, action.container ?? name, rec);
        break;
      case "run-once":
        await runOnce(ctx, service, action.container ?? name, rec);
        break;
      case "wait":
        await waitFor(ctx, service, action, rec);
        break;
      case "remove":
        ctx.progress(service.name, "removing");
        if (action.container) await ctx.runtime.removeUnit(action.container, { force: true, signal: ctx.signal });
        break;
    }
  } catch (e) {
    rec.duration_ms = Date.now() - t0;
    if (e instanceof ActionFailedError) throw new ActionFailedError({ ...e.record, duration_ms: rec.duration_ms }, e.message, e.detail);
    const msg = e instanceof PlatformError ? e.message : String(e);
    if (ctx.signal.aborted || isRuntimeError(e, "aborted")) {
      const detail = e instanceof PlatformError && e.detail ? redact(e.detail, [...ctx.secrets]) : undefined;
      throw new ActionFailedError({ ...rec, outcome: "interrupted" }, redact(msg, [...ctx.secrets]), detail, e);
    }
    throw new ActionFailedError(
      { ...rec, outcome: "failed", message: redact(msg, [...ctx.secrets]) },
      redact(msg, [...ctx.secrets]),
      e instanceof PlatformError && e.detail ? redact(e.detail, [...ctx.secrets]) : undefined,
    );
  }
  rec.duration_ms = Date.now() - t0;
  ctx.log.info({ module: ctx.module.name, action: rec }, "action done");
  return rec;
}

/**
 * Executes every action of an approved module plan, in order; stops at the first failure (the error carries the
 * records so far). Only plans that passed `approve` get here: the brand is checked again at run time.
 */
export async function executeModule(
  ctx: ExecuteContext,
  plan: ApprovedModulePlan,
  done: (r: ActionRecord) => void,
): Promise<ActionRecord[]> {
  assertApproved(plan);
  const records: ActionRecord[] = [];
  for (const action of plan.actions) {
    const r = await executeAction(ctx, action);
    records.push(r);
    done(r);
  }
  return records;
}
