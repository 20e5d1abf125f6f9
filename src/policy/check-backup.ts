// Verifies a backup ref from facts the shell gathered: a regular, non-empty file inside the backup root, named for a covering module, fresh, matching its catalog entry.
import type { Module } from "../manifest/module.js";
import { isCleanAbsolute, isWithin } from "./path-containment.js";
import { parseBackupName } from "./parse-backup-name.js";
import type { BackupFacts, Reason } from "./policy.js";

/** How a path is shown in a message: quoted and escaped, so a newline or control character in a name cannot forge output. */
export const showPath = (p: string): string => JSON.stringify(p);

/** Drops trailing slashes (`/backups/` -> `/backups`), keeping `/` itself (for showing and naming, not containment). */
const trimSlashes = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, "") || "/" : p);

const baseName = (p: string): string => p.slice(p.lastIndexOf("/") + 1);

/**
 * Every problem with the backup, each its own Reason with input "backup_ref". A backup that does not exist stops the
 * checks (the other facts mean nothing); otherwise containment, file type, size, name, age and checksum are all checked.
 */
export function checkBackup(facts: BackupFacts, module: Module, nowMs: number, maxAgeSeconds: number): Reason[] {
  const input = "backup_ref";
  const shown = showPath(facts.path);
  if (facts.realPath === undefined) {
    return [{ code: "backup.not_found", message: `Backup ref ${shown} does not exist.`, input }];
  }
  const reasons: Reason[] = [];
  const real = facts.realPath;
  const resolves = trimSlashes(real) === trimSlashes(facts.path) ? "" : ` (it resolves to ${showPath(real)})`;

  if (facts.backupRoot === undefined || !isCleanAbsolute(facts.backupRoot)) {
    reasons.push({ code: "backup.root_missing", message: `The backup root is unknown (PLATFORMCTL_BACKUP_DIR unset or missing), so backup ref ${shown} cannot be checked.`, input });
  } else if (!isWithin(real, facts.backupRoot, { strict: true })) {
    reasons.push({ code: "backup.outside_root", message: `Backup ref ${shown}${resolves} is not inside the backup root ${showPath(facts.backupRoot)}.`, input });
  }

  if (facts.isDirectory || !facts.isFile) {
    const what = facts.isDirectory ? "a directory" : "not a regular file";
    reasons.push({ code: "backup.not_regular_file", message: `Backup ref ${shown}${resolves} is ${what}.`, input });
  } else if (!(facts.size > 0)) {
    reasons.push({ code: "backup.empty", message: `Backup ref ${shown}${resolves} is an empty file.`, input });
  }

  const name = baseName(trimSlashes(real));
  const parsed = parseBackupName(name);
  if (parsed === undefined) {
    reasons.push({
      code: "backup.name_invalid",
      message: `Backup file name ${showPath(name)} is not <module>-<YYYYMMDDTHHMMSSZ>.tar.gz with a real UTC time.`,
      input,
    });
  } else {
    const covering = module.backupRefModules;
    if (!covering.includes(parsed.module)) {
      reasons.push({
        code: "backup.wrong_module",
        message: `Backup ${showPath(name)} is of module "${parsed.module}"; module "${module.name}" is covered by a backup of: ${covering.length ? covering.join(", ") : "(none declared)"}.`,
        input,
      });
    }
    const ageMs = nowMs - parsed.time.getTime();
    if (ageMs < 0) {
      reasons.push({ code: "backup.future", message: `Backup ${showPath(name)} is dated ${parsed.time.toISOString()}, later than now (${new Date(nowMs).toISOString()}).`, input });
    } else if (ageMs > maxAgeSeconds * 1000) {
      reasons.push({
        code: "backup.stale",
        message: `Backup ${showPath(name)} is dated ${parsed.time.toISOString()}: ${Math.floor(ageMs / 1000)} s old, more than the maximum of ${maxAgeSeconds} s.`,
        input,
      });
    }
  }

  const entry = facts.catalogEntry;
  if (entry !== undefined) {
    if (facts.sha256 === undefined) {
      reasons.push({ code: "backup.checksum_mismatch", message: `Backup ref ${shown} could not be read to check it against the backup catalog.`, input });
    } else if (facts.size !== entry.size || facts.sha256.toLowerCase() !== entry.sha256.toLowerCase()) {
      const which = facts.size !== entry.size ? `size ${facts.size} bytes, the catalog recorded ${entry.size}` : "its sha256 differs from the one the catalog recorded";
      reasons.push({ code: "backup.checksum_mismatch", message: `Backup ref ${shown} changed since it was recorded: ${which}.`, input });
    }
  }
  return reasons;
}
