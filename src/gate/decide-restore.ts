// Gathers the facts the restore gate needs (backup file, catalog, the archive's own manifest) and asks the pure gate.
import type { Module } from "../manifest/module.js";
import type { DriftRef } from "../policy/policy.js";
import { DEFAULT_CONFIRM_TOKEN, type Decision, type DispatchInputs } from "../policy/policy.js";
import { evaluateRestore, type RestoreArchive } from "../policy/evaluate-restore.js";
import { isWithin } from "../policy/path-containment.js";
import { PlatformError } from "../errors.js";
import { readBackupManifest, type BackupManifest } from "../backup/archive-format.js";
import { gatherBackupFacts } from "./decide.js";

export interface RestoreGateRequest {
  env: Readonly<Record<string, string | undefined>>;
  stateDir: string;
  module: Module;
  catalog: readonly Module[];
  mode: "live" | "verify";
  inputs: Pick<DispatchInputs, "allowStateful" | "confirm" | "backupRef">;
  /** The module's drift in a fresh live plan (live mode); empty for verify. */
  drift: readonly DriftRef[];
  now: Date;
}

/** The gate's answer, and what was read to reach it (the executor restores exactly this file and manifest). */
export interface RestoreGate {
  decision: Decision;
  /** The ref's real path; defined whenever the decision is eligible. */
  file: string | undefined;
  size: number;
  sha256: string | undefined;
  manifest: BackupManifest | undefined;
}

/** `backup.exec.restore_command` declared on `m`. */
const restoreCommandOf = (m: Module): readonly string[] | undefined => m.backup.exec?.restoreCommand;

/**
 * Judges a restore of `module` from `inputs.backupRef`. The archive's manifest is read only for a regular file
 * inside the backup root (never a path the backup checks already refuse); a file that is not a platformctl archive is
 * a fact (`restore.archive_incomplete`), not an error.
 */
export async function decideRestore(req: RestoreGateRequest): Promise<RestoreGate> {
  const ref = req.inputs.backupRef;
  const facts = ref !== undefined && ref.trim() !== "" ? await gatherBackupFacts(ref, req.env, req.stateDir) : undefined;
  let manifest: BackupManifest | undefined;
  let archiveProblem: string | undefined;
  const real = facts?.realPath;
  if (facts && real && facts.isFile && facts.backupRoot && isWithin(real, facts.backupRoot, { strict: true })) {
    try {
      manifest = await readBackupManifest(real);
    } catch (e) {
      if (!(e instanceof PlatformError)) throw e;
      archiveProblem = e.detail ? `${e.message}: ${e.detail}` : e.message;
    }
  }
  const archive: RestoreArchive | undefined = manifest && {
    module: manifest.module ?? undefined,
    method: manifest.method ?? "legacy",
    volumes: manifest.volumes,
    dump: manifest.dump !== null,
  };
  const decision = evaluateRestore({
    module: req.module,
    catalog: req.catalog,
    mode: req.mode,
    inputs: req.inputs,
    backup: facts,
    archive,
    archiveProblem,
    restoreCommand: restoreCommandOf(req.module) !== undefined,
    drift: req.drift,
    now: req.now,
    confirmToken: req.env.PLATFORMCTL_CONFIRM_TOKEN ?? DEFAULT_CONFIRM_TOKEN,
  });
  return { decision, file: real, size: facts?.size ?? 0, sha256: facts?.sha256, manifest };
}
