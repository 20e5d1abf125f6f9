// `restore M --from REF`: lock -> plan -> gate -> intent -> stop, remove, refill the volumes, recreate, start -> record.
import os from "node:os";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { stopGraceSeconds, type Module } from "../manifest/module.js";
import type { Decision, DispatchInputs } from "../policy/policy.js";
import { moduleVolumes } from "../policy/evaluate-restore.js";
import type { Runtime } from "../runtime/runtime.js";
import { computeLivePlan } from "../live-plan/compute-live-plan.js";
import { readModuleSecrets } from "../secrets/module-secrets.js";
import { PlatformError } from "../errors.js";
import { actorFrom, appendAudit, newAuditId, type ActionRecord } from "../state/audit.js";
import { acquireLock, describeHolder } from "../state/lock.js";
import { ensureDigestKey, ensureStateDir } from "../state/state-dir.js";
import { decideRestore } from "../gate/decide-restore.js";
import { PolicyBlockedError } from "../gate/approve.js";
import { createAndStart, fillVolumes, mask, pipeDump, step, StepFailure, type StepContext } from "./restore-steps.js";

export interface RestoreRequest {
  runtime: Runtime;
  project: string;
  catalog: readonly Module[];
  module: Module;
  /** The backup ref as given. */
  ref: string;
  inputs: Pick<DispatchInputs, "allowStateful" | "confirm">;
  env: Readonly<Record<string, string | undefined>>;
  stateDir: string;
  cwd: string;
  /** Bound of each wait; undefined means the module's timeout_seconds. */
  timeoutSeconds: number | undefined;
  lockWaitMs: number;
  clock: Clock;
  /** The command line for the audit log and the lock (confirmation withheld). */
  command: string;
  signal: AbortSignal;
  log: Logger;
  progress: (text: string) => void;
}

export interface RestoreResult {
  outcome: "restored" | "failed" | "interrupted";
  audit_id: string;
  module: string;
  file: string;
  decision: Decision;
  steps: ActionRecord[];
  /** From the first stop to the last service up (or the failure), ms. */
  downtime_ms: number;
  /** What state things are in after a failure, and what to do; null when restored. */
  problem: string | null;
  detail: string | null;
}

/** The module's named volumes another module's existing container mounts: the volume cannot be replaced under it. */
function foreignMounts(req: RestoreRequest, containers: readonly { module: string; name: string }[]): string[] {
  const mine = new Set(moduleVolumes(req.module));
  const users = req.catalog.filter(
    (m) =>
      m.name !== req.module.name && m.services.some((s) => s.volumes.some((v) => v.type === "volume" && v.source && mine.has(v.source))),
  );
  return containers.filter((c) => users.some((u) => u.name === c.module)).map((c) => `${c.name} (module ${c.module})`);
}

/**
 * Restores a module's data from a backup, in place. Gated like every stateful change (evaluateRestore, exit 3) and
 * audited: the intent is flushed before the first change, the result after. A volume restore stops the module's
 * containers, removes them and its volumes (a volume cannot be emptied in place without tools in an image), creates
 * the volumes again, extracts the archive's content into them, then recreates the containers from the manifest
 * (the gate made sure they match it) and starts them, waiting for each to be running or healthy.
 */
export async function restoreModule(req: RestoreRequest): Promise<RestoreResult> {
  const stateDir = await ensureStateDir(req.stateDir);
  const { key } = await ensureDigestKey(stateDir);
  const user = os.userInfo().username;
  const actor = actorFrom(req.env, user, os.hostname());
  const auditId = newAuditId(req.clock.now());
  const now = () => req.clock.now().toISOString();
  const lock = await acquireLock(
    stateDir,
    { user, command: req.command, ci_run_url: actor.ci.run_url ?? null, project: req.project },
    {
      waitMs: req.lockWaitMs,
      oneShotRunning: async (id) => (await req.runtime.inspectUnit(id, req.signal))?.running ?? false,
      onTakeover: (t) => req.log.warn(t, `took over a stale apply lock: ${t.reason}`),
      onLost: (current) => req.log.error({ current }, "the apply lock is no longer ours; the restore will stop before its next step"),
      onWait: (holder) => req.log.warn({ holder: describeHolder(holder), wait_ms: req.lockWaitMs }, "waiting for the apply lock"),
      signal: req.signal,
      now: () => req.clock.now().getTime(),
    },
  );
  try {
    const live = await computeLivePlan({
      runtime: req.runtime,
      project: req.project,
      catalog: req.catalog,
      selected: [req.module.name],
      env: req.env,
      cwd: req.cwd,
      digestKey: key,
      prune: false,
      rerun: false,
      clock: req.clock,
      signal: req.signal,
    });
    const drift = live.plan.modules.find((m) => m.name === req.module.name)?.drift ?? [];
    const gate = await decideRestore({
      env: req.env,
      stateDir,
      module: req.module,
      catalog: req.catalog,
      mode: "live",
      inputs: { ...req.inputs, backupRef: req.ref },
      drift,
      now: req.clock.now(),
    });
    const d = gate.decision;
    await appendAudit(stateDir, {
      type: "intent",
      id: auditId,
      time: now(),
      project: req.project,
      command: req.command,
      modules: [req.module.name],
      actor,
      plan_fingerprint: live.plan.fingerprint,
      inputs: {
        allow_stateful: req.inputs.allowStateful,
        backup_ref: req.ref,
        confirm_given: req.inputs.confirm !== undefined,
        bootstrap: false,
        rerun: false,
      },
      decisions: [{ module: d.module, eligible: d.eligible, rule: d.rule, reasons: d.reasons.map((r) => r.code) }],
    });
    const record = (outcome: "applied" | "failed" | "blocked" | "interrupted" | "refused", steps: ActionRecord[], message?: string) =>
      appendAudit(stateDir, {
        type: "result",
        id: auditId,
        time: now(),
        outcome,
        modules: [{ module: req.module.name, outcome, actions: steps }],
        ...(message === undefined ? {} : { message }),
      });
    if (!d.eligible) {
      await record("blocked", []);
      throw new PolicyBlockedError(d, "restore");
    }
    const file = gate.file as string;
    // A dump goes into the running service through its restore_command: no container or volume is replaced.
    const dump = Boolean(gate.manifest?.dump);
    const containers = live.observed.containers.filter((c) => c.module === req.module.name);
    const others = live.observed.containers.filter((c) => c.module !== req.module.name);
    const blockers = dump ? [] : foreignMounts(req, others);
    if (blockers.length > 0) {
      await record("refused", [], `volumes in use by ${blockers.join(", ")}`);
      throw new PlatformError(
        "restore.volume_in_use",
        `the volumes of ${req.module.name} are mounted by other modules' containers; nothing was changed`,
        {
          detail: blockers.map((b) => `- ${b}`).join("\n"),
          hint: "Remove those containers first (the next apply of their module creates them again), then restore.",
        },
      );
    }

    const steps: ActionRecord[] = [];
    const ctx: StepContext = {
      runtime: req.runtime,
      project: req.project,
      module: req.module,
      env: req.env,
      digestKey: key,
      timeoutMs: (req.timeoutSeconds ?? req.module.timeoutSeconds) * 1000,
      signal: req.signal,
      secrets: new Set(await readModuleSecrets(req.module, req.env)),
      progress: req.progress,
      done: (r) => {
        steps.push(r);
        req.log.info({ module: req.module.name, step: r }, "restore step done");
      },
    };
    const volumes = moduleVolumes(req.module);
    /** What is true so far, for the message when a later step fails. */
    let state = "nothing was changed";
    const t0 = Date.now();
    try {
      if (dump) {
        await pipeDump(ctx, file, () => {
          state = "the restore command received part of the dump: the service's data may hold part of it";
        });
        await record("applied", steps);
        return {
          outcome: "restored",
          audit_id: auditId,
          module: req.module.name,
          file,
          decision: d,
          steps,
          downtime_ms: 0,
          problem: null,
          detail: null,
        };
      }
      // Before anything is stopped: volumes the runtime cannot reach now (a Swarm node down) leave the module as it is.
      await req.runtime.checkVolumeAccess(req.project, volumes, req.signal, {
        image: req.module.services[0]?.image ?? "",
        module: req.module.name,
      });
      for (const c of containers) {
        const grace = stopGraceSeconds(req.module.services.find((s) => s.name === c.service) ?? { stopGracePeriodSeconds: undefined });
        if (c.running) {
          req.progress(`stopping ${c.service}`);
          await step(ctx, "stop", c.service, c.name, async () => {
            await req.runtime.stopUnit(c.id, grace, req.signal);
          });
          state = "the module's services are stopped (their data is untouched)";
        }
      }
      for (const c of containers)
        await step(ctx, "remove", c.service, c.name, async () => {
          await req.runtime.removeUnit(c.id, { force: true, signal: req.signal });
        });
      if (containers.length) state = "the module's containers are removed (its data is untouched)";
      for (const v of volumes) {
        await step(ctx, "remove-volume", v, null, async () => {
          await req.runtime.removeVolume(req.project, v, req.signal);
          await req.runtime.ensureVolume(req.project, req.module.name, v, req.signal, req.module.stateful);
        });
        state = `the module's containers are removed and volume ${v} is empty (the backup holds its content)`;
      }
      await fillVolumes(ctx, file, volumes, req.module.services[0]?.image ?? "");
      state = "the volumes hold the backup's content; the module's containers are not all up again";
      await createAndStart(ctx);
    } catch (e) {
      const interrupted = req.signal.aborted;
      const why = e instanceof StepFailure ? e.message : mask(ctx, e instanceof Error ? e.message : String(e));
      const problem = `${interrupted ? "interrupted" : "failed"}: ${why}. State: ${state}. The backup ${file} is unchanged: run the same restore again (it starts over), or see runbooks/restore-stateful-module.md.`;
      await record(interrupted ? "interrupted" : "failed", steps, problem);
      return {
        outcome: interrupted ? "interrupted" : "failed",
        audit_id: auditId,
        module: req.module.name,
        file,
        decision: d,
        steps,
        downtime_ms: dump ? 0 : Date.now() - t0,
        problem,
        detail: e instanceof StepFailure ? (e.detail ?? null) : null,
      };
    }
    await record("applied", steps);
    return {
      outcome: "restored",
      audit_id: auditId,
      module: req.module.name,
      file,
      decision: d,
      steps,
      downtime_ms: Date.now() - t0,
      problem: null,
      detail: null,
    };
  } finally {
    await lock.release();
  }
}
