// Gathers the facts the policy gate needs (backup file, backup catalog, bootstrap history) and asks the pure gate.
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { Module } from "../manifest/module.js";
import type { DependencyReadiness } from "../plan/dependency-readiness.js";
import type { ModulePlan } from "../plan/plan.js";
import type { ObservedState } from "../plan/observed-state.js";
import { isWithin } from "../policy/path-containment.js";
import { resourceName } from "../plan/unit-name.js";
import { evaluatePolicy } from "../policy/evaluate-policy.js";
import { DEFAULT_CONFIRM_TOKEN, type BackupFacts, type Decision, type DispatchInputs, type SavedPlanFacts } from "../policy/policy.js";
import { summaryRecordsApply, type AuditSummary } from "../state/audit-summary.js";
import { latestVerification, readBackupCatalog, sha256File } from "../state/backup-catalog.js";

/**
 * Facts about the backup ref, from the file system. Never throws for a bad path: the gate turns facts into reasons.
 * A file inside the root that the catalog does not record is read to its end (verifyArchive) for structural evidence.
 * The backup root must be given as an absolute path: a relative PLATFORMCTL_BACKUP_DIR would mean a different
 * directory in every working directory, so it is treated as unknown (`backup.root_missing`).
 */
export async function gatherBackupFacts(
  ref: string,
  env: Readonly<Record<string, string | undefined>>,
  stateDir: string,
): Promise<BackupFacts> {
  const rootRaw = env.PLATFORMCTL_BACKUP_DIR;
  // Safe: each failure below is a missing fact (no root, no file, no digest), which the gate turns into a blocking
  // reason; a missing fact never makes a backup acceptable. A missing or unreadable root is backup.root_missing.
  const backupRoot = rootRaw && path.isAbsolute(rootRaw) ? await realpath(rootRaw).catch(() => undefined) : undefined;
  const real = ref.includes("\0") ? undefined : await realpath(ref).catch(() => undefined);
  const st = real ? await stat(real).catch(() => undefined) : undefined;
  const isFile = Boolean(st?.isFile());
  const inRoot = isFile && real !== undefined && backupRoot !== undefined && isWithin(real, backupRoot, { strict: true });
  // Safe: no digest is a missing fact, never acceptance.
  const sha = inRoot ? await sha256File(real).catch(() => undefined) : undefined;
  const catalog = await readBackupCatalog(stateDir);
  const entry = real && catalog.ok ? catalog.entries.find((e) => e.file === real) : undefined;
  const readable = isFile && real && backupRoot && isWithin(real, backupRoot, { strict: true }) && (st?.size ?? 0) > 0;
  // Loaded only here: it brings zlib, which a gate without an uncatalogued backup file never needs.
  const archive =
    catalog.ok && entry === undefined && readable ? await (await import("../backup/verify-archive.js")).verifyArchive(real) : undefined;
  const verified = real && sha && catalog.ok ? latestVerification(catalog.verifications, real, sha) : undefined;
  return {
    path: ref,
    realPath: real,
    backupRoot,
    isFile,
    isDirectory: Boolean(st?.isDirectory()),
    size: st?.size ?? 0,
    sha256: sha,
    catalogEntry: entry ? { size: entry.size, sha256: entry.sha256, createdAt: entry.created_at } : undefined,
    catalogUnreadable: catalog.ok ? undefined : catalog.problem,
    archive,
    verification: verified ? { verified_at: verified.verified_at, outcome: verified.outcome } : undefined,
  };
}

export interface PolicyContext {
  env: Readonly<Record<string, string | undefined>>;
  stateDir: string;
  project: string;
  inputs: DispatchInputs;
  maxBackupAgeSeconds: number;
  /** The audit log's summary (readAuditSummary): the bootstrap fact "an earlier apply". */
  audit: AuditSummary;
  now: Date;
  /** The whole catalog: the volumes a covering module's backup must hold, and who owns each named volume. */
  catalog: readonly Module[];
  /** The saved plan being applied or judged (its observation time, for the maintenance lane); undefined for a fresh one. */
  savedPlan?: SavedPlanFacts | undefined;
}

/**
 * The policy decision for one module of a plan, facts gathered fresh. `dependencies` is the planner's readiness
 * verdict for the module's dependencies (from the live plan). A blank backup ref gathers nothing: the gate reports it
 * as input.backup_ref_missing.
 */
export async function decide(
  ctx: PolicyContext,
  module: Module,
  modulePlan: ModulePlan,
  observed: ObservedState,
  dependencies: readonly DependencyReadiness[],
): Promise<Decision> {
  const ref = ctx.inputs.backupRef;
  const backup = ref !== undefined && ref.trim() !== "" ? await gatherBackupFacts(ref, ctx.env, ctx.stateDir) : undefined;
  const volumeNames = new Set(
    module.services.flatMap((s) =>
      s.volumes.filter((v) => v.type === "volume" && v.source).map((v) => resourceName(ctx.project, v.source as string)),
    ),
  );
  return evaluatePolicy({
    module,
    catalog: ctx.catalog,
    plan: modulePlan,
    inputs: ctx.inputs,
    backup,
    dependencies,
    bootstrap: {
      containersExist: observed.containers.some((c) => c.module === module.name),
      volumesExist: observed.volumes.some((v) => v.module === module.name || volumeNames.has(v.name)),
      auditRecordsApply: summaryRecordsApply(ctx.audit, ctx.project, module.name),
    },
    savedPlan: ctx.savedPlan,
    now: ctx.now,
    confirmToken: ctx.env.PLATFORMCTL_CONFIRM_TOKEN ?? DEFAULT_CONFIRM_TOKEN,
    maxBackupAgeSeconds: ctx.maxBackupAgeSeconds,
  });
}
