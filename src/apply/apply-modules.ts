// apply, a dumb executor: lock -> plan -> gate -> intent -> execute -> record, carrying out decisions made upstream.
import os from "node:os";
import type { Logger } from "pino";
import type { Module } from "../manifest/module.js";
import { computePlan } from "../plan/compute-plan.js";
import type { ModulePlan, Plan } from "../plan/plan.js";
import type { DependencyReadiness } from "../plan/dependency-readiness.js";
import type { Clock } from "../clock.js";
import type { Runtime } from "../runtime/runtime.js";
import { computeLivePlan, type LivePlan } from "../live-plan/compute-live-plan.js";
import { readModuleSecrets, type HeldValues } from "../secrets/module-secrets.js";
import type { Decision, DispatchInputs } from "../policy/policy.js";
import { PlatformError } from "../errors.js";
import { ensureDigestKey, ensureStateDir } from "../state/state-dir.js";
import { actorFrom, appendAudit, newAuditId, type ActionRecord, type Actor } from "../state/audit.js";
import { readAuditSummary, summaryUnfinished, type AuditSummary } from "../state/audit-summary.js";
import { acquireLock, describeHolder, type LockHandle } from "../state/lock.js";
import { decide, type PolicyContext } from "../gate/decide.js";
import { approve, decisionOf, PolicyBlockedError, type ApprovedModulePlan } from "../gate/approve.js";
import {
  ActionFailedError,
  executeModule,
  InterruptedMaintenanceError,
  RolledBackError,
  type RollbackAudit,
  type SeenUnits,
} from "./execute-module.js";

/** `rolled_back`: a maintenance apply failed and its previous containers run again (exit 1, like `failed`). */
export type ApplyOutcome = "applied" | "no-op" | "failed" | "rolled_back" | "blocked" | "interrupted";

export interface ModuleResult {
  module: string;
  outcome: ApplyOutcome;
  actions: ActionRecord[];
  decision: Decision | undefined;
  message: string | undefined;
  detail: string | undefined;
}

export interface ApplyResult {
  outcome: ApplyOutcome;
  audit_id: string;
  modules: ModuleResult[];
}

export interface ApplyRequest {
  runtime: Runtime;
  project: string;
  catalog: Module[];
  /** Modules to apply, any order (applied in dependency order). */
  modules: string[];
  env: Readonly<Record<string, string | undefined>>;
  stateDir: string;
  inputs: DispatchInputs;
  maxBackupAgeSeconds: number;
  timeoutSeconds: number | undefined;
  lockWaitMs: number;
  /** A saved plan (apply --plan, read by loadSavedPlan): refused with exit 5 unless it still matches the live state. */
  savedPlan: Plan | undefined;
  /** The working directory (relative bind sources and STATE_DIR in the plan's mount warnings). */
  cwd: string;
  clock: Clock;
  prune: boolean;
  command: string;
  signal: AbortSignal;
  /** Only the methods apply uses, so the CLI can hand over a logger that loads pino on its first line. */
  log: Pick<Logger, "info" | "warn" | "error">;
  progress: (module: string, service: string, text: string) => void;
  actionDone: (module: string, r: ActionRecord) => void;
}

export class StalePlanError extends PlatformError {
  constructor(detail: string) {
    super("plan.stale", "stale plan: the live state no longer matches the saved plan; nothing was changed", {
      detail,
      hint: "Run `platformctl plan --out plan.json` again, review it, and apply the new plan (runbooks/stale-plan.md).",
    });
  }
}

/** What one apply run works with, fixed when it starts. */
interface Run {
  req: ApplyRequest;
  stateDir: string;
  key: Uint8Array;
  /** The requested modules in dependency order. */
  order: string[];
  actor: Actor;
  host: string;
  user: string;
  auditId: string;
  /** The audit summary's write, overlapping the plan; settled before the lock is released (never rejects). */
  summarySaved?: Promise<void>;
}

/** The plan a run carries out, and the gate's decision for each of its modules. */
interface Gated {
  live: LivePlan;
  /** The values the observed units hold. */
  held: Map<string, HeldValues>;
  decisions: Map<string, Decision>;
  /** Why the saved plan (apply --plan) may not be executed; undefined when there is none or it still matches. */
  stale: string | undefined;
}

/** A live plan and the values its observed units hold (by unit id; only for masking). */
interface Seen {
  live: LivePlan;
  held: Map<string, HeldValues>;
}

const livePlan = async (run: Run): Promise<Seen> => {
  const held = new Map<string, HeldValues>();
  const live = await computeLivePlan({
    runtime: run.req.runtime,
    project: run.req.project,
    catalog: run.req.catalog,
    selected: run.order,
    env: run.req.env,
    cwd: run.req.cwd,
    digestKey: run.key,
    prune: run.req.prune,
    rerun: Boolean(run.req.inputs.rerun),
    clock: run.req.clock,
    signal: run.req.signal,
    onHeld: (id, h) => held.set(id, h),
    onlyPlanned: true,
  });
  return { live, held };
};

const now = (run: Run): string => run.req.clock.now().toISOString();

/**
 * Why a saved plan may not be executed, or undefined when it still matches the live state. A match is the same
 * fingerprint; or, for a plan made while STATE_DIR had no digest key yet (`plan` never creates it, apply does), the
 * fingerprint computed without the resolved-value digests together with exactly the same actions, so a changed
 * `${VAR}` value that the reviewed plan could not show still makes it stale.
 */
function stalePlanProblem(run: Run, saved: Plan, live: LivePlan): string | undefined {
  const { plan } = live;
  const savedNames = saved.modules.map((m) => m.name).sort();
  if (saved.project !== run.req.project) return `the plan was made for project ${saved.project}, not ${run.req.project}`;
  if (savedNames.join() !== [...run.order].sort().join())
    return `the plan covers ${savedNames.join(", ")}; this apply covers ${run.order.join(", ")}`;
  if (saved.fingerprint === plan.fingerprint) return undefined;
  const actions = (p: Pick<Plan, "modules">) =>
    JSON.stringify(p.modules.map((m) => [m.name, m.actions.map((a) => [a.type, a.service, a.container, a.cause])]));
  const keyless = computePlan({ ...live.inputs, secretDigests: {}, adoptedValueDigests: {} });
  if (saved.fingerprint === keyless.fingerprint && actions(saved) === actions(plan)) return undefined;
  return `fingerprint then ${saved.fingerprint.slice(0, 19)}…, now ${plan.fingerprint.slice(0, 19)}…`;
}

/** Orders the requested modules so dependencies come first (the catalog is already in dependency order). */
export function applyOrder(catalog: readonly Module[], requested: readonly string[]): string[] {
  const want = new Set(requested);
  return catalog.filter((m) => want.has(m.name)).map((m) => m.name);
}

async function openRun(req: ApplyRequest): Promise<Run> {
  const stateDir = await ensureStateDir(req.stateDir);
  const { key } = await ensureDigestKey(stateDir);
  const user = os.userInfo().username;
  const host = os.hostname();
  return {
    req,
    stateDir,
    key,
    order: applyOrder(req.catalog, req.modules),
    actor: actorFrom(req.env, user, host),
    host,
    user,
    auditId: newAuditId(req.clock.now()),
  };
}

/** Step 1, lock: one apply per project at a time (exit 4 when held). */
function lockRun(run: Run): Promise<LockHandle> {
  const { req } = run;
  const holder = { user: run.user, command: req.command, ci_run_url: run.actor.ci.run_url ?? null, project: req.project };
  return acquireLock(run.stateDir, holder, {
    waitMs: req.lockWaitMs,
    // An engine error propagates: "cannot tell" must never read as "not running" (the lock then stays held).
    oneShotRunning: async (id) => (await req.runtime.inspectUnit(id, req.signal))?.running ?? false,
    onTakeover: (t) => req.log.warn(t, `took over a stale apply lock: ${t.reason}`),
    onLost: (current) =>
      req.log.error({ current }, "the apply lock is no longer ours (unlock --force, or the lease ran out); the next change will stop"),
    onWait: (holder) =>
      req.log.warn({ holder: describeHolder(holder), wait_ms: req.lockWaitMs }, "waiting for the apply lock held by another apply"),
    signal: req.signal,
    now: () => req.clock.now().getTime(),
  });
}

/** Marks intents an earlier, crashed apply left without a result; returns the audit log's summary as read. */
async function reconcileUnfinished(run: Run): Promise<AuditSummary> {
  const { summary, saved } = await readAuditSummary(run.stateDir, { deferSave: true });
  run.summarySaved = saved;
  // Only this project's: the lock is per project, so another project's open intent may be an apply running right now.
  for (const open of summaryUnfinished(summary).filter((p) => p.project === run.req.project)) {
    run.req.log.warn(
      { intent: open.id, modules: open.modules, time: open.time },
      "an earlier apply left an intent record without a result (crashed or killed); reconciling",
    );
    const note = `found unfinished by ${run.auditId}; its effects are what the next plan observes`;
    await appendAudit(run.stateDir, { type: "reconciled", id: newAuditId(run.req.clock.now()), time: now(run), intent_id: open.id, note });
  }
  return summary;
}

/** Steps 2 and 3, plan and gate: a fresh live plan, the stale check for a saved plan, a decision for every module. */
async function planAndGate(run: Run, audit: AuditSummary): Promise<Gated> {
  const { req } = run;
  const { live, held } = await livePlan(run);
  const stale = req.savedPlan === undefined ? undefined : stalePlanProblem(run, req.savedPlan, live);
  const ctx: PolicyContext = {
    env: req.env,
    stateDir: run.stateDir,
    project: req.project,
    inputs: req.inputs,
    maxBackupAgeSeconds: req.maxBackupAgeSeconds,
    audit,
    now: req.clock.now(),
    catalog: req.catalog,
    savedPlan: req.savedPlan === undefined ? undefined : { generatedAt: req.savedPlan.generated_at },
  };
  const decisions = new Map<string, Decision>();
  for (const mp of live.plan.modules) {
    const m = req.catalog.find((x) => x.name === mp.name);
    if (m) decisions.set(m.name, await decide(ctx, m, mp, live.observed, live.dependencies.get(m.name) ?? []));
  }
  return { live, held, decisions, stale };
}

/** Step 4, intent: flushed to disk before the first mutation. If it cannot be written, nothing happens. */
async function recordIntent(run: Run, gated: Gated): Promise<void> {
  const { req } = run;
  const i = req.inputs;
  await appendAudit(run.stateDir, {
    type: "intent",
    id: run.auditId,
    time: now(run),
    project: req.project,
    command: req.command,
    modules: run.order,
    actor: run.actor,
    plan_fingerprint: gated.live.plan.fingerprint,
    inputs: {
      allow_stateful: i.allowStateful,
      backup_ref: i.backupRef ?? null,
      confirm_given: i.confirm !== undefined,
      bootstrap: i.bootstrap,
      rerun: Boolean(i.rerun),
      maintenance: Boolean(i.maintenance),
    },
    decisions: [...gated.decisions.values()].map((d) => ({
      module: d.module,
      eligible: d.eligible,
      rule: d.rule,
      reasons: d.reasons.map((r) => r.code),
    })),
  });
}

/**
 * Carries out the gate's answer: a stale saved plan is refused (exit 5); any blocked module blocks the whole run
 * (exit 3, recorded as `blocked`); otherwise every module plan is approved for execution.
 */
async function approveAll(run: Run, gated: Gated): Promise<Map<string, ApprovedModulePlan>> {
  if (gated.stale !== undefined) throw new StalePlanError(gated.stale);
  const blocked = [...gated.decisions.values()].filter((d) => !d.eligible);
  if (blocked.length) {
    const modules = run.order.map((name) => ({
      module: name,
      outcome: blocked.some((d) => d.module === name) ? "blocked" : "no-op",
      actions: [],
    }));
    await appendAudit(run.stateDir, { type: "result", id: run.auditId, time: now(run), outcome: "blocked", modules });
    throw new PolicyBlockedError(blocked[0] as Decision);
  }
  return new Map(gated.live.plan.modules.map((mp) => [mp.name, approve(mp, gated.decisions.get(mp.name) as Decision)]));
}

const shape = (mp: ModulePlan) => JSON.stringify(mp.actions.map((a) => [a.type, a.service]));
const notReady = (deps: readonly DependencyReadiness[]) =>
  deps.filter((d) => d.readiness === "not-ready").map((d) => `${d.module} (${d.problems.join("; ")})`);

/**
 * The module plan to execute now. After an earlier module changed things the live state is planned again, and it must
 * come out as what was gated: the same actions, and no dependency outside the run gone unready meanwhile. Otherwise
 * the run stops (exit 5): apply decides nothing new.
 */
async function currentPlan(
  run: Run,
  name: string,
  approved: ApprovedModulePlan,
  gated: Gated,
  replan: boolean,
): Promise<{ plan: ApprovedModulePlan; seen: SeenUnits }> {
  if (!replan) return { plan: approved, seen: { containers: gated.live.observed.containers, held: gated.held } };
  const { live, held } = await livePlan(run);
  const mp = live.plan.modules.find((x) => x.name === name) as ModulePlan;
  if (shape(mp) !== shape(approved)) throw new StalePlanError(`${name}: its plan changed while earlier modules were applied`);
  const down = notReady(live.dependencies.get(name) ?? []);
  if (down.length)
    throw new StalePlanError(`${name}: a dependency stopped being ready while earlier modules were applied: ${down.join(", ")}`);
  return { plan: approve(mp, decisionOf(approved)), seen: { containers: live.observed.containers, held } };
}

/** Step 5, execute: every approved module plan in dependency order; stops at the first failure. */
async function executeAll(
  run: Run,
  gated: Gated,
  approved: Map<string, ApprovedModulePlan>,
  lock: LockHandle,
  results: ModuleResult[],
): Promise<void> {
  const { req } = run;
  let changed = false;
  for (const [index, name] of run.order.entries()) {
    const m = req.catalog.find((x) => x.name === name) as Module;
    const mine = approved.get(name) as ApprovedModulePlan;
    const decision = decisionOf(mine);
    if (mine.actions.length === 0) {
      results.push({ module: name, outcome: "no-op", actions: [], decision, message: "no changes", detail: undefined });
      continue;
    }
    const { plan, seen } = await currentPlan(run, name, mine, gated, changed);
    const records: ActionRecord[] = [];
    const ctx = {
      runtime: req.runtime,
      project: req.project,
      module: m,
      env: req.env,
      digestKey: run.key,
      timeoutSeconds: req.timeoutSeconds,
      signal: req.signal,
      log: req.log,
      lock,
      progress: (s: string, t: string) => req.progress(name, s, t),
      secrets: new Set(await readModuleSecrets(m, req.env)),
      rollbackAudit: rollbackAudit(run, name),
      seen,
      lastInRun: run.order.slice(index + 1).every((n) => approved.get(n)?.actions.length === 0),
    };
    changed = true;
    try {
      await executeModule(ctx, plan, (r) => {
        records.push(r);
        req.actionDone(name, r);
      });
      results.push({ module: name, outcome: "applied", actions: records, decision, message: undefined, detail: undefined });
    } catch (e) {
      if (e instanceof RolledBackError) {
        results.push({
          module: name,
          outcome: e.rolledBack ? "rolled_back" : "failed",
          actions: e.records,
          decision,
          message: `${e.message}. ${restoreAdvice(name, req.inputs.backupRef)}`,
          detail: e.detail,
        });
        return;
      }
      const interrupted = req.signal.aborted;
      const rec = e instanceof ActionFailedError ? e.record : undefined;
      if (rec) records.push(interrupted ? { ...rec, outcome: "interrupted" } : rec);
      const kept = e instanceof InterruptedMaintenanceError ? `; ${e.kept.join("; ")} (runbooks/upgrade-stateful-module.md)` : "";
      const message = interrupted
        ? `interrupted by a signal; containers are left as they are${kept}`
        : e instanceof Error
          ? e.message
          : String(e);
      results.push({
        module: name,
        outcome: interrupted ? "interrupted" : "failed",
        actions: records,
        decision,
        message,
        detail: e instanceof PlatformError ? e.detail : undefined,
      });
      return;
    }
  }
}

/** What to do about the data after a rollback: the container is back, the data is as the new version left it. */
const restoreAdvice = (module: string, backupRef: string | undefined): string =>
  `Rollback restores the container, not the data: if the new version already changed the data, restore the backup: platformctl restore ${module} --from ${backupRef ?? "<backup>"} (runbooks/upgrade-stateful-module.md)`;

/** The audit of a maintenance rollback in module `module`: its own intent before it mutates, then its result. */
function rollbackAudit(run: Run, module: string): RollbackAudit {
  const id = newAuditId(run.req.clock.now());
  return {
    intent: (services, reason) =>
      appendAudit(run.stateDir, {
        type: "rollback-intent",
        id,
        time: now(run),
        intent_id: run.auditId,
        module,
        services: [...services],
        reason,
      }),
    result: (outcome, actions, message) =>
      appendAudit(run.stateDir, {
        type: "rollback-result",
        id,
        time: now(run),
        intent_id: run.auditId,
        module,
        outcome,
        actions: [...actions],
        message,
      }),
  };
}

/** Step 6, record: the result of a run that got to execute. */
async function recordResult(run: Run, results: ModuleResult[]): Promise<ApplyResult> {
  const has = (o: ApplyOutcome) => results.some((r) => r.outcome === o);
  const outcome: ApplyOutcome = has("interrupted")
    ? "interrupted"
    : has("failed")
      ? "failed"
      : has("rolled_back")
        ? "rolled_back"
        : has("applied")
          ? "applied"
          : "no-op";
  const modules = results.map((r) => ({ module: r.module, outcome: r.outcome, actions: r.actions }));
  await appendAudit(run.stateDir, { type: "result", id: run.auditId, time: now(run), outcome, modules });
  return { outcome, audit_id: run.auditId, modules: results };
}

/** Completes the intent record after an error before or between modules (a blocked run recorded its own result). */
async function recordError(run: Run, e: unknown, results: ModuleResult[]): Promise<void> {
  if (e instanceof PolicyBlockedError || !(e instanceof Error) || (e instanceof PlatformError && e.code.startsWith("audit."))) return;
  const outcome = run.req.signal.aborted ? "interrupted" : e instanceof StalePlanError && results.length === 0 ? "refused" : "failed";
  const modules = results.map((r) => ({ module: r.module, outcome: r.outcome, actions: r.actions }));
  // The original error is what the operator must see; a second failure to write the audit log must not replace it.
  // Safe: the original error is rethrown by the caller; the open intent is reconciled by the next apply.
  await appendAudit(run.stateDir, { type: "result", id: run.auditId, time: now(run), outcome, modules, message: e.message }).catch(
    () => undefined,
  );
}

/** Runs an apply end to end. Every engine mutation happens inside `executeModule`, on a plan `approve` branded. */
export async function applyModules(req: ApplyRequest): Promise<ApplyResult> {
  const run = await openRun(req);
  const lock = await lockRun(run);
  const results: ModuleResult[] = [];
  let intentWritten = false;
  try {
    const audit = await reconcileUnfinished(run);
    const gated = await planAndGate(run, audit);
    await recordIntent(run, gated);
    intentWritten = true;
    const approved = await approveAll(run, gated);
    await executeAll(run, gated, approved, lock, results);
    return await recordResult(run, results);
  } catch (e) {
    if (intentWritten) await recordError(run, e, results);
    throw e;
  } finally {
    await run.summarySaved;
    await lock.release();
  }
}
