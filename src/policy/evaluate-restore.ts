// The restore gate: judges `restore M --from REF [--verify]` from the dispatch inputs and gathered facts, and returns a Decision as data.
import type { Module } from "../manifest/module.js";
import { checkBackup, checkVerification } from "./check-backup.js";
import { confirmHint, withhold } from "./evaluate-policy.js";
import type { BackupFacts, Decision, DispatchInputs, DriftRef, Reason } from "./policy.js";

/** What the archive's own manifest entry says it holds (src/backup/archive-format.ts reads it). */
export interface RestoreArchive {
  /** The module the manifest names; undefined for a legacy archive without one (then its file name decides). */
  module: string | undefined;
  /** `stop`, `exec`, `archive`, or `legacy` for an archive without a manifest entry. */
  method: string;
  /** The named volumes it holds, by their manifest names. */
  volumes: readonly string[];
  /** It holds the stdout of an exec backup (a dump), to be piped into the module's restore_command. */
  dump: boolean;
}

export interface RestoreInput {
  module: Module;
  /** Every module of the catalog (what an uncatalogued archive must hold is read from it). */
  catalog: readonly Module[];
  /** `live` replaces the module's data; `verify` restores into a throwaway project and touches nothing live. */
  mode: "live" | "verify";
  inputs: Pick<DispatchInputs, "allowStateful" | "confirm" | "backupRef">;
  /** Facts about the ref, gathered for exactly `inputs.backupRef`; undefined when none were gathered. */
  backup: BackupFacts | undefined;
  /** The archive's manifest; undefined when it could not be read (`archiveProblem` says why). */
  archive: RestoreArchive | undefined;
  archiveProblem: string | undefined;
  /** The module declares `backup.exec.restore_command` (a dump can be restored). */
  restoreCommand: boolean;
  /** The module's drift in a fresh live plan (judged for a live restore only). */
  drift: readonly DriftRef[];
  /** The time the decision is made for. */
  now: Date | string;
  /** The configured confirmation token; never shown. */
  confirmToken: string;
}

/**
 * Drift a restore may carry: it stops, removes and recreates the containers anyway, so their state does not matter,
 * and a missing one is created from the manifest like the others (which is also how a failed restore is run again).
 */
const RESTORABLE_DRIFT = new Set([
  "container.state.not_running",
  "container.state.unhealthy",
  "container.state.exited_success",
  "service.missing",
]);

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Named volumes the module mounts, by manifest name, sorted. */
export const moduleVolumes = (m: Module): string[] =>
  [...new Set(m.services.flatMap((s) => s.volumes.filter((v) => v.type === "volume" && v.source).map((v) => v.source as string)))].sort();

/**
 * Judges a restore. Pure: every fact is an input.
 *
 * - Both modes: the ref must pass every backup check of the apply gate (inside the backup root, regular, non-empty,
 *   named for the module, not dated in the future, matching its catalog entry or proven by its content), except the
 *   maximum age: restoring an older backup is what a restore is for. It must be a backup of the module itself (its
 *   manifest's module, else its file name): restoring another module's backup into this one is `backup.wrong_module`.
 *   It must hold every named volume of the module, or a dump the module can pipe into its restore_command
 *   (`restore.archive_incomplete`).
 * - `live` also needs allow_stateful and the exact confirmation (stateful or not: it replaces data), a verified
 *   backup when `verify: required` (`backup.not_verified`), and no drift but container state or a missing
 *   container: the restore recreates the containers from the manifest, which must not carry another change along
 *   (`restore.spec_drift`).
 * - `verify` needs nothing else: it touches nothing live (rule `restore-verify`).
 */
export function evaluateRestore(input: RestoreInput): Decision {
  const { module, inputs } = input;
  const nowMs = typeof input.now === "string" ? Date.parse(input.now) : input.now.getTime();
  const reasons: Reason[] = [];
  const m = `Restoring module "${module.name}"`;
  const drift = [
    ...new Map(input.drift.map((d) => [JSON.stringify([d.kind, d.service]), { kind: d.kind, service: d.service }])).values(),
  ].sort((a, b) => compare(a.kind, b.kind) || compare(a.service, b.service));

  if (input.mode === "live") {
    if (!inputs.allowStateful)
      reasons.push({
        code: "input.allow_stateful_missing",
        message: `${m} replaces its data: --allow-stateful is required.`,
        input: "allow_stateful",
      });
    if (inputs.confirm === undefined || inputs.confirm === "")
      reasons.push({
        code: "input.confirm_missing",
        message: `${m} replaces its data: the confirmation token is required.`,
        input: "confirm",
      });
    else if (inputs.confirm !== input.confirmToken)
      reasons.push({
        code: "input.confirm_mismatch",
        message: `The confirmation given does not match the configured token, compared exactly (${confirmHint(inputs.confirm)}).`,
        input: "confirm",
      });
    const spec = drift.filter((d) => !RESTORABLE_DRIFT.has(d.kind));
    if (spec.length > 0)
      reasons.push({
        code: "restore.spec_drift",
        message: `${m} recreates its containers from the manifest, and they differ from it: ${spec.map((d) => `${d.kind} on ${d.service}`).join(", ")}.`,
        drift: spec,
      });
  }

  const ref = inputs.backupRef;
  if (ref === undefined || ref.trim() === "") {
    reasons.push({ code: "input.backup_ref_missing", message: `${m}: --from names the backup to restore.`, input: "backup_ref" });
  } else if (input.backup === undefined || input.backup.path !== ref) {
    reasons.push({
      code: "backup.unverified",
      message: "No facts were gathered for the backup ref given, so it cannot be verified.",
      input: "backup_ref",
    });
  } else {
    const backupReasons = checkBackup(input.backup, module, [module.name], input.catalog, nowMs, Number.POSITIVE_INFINITY);
    reasons.push(...backupReasons);
    const a = input.archive;
    const shown = JSON.stringify(ref);
    if (a?.module !== undefined && a.module !== module.name && !backupReasons.some((r) => r.code === "backup.wrong_module"))
      reasons.push({
        code: "backup.wrong_module",
        message: `Backup ${shown} is of module "${a.module}" (its manifest says so); ${m} needs a backup of "${module.name}".`,
        input: "backup_ref",
      });
    if (a === undefined) {
      if (backupReasons.length === 0)
        reasons.push({
          code: "restore.archive_incomplete",
          message: `Backup ${shown} cannot be read as a platformctl archive: ${input.archiveProblem ?? "unreadable"}.`,
          input: "backup_ref",
        });
    } else if (a.dump) {
      if (!input.restoreCommand)
        reasons.push({
          code: "restore.archive_incomplete",
          message: `Backup ${shown} holds a dump (method ${a.method}), and module "${module.name}" declares no backup.exec.restore_command to pipe it into.`,
          input: "backup_ref",
        });
    } else {
      const missing = moduleVolumes(module).filter((v) => !a.volumes.includes(v));
      if (missing.length > 0)
        reasons.push({
          code: "restore.archive_incomplete",
          message: `Backup ${shown} does not hold ${missing.length === 1 ? "volume" : "volumes"} ${missing.join(", ")} of module "${module.name}" (it holds: ${a.volumes.join(", ") || "no volume"}).`,
          input: "backup_ref",
        });
    }
    if (input.mode === "live") reasons.push(...checkVerification(input.backup, module, input.catalog));
  }

  const secrets = [input.confirmToken, inputs.confirm ?? ""].filter((x) => x.length > 0);
  const finished = reasons
    .map((r) => ({ ...r, message: withhold(r.message, secrets) }))
    .sort((a, b) => compare(a.code, b.code) || compare(a.message, b.message));
  const eligible = finished.length === 0;
  const rule = input.mode === "live" ? "restore" : "restore-verify";
  return {
    module: module.name,
    stateful: module.stateful,
    eligible,
    reasons: finished,
    drift_kinds: [...new Set(drift.map((d) => d.kind))].sort(compare),
    allowed_drift: eligible && input.mode === "live" ? drift.map((d) => ({ kind: d.kind, service: d.service, rule })) : [],
    rule: eligible ? rule : "blocked",
  };
}
