// Executes one approved module plan through the runtime, action by action, in plan order. Decides nothing new.
import type { Logger } from "pino";
import { stopGraceSeconds, type Module, type Service } from "../manifest/module.js";
import type { Action } from "../plan/plan.js";
import type { ObservedContainer } from "../plan/observed-state.js";
import { exitedSuccessfully } from "../plan/compute-plan.js";
import { composeLabels } from "../plan/adoption.js";
import { previousUnitName, replacementUnitName, unitName } from "../plan/unit-name.js";
import {
  isRuntimeError,
  type OneShotResult,
  type PreviousSpecLane,
  RUNNING_STABLE_MS,
  type Runtime,
  type UnitSpec,
} from "../runtime/runtime.js";
import { redact } from "../secrets/masker.js";
import { envFileDirs, moduleEnv, readEnvFiles } from "../secrets/env-files.js";
import { heldEnvNames, heldSecrets, type HeldValues } from "../secrets/module-secrets.js";
import { InternalError, PlatformError } from "../errors.js";
import { assertApproved, decisionOf, type ApprovedModulePlan } from "../gate/approve.js";
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
  log: Pick<Logger, "info" | "warn" | "error">;
  lock: LockHandle;
  /** Progress for the live display: a service, what it is doing, and the latest log line (already redacted). */
  progress: (service: string, text: string) => void;
  /**
   * The module's mask set, built up front (`readModuleSecrets`) so every action masks, not only a create; the values
   * an existing container holds are added before it is run, started or waited for (`maskHeld`), and a replaced unit's
   * before it is replaced: after a rotation they are the old values, which a maintenance rollback puts back and which
   * the new version may print from the data the old one wrote.
   */
  secrets: Set<string>;
  /** Writes the rollback's audit records: `intent` before its first mutation (throws: then nothing is rolled back). */
  rollbackAudit: RollbackAudit;
  /**
   * The observation this module's plan was gated on (read under the lock, nothing changed since) and the values its
   * units hold: the module's first action starts from it instead of reading its unit again. Undefined: read it.
   */
  seen?: SeenUnits | undefined;
  /**
   * Nothing follows this module's actions in the run but recording the result and releasing the lock (no later module
   * has actions). Its last one-shot then stays named in the lock: the release removes the lock a moment later, and a
   * crash in between leaves a stale lock naming an exited one-shot, which the next apply takes over after seeing it
   * is not running. (Not for the maintenance lane: removing the kept containers follows.)
   */
  lastInRun?: boolean | undefined;
}

/** Units as one observation read them, and the values each holds (by unit id; only for masking). */
export interface SeenUnits {
  containers: readonly ObservedContainer[];
  held: ReadonlyMap<string, HeldValues>;
}

/** The audit of an automatic rollback: its own intent, flushed before the first rollback mutation, and its result. */
export interface RollbackAudit {
  intent(services: readonly string[], reason: string): Promise<void>;
  result(outcome: "rolled_back" | "rollback_failed", records: readonly ActionRecord[], message: string): Promise<void>;
}

/**
 * What a maintenance apply kept of a replaced unit, by the runtime's `MaintenanceLane`: `renamed-unit`, the old
 * container (stopped, renamed to `previousUnitName`) with its id, whether it ran, and its successor's id;
 * `previous-spec`, the unit updated in place (its id), whose previous spec the runtime keeps.
 */
type Kept =
  | { keeps: "renamed-unit"; service: Service; name: string; previousId: string; wasRunning: boolean; nextId: string }
  | { keeps: "previous-spec"; service: Service; name: string; id: string };

/**
 * A maintenance apply failed and was rolled back (`apply.rolled_back`: the previous containers run again), or the
 * rollback failed too (`apply.rollback_failed`). `records` are every action's, the failed one and the rollback's.
 */
export class RolledBackError extends PlatformError {
  readonly records: ActionRecord[];
  readonly rolledBack: boolean;
  constructor(code: "apply.rolled_back" | "apply.rollback_failed", records: ActionRecord[], message: string, detail: string | undefined) {
    super(code, message, {
      detail,
      hint: "Rollback restores the container, not the data: if the new version already changed the data, restore the backup (`platformctl restore <module> --from <backup>`; runbooks/upgrade-stateful-module.md).",
    });
    this.records = records;
    this.rolledBack = code === "apply.rolled_back";
  }
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

/**
 * A maintenance apply interrupted (signal) after it replaced a unit: nothing is rolled back (the signal asks to stop),
 * and `kept` says, per unit, what is left and how to put the previous one back (runbooks/upgrade-stateful-module.md).
 */
export class InterruptedMaintenanceError extends ActionFailedError {
  readonly kept: readonly string[];
  constructor(e: ActionFailedError, kept: readonly string[]) {
    super(e.record, e.message, e.detail, e);
    this.kept = kept;
  }
}

/** What an interrupted maintenance apply leaves of one kept unit, by the lane that kept it. */
function keptText(ctx: ExecuteContext, k: Kept): string {
  const lane = ctx.runtime.maintenance;
  if (k.keeps === "previous-spec" && lane.keeps === "previous-spec") return lane.keptAfterInterrupt(k.name);
  if (k.keeps === "renamed-unit") return `the previous container of ${k.name} is kept, stopped, as ${previousUnitName(k.name)}`;
  throw new InternalError("a unit kept by its previous spec on a runtime that renames units");
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

/** What a service's unit is created (or updated) from; refuses a Compose project the apply does not run for. */
async function unitSpecFor(ctx: ExecuteContext, service: Service, keepLabels?: Record<string, string>): Promise<UnitSpec> {
  // Volumes and networks are named `<--project>_<name>`; under another Compose project a new container would get
  // fresh, empty ones beside Compose's instead of Compose's own.
  const composeProject = ctx.module.compose?.project;
  if (composeProject !== undefined && composeProject !== ctx.project)
    throw new PlatformError(
      "apply.compose_project",
      `${ctx.module.name}/${service.name}: spec.compose.project is "${composeProject}" but the apply runs for project "${ctx.project}"`,
      {
        detail: `A new container would mount ${ctx.project}_<volume>, not Compose's ${composeProject}_<volume>; nothing was created.`,
        hint: `Run with --project ${composeProject} (or PLATFORMCTL_PROJECT=${composeProject}).`,
      },
    );
  return {
    keepLabels,
    project: ctx.project,
    module: ctx.module,
    service,
    env: await moduleEnv(ctx.module, ctx.env),
    digestKey: ctx.digestKey,
    envFileValues: await readEnvFiles(ctx.module, service, envFileDirs(ctx.env)),
  };
}

const maskAll = (ctx: ExecuteContext) => (values: readonly string[]) => {
  for (const v of values) ctx.secrets.add(v);
};

/** Creates a service's unit (networks and volumes first) under `name`; returns its id. */
async function createFor(ctx: ExecuteContext, service: Service, name: string, keepLabels?: Record<string, string>): Promise<string> {
  const spec = await unitSpecFor(ctx, service, keepLabels);
  const created = await ctx.runtime.createUnit(spec, { name, signal: ctx.signal, onSecrets: maskAll(ctx) });
  return created.id;
}

/** Adds what an existing container holds for the manifest's references (it may predate a rotation) to the mask set. */
async function maskHeld(ctx: ExecuteContext, service: Service, target: string): Promise<void> {
  const held = await ctx.runtime.heldValues(target, ctx.signal);
  if (held) await addHeld(ctx, service, held);
}

/**
 * The unit `target` as last read, its held values added to the mask set first: from `ctx.seen` when it has both,
 * else one read that serves both (a runtime that cannot hand the values over is asked for them).
 */
async function readMasked(ctx: ExecuteContext, service: Service, target: string): Promise<ObservedContainer | null> {
  const seen = ctx.seen?.containers.find((c) => c.name === target || c.id === target);
  const seenHeld = seen && ctx.seen?.held.get(seen.id);
  if (seen && seenHeld) {
    await addHeld(ctx, service, seenHeld);
    return seen;
  }
  let held: HeldValues | undefined;
  const c = await ctx.runtime.inspectUnit(target, ctx.signal, (h) => {
    held = h;
  });
  const values = held ?? (await ctx.runtime.heldValues(c?.id ?? target, ctx.signal));
  if (values) await addHeld(ctx, service, values);
  return c;
}

async function addHeld(ctx: ExecuteContext, service: Service, held: HeldValues): Promise<void> {
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

/** What a failure says about a one-shot that outlived its timeout, by what the runtime did with it. */
const AFTER_TIMEOUT: Record<NonNullable<OneShotResult["afterTimeout"]>, string> = {
  stopped: "it was stopped and kept for inspection",
  parked:
    "its task was shut down and the job kept, parked on no node (Swarm cannot stop one task of a job; removing the service would leave the task running), until a later approved apply runs it again",
  "still-running": "platformctl asked for it to stop, but it still runs",
};

async function runOnce(ctx: ExecuteContext, service: Service, target: string, rec: ActionRecord): Promise<void> {
  const timeoutMs = (ctx.timeoutSeconds ?? ctx.module.timeoutSeconds) * 1000;
  const before = await readMasked(ctx, service, target);
  if (!before)
    throw new ActionFailedError(
      { ...rec, outcome: "failed" },
      `${service.name}: container ${target} vanished before it could run`,
      undefined,
    );
  await ctx.lock.setOneShot(before.id);
  ctx.progress(service.name, "running");
  const r = await ctx.runtime.runOneShot(before.id, { timeoutMs, signal: ctx.signal, graceSeconds: stopGraceSeconds(service), before });
  // The last change of the run leaves it named until the release (a lock write fewer): see `lastInRun`.
  if (!ctx.lastInRun) await ctx.lock.setOneShot(null);
  rec.exit_code = r.exitCode;
  rec.oom_killed = r.oomKilled;
  const ok = r.outcome.kind === "succeeded" && r.ranThisTime && r.unit !== null && ranToSuccess(r.unit);
  if (ok) return;
  const logs = await lastLines(ctx, before.id);
  const why = r.timedOut
    ? `did not finish within ${timeoutMs / 1000}s; ${AFTER_TIMEOUT[r.afterTimeout ?? "stopped"]}`
    : r.outcome.kind === "oom-killed"
      ? `was OOM-killed (exit ${r.exitCode}, OOMKilled=true)`
      : r.outcome.kind === "start-error"
        ? `failed to start: ${redact(r.startError ?? "", [...ctx.secrets])}`
        : r.outcome.kind === "vanished"
          ? "vanished while it ran (removed by someone else?)"
          : r.alreadyRunning && !r.ranThisTime
            ? "was already running when apply started it (started outside this apply); that run is not this apply's"
            : r.waitLost && !r.ranThisTime
              ? "lost contact with the engine and cannot prove the run happened"
              : r.outcome.kind === "killed"
                ? `was killed by signal ${r.outcome.signal} (exit ${r.exitCode}) from outside platformctl: docker stop/kill, or the engine stopping it in a shutdown or restart`
                : `exited ${r.exitCode}${r.oomKilled ? " (OOM-killed)" : ""}`;
  const lost =
    (r.waitLost && r.ranThisTime
      ? "; the connection to the engine dropped during the wait (engine restart?), the end was read from inspect"
      : "") + (r.note ? `; ${redact(r.note, [...ctx.secrets])}` : "");
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
  const r = await ctx.runtime.waitForState(c.id, want, { timeoutMs, signal: ctx.signal, stableMs: RUNNING_STABLE_MS });
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
    `one-shot ${ctx.module.name}/${service.name} ${c.exitCode === null ? "stopped with no exit code kept" : `exited ${c.exitCode}`}${c.oomKilled ? " (OOM-killed)" : ""}`,
    await lastLines(ctx, c.id),
  );
}

/**
 * The maintenance lane's recreate: the replacement is created first (a failed create changes nothing), then the old
 * container is stopped and kept as `<name>-previous`, and the replacement takes the name. The kept container is
 * registered before the replacement is renamed, so a failure from there on can be rolled back.
 */
async function recreateKeeping(
  ctx: ExecuteContext,
  service: Service,
  action: Action,
  canonical: string,
  kept: Map<string, Kept>,
): Promise<string> {
  const lane = ctx.runtime.maintenance;
  if (lane.keeps === "previous-spec") return updateKeeping(ctx, service, action, canonical, kept, lane);
  const old = action.container ? await readMasked(ctx, service, action.container) : null;
  const compose = old ? composeLabels(old.labels, action.cause) : {};
  const name = old && Object.keys(compose).length ? old.name : canonical;
  const previous = previousUnitName(name);
  const leftover = await ctx.runtime.inspectUnit(previous, ctx.signal);
  if (leftover) {
    throw new PlatformError(
      "apply.previous_exists",
      `${ctx.module.name}/${service.name}: container ${previous} from an earlier maintenance apply still exists`,
      {
        detail: "It may be the only good copy of the service, so it is never removed automatically; nothing was changed.",
        hint: `Inspect it (docker inspect ${previous}); remove it (docker rm ${previous}) once the running service is right, then plan again (runbooks/upgrade-stateful-module.md).`,
      },
    );
  }
  const next = replacementUnitName(name);
  const stray = await ctx.runtime.inspectUnit(next, ctx.signal);
  if (stray) await ctx.runtime.removeUnit(stray.id, { force: true, signal: ctx.signal });
  const id = await createFor(ctx, service, next, compose);
  if (old) {
    if (old.running) await ctx.runtime.stopUnit(old.id, stopGraceSeconds(service), ctx.signal);
    await ctx.runtime.renameUnit(old.id, previous, ctx.signal);
    kept.set(service.name, { keeps: "renamed-unit", service, name, previousId: old.id, wasRunning: old.running, nextId: id });
  }
  await ctx.runtime.renameUnit(id, name, ctx.signal);
  return name;
}

/**
 * The maintenance lane's recreate on a runtime that keeps the previous spec: the unit is updated in place (its old
 * tasks stop before the new ones start), registered as kept right before the update is sent. No unit yet: created.
 */
async function updateKeeping(
  ctx: ExecuteContext,
  service: Service,
  action: Action,
  canonical: string,
  kept: Map<string, Kept>,
  lane: PreviousSpecLane,
): Promise<string> {
  const old = action.container ? await readMasked(ctx, service, action.container) : null;
  if (!old) {
    await createFor(ctx, service, canonical);
    return canonical;
  }
  const spec = await unitSpecFor(ctx, service, composeLabels(old.labels));
  await lane.replaceKeepingPrevious(old.id, spec, {
    timeoutMs: (ctx.timeoutSeconds ?? ctx.module.timeoutSeconds) * 1000,
    signal: ctx.signal,
    onSecrets: maskAll(ctx),
    onKept: () => kept.set(service.name, { keeps: "previous-spec", service, name: old.name, id: old.id }),
  });
  return old.name;
}

/**
 * Puts one kept unit back. Renamed: removes its successor, renames it back, starts it when it ran, waits for it.
 * Previous spec: the runtime puts the spec back and waits for its tasks.
 */
async function restoreKept(ctx: ExecuteContext, k: Kept): Promise<ActionRecord> {
  const t0 = Date.now();
  const rec: ActionRecord = {
    type: "rollback",
    service: k.service.name,
    container: k.name,
    outcome: "done",
    exit_code: null,
    duration_ms: 0,
  };
  try {
    const lane = ctx.runtime.maintenance;
    if (k.keeps === "previous-spec") {
      if (lane.keeps !== "previous-spec") throw new InternalError("a unit kept by its previous spec on a runtime that renames units");
      ctx.progress(k.service.name, "rolling back to the previous spec");
      const timeoutMs = (ctx.timeoutSeconds ?? ctx.module.timeoutSeconds) * 1000;
      const r = await lane.rollBackToPrevious(k.id, { timeoutMs, signal: ctx.signal });
      if (r !== "reached" && r !== "nothing-kept") {
        rec.outcome = "failed";
        rec.message = `the previous spec was put back but does not run as before (${r})`;
      }
      rec.duration_ms = Date.now() - t0;
      return rec;
    }
    ctx.progress(k.service.name, "rolling back: removing the new container");
    // Stopped with its stop signal and grace first: a database killed outright would leave the data the previous
    // container starts on to crash recovery.
    if ((await ctx.runtime.inspectUnit(k.nextId, ctx.signal))?.running)
      await ctx.runtime.stopUnit(k.nextId, stopGraceSeconds(k.service), ctx.signal);
    await ctx.runtime.removeUnit(k.nextId, { force: true, signal: ctx.signal });
    await ctx.runtime.renameUnit(k.previousId, k.name, ctx.signal);
    if (k.wasRunning) {
      await ctx.runtime.startUnit(k.previousId, ctx.signal);
      const want = k.service.expectedState === "healthy" ? "healthy" : "running";
      ctx.progress(k.service.name, `rolling back: waiting until the previous container is ${want}`);
      const timeoutMs = (ctx.timeoutSeconds ?? ctx.module.timeoutSeconds) * 1000;
      const r = await ctx.runtime.waitForState(k.previousId, want, { timeoutMs, signal: ctx.signal, stableMs: RUNNING_STABLE_MS });
      if (r.outcome !== "reached") {
        rec.outcome = "failed";
        rec.message = `the previous container was started again but is not ${want} (${r.outcome})`;
      }
    }
  } catch (e) {
    rec.outcome = "failed";
    rec.message = redact(e instanceof Error ? e.message : String(e), [...ctx.secrets]);
  }
  rec.duration_ms = Date.now() - t0;
  return rec;
}

/**
 * Rolls a failed maintenance apply back: its own audit intent first, then every kept container is put back, then the
 * result is audited. Throws RolledBackError either way, carrying every record.
 */
async function rollBack(ctx: ExecuteContext, kept: Map<string, Kept>, failure: ActionFailedError, records: ActionRecord[]): Promise<never> {
  const services = [...kept.keys()];
  await ctx.rollbackAudit.intent(services, failure.message);
  const restored: ActionRecord[] = [];
  for (const k of kept.values()) restored.push(await restoreKept(ctx, k));
  const all = [...records, failure.record, ...restored];
  const ok = restored.every((r) => r.outcome === "done");
  const unit = ctx.runtime.maintenance.keeps === "renamed-unit" ? "container" : "version";
  const what = ok
    ? `rolled back: the previous ${unit}${services.length === 1 ? "" : "s"} of ${services.join(", ")} ${services.length === 1 ? "runs" : "run"} again`
    : `the rollback failed too: ${restored
        .filter((r) => r.outcome !== "done")
        .map((r) => `${r.service}: ${r.message ?? "failed"}`)
        .join("; ")}`;
  await ctx.rollbackAudit.result(ok ? "rolled_back" : "rollback_failed", restored, what);
  const message = `${failure.message}; ${what}`;
  throw ok
    ? new RolledBackError("apply.rolled_back", all, message, failure.detail)
    : new RolledBackError("apply.rollback_failed", all, message, failure.detail);
}

/** Runs one action; returns its record. Throws ActionFailedError (with the record) on failure. */
async function executeAction(ctx: ExecuteContext, action: Action, kept: Map<string, Kept> | undefined): Promise<ActionRecord> {
  if (action.type === "remove") return removeAction(ctx, action);
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
        ctx.progress(service.name, "recreating");
        if (kept) {
          rec.container = await recreateKeeping(ctx, service, action, name, kept);
          break;
        }
        // The replacement exists before the old container goes: a failed create leaves the old one untouched.
        const old = action.container ? await readMasked(ctx, service, action.container) : null;
        // A Compose-created container's replacement keeps its name and Compose labels (`docker compose ps` lists it).
        const compose = old ? composeLabels(old.labels, action.cause) : {};
        const target = old && Object.keys(compose).length ? old.name : name;
        const next = replacementUnitName(target);
        const stray = await ctx.runtime.inspectUnit(next, ctx.signal);
        if (stray) await ctx.runtime.removeUnit(stray.id, { force: true, signal: ctx.signal });
        const id = await createFor(ctx, service, next, compose);
        if (old) {
          if (old.running) await ctx.runtime.stopUnit(old.id, stopGraceSeconds(service), ctx.signal);
          await ctx.runtime.removeUnit(old.id, { force: true, signal: ctx.signal });
        }
        await ctx.runtime.renameUnit(id, target, ctx.signal);
        rec.container = target;
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
    }
  } catch (e) {
    throw actionFailure(ctx, rec, t0, e);
  }
  rec.duration_ms = Date.now() - t0;
  ctx.log.info({ module: ctx.module.name, action: rec }, "action done");
  return rec;
}

/**
 * Removes an orphaned or duplicate container (`--prune`). Its service may no longer be declared (that is what made it
 * an orphan), so the stop grace is the declared service's when there is one, else the default.
 */
async function removeAction(ctx: ExecuteContext, action: Action): Promise<ActionRecord> {
  const t0 = Date.now();
  const rec: ActionRecord = {
    type: "remove",
    service: action.service,
    container: action.container,
    outcome: "done",
    exit_code: null,
    duration_ms: 0,
  };
  const declared = ctx.module.services.find((x) => x.name === action.service);
  try {
    ctx.progress(action.service, "removing");
    if (action.container) {
      if ((await ctx.runtime.inspectUnit(action.container, ctx.signal))?.running)
        await ctx.runtime.stopUnit(action.container, stopGraceSeconds(declared ?? { stopGracePeriodSeconds: undefined }), ctx.signal);
      await ctx.runtime.removeUnit(action.container, { force: true, signal: ctx.signal });
    }
  } catch (e) {
    throw actionFailure(ctx, rec, t0, e);
  }
  rec.duration_ms = Date.now() - t0;
  ctx.log.info({ module: ctx.module.name, action: rec }, "action done");
  return rec;
}

/** The ActionFailedError for an action that threw: interrupted or failed, its message and detail masked. */
function actionFailure(ctx: ExecuteContext, rec: ActionRecord, t0: number, e: unknown): ActionFailedError {
  rec.duration_ms = Date.now() - t0;
  if (e instanceof ActionFailedError) return new ActionFailedError({ ...e.record, duration_ms: rec.duration_ms }, e.message, e.detail);
  const msg = e instanceof PlatformError ? e.message : String(e);
  if (ctx.signal.aborted || isRuntimeError(e, "aborted")) {
    const detail = e instanceof PlatformError && e.detail ? redact(e.detail, [...ctx.secrets]) : undefined;
    return new ActionFailedError({ ...rec, outcome: "interrupted" }, redact(msg, [...ctx.secrets]), detail, e);
  }
  return new ActionFailedError(
    { ...rec, outcome: "failed", message: redact(msg, [...ctx.secrets]) },
    redact(msg, [...ctx.secrets]),
    e instanceof PlatformError && e.detail ? redact(e.detail, [...ctx.secrets]) : undefined,
  );
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
  // The maintenance lane keeps each replaced container until its successor is healthy, and rolls back otherwise.
  const kept = decisionOf(plan).rule === "stateful-maintenance" ? new Map<string, Kept>() : undefined;
  const records: ActionRecord[] = [];
  for (const [i, action] of plan.actions.entries()) {
    let r: ActionRecord;
    try {
      // Once an action ran, what was observed may be stale (a recreate gives the name a new unit): read again.
      const last = ctx.lastInRun === true && kept === undefined && i === plan.actions.length - 1;
      r = await executeAction({ ...ctx, seen: i === 0 ? ctx.seen : undefined, lastInRun: last }, action, kept);
    } catch (e) {
      // Interrupted: units are left as they are (the previous ones kept), as for any interrupted apply; the error says
      // what was kept and how to put it back.
      if (kept !== undefined && kept.size > 0 && ctx.signal.aborted && e instanceof ActionFailedError)
        throw new InterruptedMaintenanceError(
          e,
          [...kept.values()].map((k) => keptText(ctx, k)),
        );
      if (kept === undefined || kept.size === 0 || !(e instanceof ActionFailedError) || ctx.signal.aborted) throw e;
      return await rollBack(ctx, kept, e, records);
    }
    records.push(r);
    done(r);
  }
  const lane = ctx.runtime.maintenance;
  for (const k of kept?.values() ?? []) {
    if (k.keeps === "previous-spec") {
      if (lane.keeps === "previous-spec") await lane.forgetPrevious(k.id, ctx.signal);
      continue;
    }
    ctx.progress(k.service.name, "removing the previous container");
    await ctx.runtime.removeUnit(k.previousId, { force: true, signal: ctx.signal });
  }
  return records;
}
