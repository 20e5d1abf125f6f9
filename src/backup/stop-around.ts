// Method stop: the module's running services are stopped around the copy and started again (also when it fails), under the apply lock and audited.
import os from "node:os";
import { adoptionOf } from "../plan/adoption.js";
import { stopGraceSeconds } from "../manifest/module.js";
import type { BackupRequest } from "./create-backup.js";
import { type ActionRecord, actorFrom, appendAudit, newAuditId } from "../state/audit.js";
import { acquireLock } from "../state/lock.js";
import { readModuleSecrets } from "../secrets/module-secrets.js";
import { redact } from "../secrets/masker.js";
import { RUNNING_STABLE_MS } from "../runtime/runtime.js";

export interface StopAroundResult {
  /** From the first stop until the last service was back in its expected state. */
  downtimeMs: number;
  /**
   * Services that did not come back after a copy that finished (`<service>: <why>`, masked); empty when all did. The
   * copy is complete and consistent then: the caller keeps it and fails loudly, never discarding it silently.
   */
  notRestarted: string[];
}

/**
 * Stops the module's running long-running services (reverse name order, each with its stop_grace_period and the
 * container's own stop signal), runs `copy`, then starts them again in name order and waits, within the module's
 * timeout, until each is running or healthy as its expected state says. The services are started again even when
 * the copy fails or is interrupted (the restart is bounded by the module's timeout, not cut by the caller's signal);
 * the copy's error is then rethrown. A service that does not come back after a finished copy is
 * returned in `notRestarted` (the caller keeps the archive and fails). Holds the apply lock throughout (a backup never races an
 * apply) and writes a `backup-intent` audit record before the first stop and a `backup-result` after.
 */
export async function stopAround(req: BackupRequest, stateDir: string, copy: () => Promise<void>): Promise<StopAroundResult> {
  const m = req.module;
  const user = os.userInfo().username;
  const actor = actorFrom(req.env, user, os.hostname());
  const lock = await acquireLock(
    stateDir,
    { user, command: req.command ?? `platformctl backup ${m.name}`, ci_run_url: actor.ci.run_url ?? null, project: req.project },
    {
      waitMs: req.lockWaitMs ?? 0,
      oneShotRunning: async (id) => (await req.runtime.inspectUnit(id, req.signal))?.running ?? false,
      signal: req.signal,
    },
  );
  const secrets = await readModuleSecrets(m, req.env).catch(() => [] as string[]); // safe: without them a message is masked with fewer values, and no value is ever added to one
  const mask = (t: string) => redact(t, secrets);
  const actions: ActionRecord[] = [];
  const id = newAuditId(req.now);
  let downtimeMs = 0;
  try {
    const observed = await req.runtime.observe(req.project, [], { signal: req.signal, adoption: adoptionOf([m], req.project) });
    const longRunning = m.services.filter((s) => s.expectedState !== "exited-success").map((s) => s.name);
    const running = observed.containers
      .filter((c) => c.module === m.name && c.service !== undefined && longRunning.includes(c.service) && c.running)
      .sort((a, b) => ((a.service ?? "") < (b.service ?? "") ? 1 : -1));
    await appendAudit(stateDir, {
      type: "backup-intent",
      id,
      time: new Date().toISOString(),
      project: req.project,
      module: m.name,
      method: "stop",
      services: running.map((c) => c.service as string),
      actor,
    });
    const t0 = Date.now();
    let copyError: unknown;
    const stopped: typeof running = [];
    try {
      for (const c of running) {
        const service = m.services.find((s) => s.name === c.service);
        const s0 = Date.now();
        // Counted before the stop returns: a stop cut short (an interrupt mid-wait) may still have taken effect.
        stopped.push(c);
        await req.runtime.stopUnit(
          c.id,
          service ? stopGraceSeconds(service) : stopGraceSeconds({ stopGracePeriodSeconds: undefined }),
          req.signal,
        );
        actions.push({
          type: "stop",
          service: c.service as string,
          container: c.name,
          outcome: "done",
          exit_code: null,
          duration_ms: Date.now() - s0,
        });
      }
      await copy();
    } catch (e) {
      copyError = e;
    }
    const startProblems: string[] = [];
    for (const c of [...stopped].reverse()) {
      const service = m.services.find((s) => s.name === c.service);
      const want = service?.expectedState === "healthy" ? "healthy" : "running";
      const s0 = Date.now();
      try {
        // Not under the caller's signal: an interrupted backup still starts what it stopped (bounded by the timeout).
        await req.runtime.startUnit(c.id);
        const r = await req.runtime.waitForState(c.id, want, { timeoutMs: m.timeoutSeconds * 1000, stableMs: RUNNING_STABLE_MS });
        if (r.outcome !== "reached") throw new Error(`was not ${want} within ${m.timeoutSeconds}s (${r.outcome})`);
        actions.push({
          type: "start",
          service: c.service as string,
          container: c.name,
          outcome: "done",
          exit_code: null,
          duration_ms: Date.now() - s0,
        });
      } catch (e) {
        const message = mask(e instanceof Error ? e.message : String(e));
        startProblems.push(`${c.service}: ${message}`);
        actions.push({
          type: "start",
          service: c.service as string,
          container: c.name,
          outcome: "failed",
          exit_code: null,
          duration_ms: Date.now() - s0,
          message,
        });
      }
    }
    downtimeMs = stopped.length ? Date.now() - t0 : 0;
    const failed = copyError !== undefined || startProblems.length > 0;
    const message = [
      copyError === undefined ? undefined : mask(copyError instanceof Error ? copyError.message : String(copyError)),
      ...startProblems.map((p) => `not started again: ${p}`),
    ]
      .filter(Boolean)
      .join("; ");
    await appendAudit(stateDir, {
      type: "backup-result",
      id,
      time: new Date().toISOString(),
      module: m.name,
      outcome: failed ? "failed" : "done",
      downtime_ms: downtimeMs,
      file: null,
      actions,
      ...(message ? { message } : {}),
    });
    if (copyError !== undefined) throw copyError;
    return { downtimeMs, notRestarted: startProblems };
  } finally {
    await lock.release();
  }
}
