// apply: lock, audit intent, gate every module, execute approved plans in dependency order, audit result, unlock.
import os from "node:os";
import type { Logger } from "pino";
import type { Module } from "../manifest/module.js";
import { computePlan } from "../plan/compute-plan.js";
import type { ModulePlan, Plan } from "../plan/plan.js";
import type { Clock } from "../clock.js";
import { computeLivePlan, type LivePlan } from "../live-plan/compute-live-plan.js";
import { readModuleSecrets } from "../secrets/module-secrets.js";
import type { ObservedState } from "../plan/observed-state.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Decision, DispatchInputs } from "../policy/policy.js";
import { PlatformError } from "../errors.js";
import { ensureDigestKey, ensureStateDir } from "../state/state-dir.js";
import { actorFrom, appendAudit, newAuditId, readAudit, unfinishedIntents, type ActionRecord } from "../state/audit.js";
import { acquireLock, describeHolder, type LockHandle } from "../state/lock.js";
import { decide, type PolicyContext } from "../gate/decide.js";
import { approve, PolicyBlockedError } from "../gate/approve.js";
import { ActionFailedError, executeModule } from "./execute-module.js";

export type ApplyOutcome = "applied" | "no-op" | "failed" | "blocked" | "interrupted";

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
  log: Logger;
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

function livePlan(req: ApplyRequest, selected: string[], key: Uint8Array): Promise<LivePlan> {
  return computeLivePlan({ runtime: req.runtime, project: req.project, catalog: req.catalog, selected, env: req.env, cwd: req.cwd, digestKey: key, prune: req.prune, rerun: Boolean(req.inputs.rerun), clock: req.clock, signal: req.signal });
}

/** Why a dependency is not ready, or undefined when it is in sync and every service healthy/running/exited 0. */
function dependencyProblem(dep: ModulePlan | undefined, name: string, observed: ObservedState, catalog: readonly Module[]): string | undefined {
  if (!dep) return `dependency ${name} could not be planned`;
  if (!dep.in_sync) {
    const what = dep.drift.map((d) => {
      const o = d.observed as { status?: unknown; exit_code?: unknown };
      const state = typeof o.status === "string" ? ` (${o.status}${o.status === "exited" && typeof o.exit_code === "number" ? ` ${o.exit_code}` : ""})` : "";
      return `${d.service}: ${d.kind}${state}`;
    });
    return `dependency ${name} is not ready: ${[...new Set(what)].join("; ")}`;
  }
  const m = catalog.find((x) => x.name === name);
  for (const s of m?.services ?? []) {
    const c = observed.containers.find((x) => x.module === name && x.service === s.name);
    if (s.expectedState === "healthy" && c?.health !== "healthy") return `dependency ${name} service ${s.name} is not healthy (${c?.health ?? "no health"})`;
  }
  return undefined;
}

/**
 * Why a saved plan may not be executed, or undefined when it still matches the live state. A match is the same
 * fingerprint; or, for a plan made while STATE_DIR had no digest key yet (`plan` never creates it, apply does), the
 * fingerprint computed without the resolved-value digests together with exactly the same actions, so a changed
 * `${VAR}` value that the reviewed plan could not show still makes it stale.
 */
function stalePlanProblem(req: ApplyRequest, saved: Plan, live: LivePlan, order: string[]): string | undefined {
  const { plan } = live;
  const savedNames = saved.modules.map((m) => m.name).sort();
  if (saved.project !== req.project) return `the plan was made for project ${saved.project}, not ${req.project}`;
  if (savedNames.join() !== [...order].sort().join()) return `the plan covers ${savedNames.join(", ")}; this apply covers ${order.join(", ")}`;
  if (saved.fingerprint === plan.fingerprint) return undefined;
  const actions = (p: Pick<Plan, "modules">) => JSON.stringify(p.modules.map((m) => [m.name, m.actions.map((a) => [a.type, a.service, a.container, a.cause])]));
  const keyless = computePlan({ ...live.inputs, secretDigests: {} });
  if (saved.fingerprint === keyless.fingerprint && actions(saved) === actions(plan)) return undefined;
  return `fingerprint then ${saved.fingerprint.slice(0, 19)}…, now ${plan.fingerprint.slice(0, 19)}…`;
}

/** Orders the requested modules so dependencies come first (the catalog is already in dependency order). */
export function applyOrder(catalog: readonly Module[], requested: readonly string[]): string[] {
  const want = new Set(requested);
  return catalog.filter((m) => want.has(m.name)).map((m) => m.name);
}

/** Runs an apply end to end. Every engine mutation happens inside `executeModule`, after `approve`. */
export async function applyModules(req: ApplyRequest): Promise<ApplyResult> {
  const stateDir = await ensureStateDir(req.stateDir);
  const { key } = await ensureDigestKey(stateDir);
  const order = applyOrder(req.catalog, req.modules);
  const user = os.userInfo().username;
  const host = os.hostname();
  const actor = actorFrom(req.env, user, host);

  const lock: LockHandle = await acquireLock(
    stateDir,
    { user, command: req.command, ci_run_url: actor.ci.run_url ?? null, project: req.project },
    {
      waitMs: req.lockWaitMs,
      // An engine error propagates: "cannot tell" must never read as "not running" (the lock then stays held).
      oneShotRunning: async (id) => (await req.runtime.inspectUnit(id, req.signal))?.running ?? false,
      onTakeover: (t) => req.log.warn(t, `took over a stale apply lock: ${t.reason}`),
      onLost: (current) => req.log.error({ current }, "the apply lock is no longer ours (unlock --force, or the lease ran out); the next change will stop"),
      onWait: (holder) => req.log.warn({ holder: describeHolder(holder), wait_ms: req.lockWaitMs }, "waiting for the apply lock held by another apply"),
      signal: req.signal,
      now: () => req.clock.now().getTime(),
    },
  );
  const auditId = newAuditId();
  const results: ModuleResult[] = [];
  let intentWritten = false;
  try {
    const audit = await readAudit(stateDir);
    for (const open of unfinishedIntents(audit.records)) {
      req.log.warn({ intent: open.id, modules: open.modules, time: open.time }, "an earlier apply left an intent record without a result (crashed or killed); reconciling");
      await appendAudit(stateDir, { type: "reconciled", id: newAuditId(), time: req.clock.now().toISOString(), intent_id: open.id, note: `found unfinished by ${auditId}; its effects are what the next plan observes` });
    }

    // 1. Plan (fresh), and the stale check for a saved plan — before anything is changed. A stale plan is refused
    //    after the intent is recorded, so the refusal is audited too.
    const live = await livePlan(req, order, key);
    const { plan, observed } = live;
    const stale = req.savedPlan === undefined ? undefined : stalePlanProblem(req, req.savedPlan, live, order);

    // 2. The gate, for every module, on the plan about to be executed.
    const policyCtx: PolicyContext = { env: req.env, stateDir, project: req.project, inputs: req.inputs, maxBackupAgeSeconds: req.maxBackupAgeSeconds, audit: audit.records, now: req.clock.now(), catalog: req.catalog };
    const decisions = new Map<string, Decision>();
    for (const mp of plan.modules) {
      const m = req.catalog.find((x) => x.name === mp.name);
      if (m) decisions.set(m.name, await decide(policyCtx, m, mp, observed));
    }

    // 3. Intent, flushed to disk before the first mutation. If it cannot be written, nothing happens.
    await appendAudit(stateDir, {
      type: "intent",
      id: auditId,
      time: req.clock.now().toISOString(),
      project: req.project,
      command: req.command,
      modules: order,
      actor,
      plan_fingerprint: plan.fingerprint,
      inputs: { allow_stateful: req.inputs.allowStateful, backup_ref: req.inputs.backupRef ?? null, confirm_given: req.inputs.confirm !== undefined, bootstrap: req.inputs.bootstrap, rerun: Boolean(req.inputs.rerun) },
      decisions: [...decisions.values()].map((d) => ({ module: d.module, eligible: d.eligible, rule: d.rule, reasons: d.reasons.map((r) => r.code) })),
    });
    intentWritten = true;
    if (stale !== undefined) throw new StalePlanError(stale);

    // A module with nothing to do needs no approval: it changes nothing (its decision is still recorded above).
    const hasActions = (name: string) => (plan.modules.find((x) => x.name === name)?.actions.length ?? 0) > 0;
    const blocked = [...decisions.values()].filter((d) => !d.eligible && hasActions(d.module));
    if (blocked.length) {
      for (const name of order) results.push({ module: name, outcome: blocked.some((d) => d.module === name) ? "blocked" : "no-op", actions: [], decision: decisions.get(name), message: undefined, detail: undefined });
      await appendAudit(stateDir, { type: "result", id: auditId, time: req.clock.now().toISOString(), outcome: "blocked", modules: results.map((r) => ({ module: r.module, outcome: r.outcome, actions: [] })) });
      throw new PolicyBlockedError(blocked[0] as Decision);
    }

    // 4. Execute in dependency order. Later modules are re-planned after an earlier one changed things, and must
    //    come out identical to what was gated (apply decides nothing new).
    let current = { plan, observed };
    let changed = false;
    for (const name of order) {
      const m = req.catalog.find((x) => x.name === name) as Module;
      if (changed) current = await livePlan(req, order, key);
      const mp = current.plan.modules.find((x) => x.name === name) as ModulePlan;
      const gated = plan.modules.find((x) => x.name === name) as ModulePlan;
      if (changed && JSON.stringify(mp.actions.map((a) => [a.type, a.service])) !== JSON.stringify(gated.actions.map((a) => [a.type, a.service]))) {
        throw new StalePlanError(`${name}: its plan changed while earlier modules were applied`);
      }
      if (m.dependsOn.length) {
        const deps = await livePlan(req, m.dependsOn, key);
        for (const d of m.dependsOn) {
          const problem = dependencyProblem(deps.plan.modules.find((x) => x.name === d), d, deps.observed, req.catalog);
          if (problem) {
            throw new PlatformError("apply.dependency_not_ready", `cannot apply ${name}: ${problem}`, { hint: `Apply ${d} first (platformctl apply --module ${d}) and check platformctl health --module ${d}.` });
          }
        }
      }
      if (mp.actions.length === 0) {
        results.push({ module: name, outcome: "no-op", actions: [], decision: decisions.get(name), message: "no changes", detail: undefined });
        continue;
      }
      const approved = approve(mp, decisions.get(name) as Decision);
      const records: ActionRecord[] = [];
      try {
        await executeModule(
          { runtime: req.runtime, project: req.project, module: m, env: req.env, digestKey: key, timeoutSeconds: req.timeoutSeconds, signal: req.signal, log: req.log, lock, progress: (s, t) => req.progress(name, s, t), secrets: new Set(await readModuleSecrets(m, req.env)) },
          approved,
          (r) => {
            records.push(r);
            req.actionDone(name, r);
          },
        );
        changed = true;
        results.push({ module: name, outcome: "applied", actions: records, decision: decisions.get(name), message: undefined, detail: undefined });
      } catch (e) {
        changed = true;
        const interrupted = req.signal.aborted;
        const rec = e instanceof ActionFailedError ? e.record : undefined;
        if (rec) records.push(interrupted ? { ...rec, outcome: "interrupted" } : rec);
        results.push({
          module: name,
          outcome: interrupted ? "interrupted" : "failed",
          actions: records,
          decision: decisions.get(name),
          message: interrupted ? "interrupted by a signal; containers are left as they are" : e instanceof Error ? e.message : String(e),
          detail: e instanceof PlatformError ? e.detail : undefined,
        });
        break;
      }
    }
    const outcome: ApplyOutcome = results.some((r) => r.outcome === "interrupted")
      ? "interrupted"
      : results.some((r) => r.outcome === "failed")
        ? "failed"
        : results.some((r) => r.outcome === "applied")
          ? "applied"
          : "no-op";
    await appendAudit(stateDir, { type: "result", id: auditId, time: req.clock.now().toISOString(), outcome, modules: results.map((r) => ({ module: r.module, outcome: r.outcome, actions: r.actions })) });
    return { outcome, audit_id: auditId, modules: results };
  } catch (e) {
    // Errors before or between modules: complete the intent record if one was written.
    if (intentWritten && !(e instanceof PolicyBlockedError) && e instanceof Error && !(e instanceof PlatformError && e.code.startsWith("audit."))) {
      const interrupted = req.signal.aborted;
      await appendAudit(stateDir, {
        type: "result",
        id: auditId,
        time: req.clock.now().toISOString(),
        outcome: interrupted ? "interrupted" : e instanceof StalePlanError && results.length === 0 ? "refused" : "failed",
        modules: results.map((r) => ({ module: r.module, outcome: r.outcome, actions: r.actions })),
        message: e.message,
      }).catch(() => undefined); // safe: the original error is rethrown below; the open intent is reconciled by the next apply
    }
    throw e;
  } finally {
    await lock.release();
  }
}
