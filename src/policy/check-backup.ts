// Verifies a backup ref from facts the shell gathered: a regular, non-empty file inside the backup root, named for a covering module, fresh, matching its catalog entry.
import type { Module } from "../manifest/module.js";
import { isCleanAbsolute, isWithin } from "./path-containment.js";
import { parseBackupName } from "./parse-backup-name.js";
import type { ArchiveFacts, BackupFacts, Reason } from "./policy.js";

/** How a path is shown in a message: quoted and escaped, so a newline or control character in a name cannot forge output. */
export const showPath = (p: string): string => JSON.stringify(p);

/** Drops trailing slashes (`/backups/` -> `/backups`), keeping `/` itself (for showing and naming, not containment). */
const trimSlashes = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, "") || "/" : p);

const baseName = (p: string): string => p.slice(p.lastIndexOf("/") + 1);

/**
 * Every problem with the backup, each its own Reason with input "backup_ref". A backup that does not exist stops the
 * checks (the other facts mean nothing); otherwise containment, file type, size, name, age and checksum are all checked.
 * A file the catalog records must match its size and sha256; a file it does not record must be a complete gzip tar
 * holding at least one entry and every named volume of the module its name covers (else `backup.unverified`). An
 * unreadable catalog blocks (`backup.catalog_unreadable`): "no entry" would skip the checksum.
 */
export function checkBackup(
  facts: BackupFacts,
  module: Module,
  covering: readonly string[],
  catalog: readonly Module[],
  nowMs: number,
  maxAgeSeconds: number,
): Reason[] {
  const input = "backup_ref";
  const shown = showPath(facts.path);
  if (facts.realPath === undefined) {
    return [{ code: "backup.not_found", message: `Backup ref ${shown} does not exist.`, input }];
  }
  const reasons: Reason[] = [];
  const real = facts.realPath;
  const resolves = trimSlashes(real) === trimSlashes(facts.path) ? "" : ` (it resolves to ${showPath(real)})`;

  if (facts.backupRoot === undefined || !isCleanAbsolute(facts.backupRoot)) {
    reasons.push({
      code: "backup.root_missing",
      message: `The backup root is unknown (PLATFORMCTL_BACKUP_DIR unset or missing), so backup ref ${shown} cannot be checked.`,
      input,
    });
  } else if (!isWithin(real, facts.backupRoot, { strict: true })) {
    reasons.push({
      code: "backup.outside_root",
      message: `Backup ref ${shown}${resolves} is not inside the backup root ${showPath(facts.backupRoot)}.`,
      input,
    });
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
    if (!covering.includes(parsed.module)) {
      reasons.push({
        code: "backup.wrong_module",
        message: `Backup ${showPath(name)} is of module "${parsed.module}"; module "${module.name}" is covered by a backup of: ${covering.length ? covering.join(", ") : "(none declared, or no module covers all the data it writes)"}.`,
        input,
      });
    }
    const ageMs = nowMs - parsed.time.getTime();
    if (ageMs < 0) {
      reasons.push({
        code: "backup.future",
        message: `Backup ${showPath(name)} is dated ${parsed.time.toISOString()}, later than now (${new Date(nowMs).toISOString()}).`,
        input,
      });
    } else if (ageMs > maxAgeSeconds * 1000) {
      reasons.push({
        code: "backup.stale",
        message: `Backup ${showPath(name)} is dated ${parsed.time.toISOString()}: ${Math.floor(ageMs / 1000)} s old, more than the maximum of ${maxAgeSeconds} s.`,
        input,
      });
    }
  }

  const entry = facts.catalogEntry;
  if (facts.catalogUnreadable !== undefined) {
    reasons.push({
      code: "backup.catalog_unreadable",
      message: `The backup catalog could not be read (${facts.catalogUnreadable}), so backup ref ${shown} cannot be checked against it.`,
      input,
    });
  } else if (entry !== undefined) {
    if (facts.sha256 === undefined) {
      reasons.push({
        code: "backup.checksum_mismatch",
        message: `Backup ref ${shown} could not be read to check it against the backup catalog.`,
        input,
      });
    } else if (facts.size !== entry.size || facts.sha256.toLowerCase() !== entry.sha256.toLowerCase()) {
      const which =
        facts.size !== entry.size
          ? `size ${facts.size} bytes, the catalog recorded ${entry.size}`
          : "its sha256 differs from the one the catalog recorded";
      reasons.push({ code: "backup.checksum_mismatch", message: `Backup ref ${shown} changed since it was recorded: ${which}.`, input });
    }
  } else {
    const problem = archiveProblem(facts.archive, parsed?.module, catalog);
    if (problem !== undefined) {
      reasons.push({ code: "backup.unverified", message: `Backup ref ${shown} is not in the backup catalog and ${problem}.`, input });
    }
  }
  return reasons;
}

/**
 * Why an archive the catalog does not record is not evidence of a backup of `covering` (a module name, from the file
 * name); undefined when it is. Shared by the gate and by `backup import`, so both accept exactly the same archives.
 */
export function archiveProblem(a: ArchiveFacts | undefined, covering: string | undefined, catalog: readonly Module[]): string | undefined {
  if (a === undefined) return "it was not read to verify it";
  if (!a.complete) return `is not a complete gzip tar archive: ${a.problem ?? "unreadable"}`;
  if (a.entries === 0) return "the archive holds nothing";
  if (covering === undefined) return undefined; // backup.name_invalid blocks on its own
  const owner = catalog.find((m) => m.name === covering);
  if (owner === undefined)
    return `module "${covering}", whose backup it claims to be, is not in the catalog, so what it must hold is unknown`;
  const expected = [
    ...new Set(owner.services.flatMap((s) => s.volumes.filter((v) => v.type === "volume" && v.source).map((v) => v.source as string))),
  ].sort();
  const missing = expected.filter((v) => !a.volumes.includes(v));
  if (missing.length > 0)
    return `the archive does not hold ${missing.length === 1 ? "volume" : "volumes"} ${missing.join(", ")} of module "${covering}" (it holds: ${a.volumes.join(", ") || "no volume"})`;
  return undefined;
}

/** `backup.verify: required` on `m` (spec.backup.verify). */
const verifyRequired = (m: Module | undefined): boolean => m?.backup.verify === "required";

/**
 * `backup.not_verified` when the judged module, or the module the backup is of (by its file name), declares
 * `backup.verify: required` and the latest verification of the file's current content did not pass (or there is none).
 */
export function checkVerification(facts: BackupFacts, module: Module, catalog: readonly Module[]): Reason[] {
  const real = facts.realPath;
  const owner = real === undefined ? undefined : parseBackupName(baseName(trimSlashes(real)))?.module;
  const required = verifyRequired(module) ? module.name : verifyRequired(catalog.find((m) => m.name === owner)) ? owner : undefined;
  const v = facts.verification;
  if (required === undefined || v?.outcome === "passed") return [];
  const shown = showPath(facts.path);
  return [
    {
      code: "backup.not_verified",
      message:
        v === undefined
          ? `Backup ${shown} was never verified, and module "${required}" requires it (backup.verify: required).`
          : `The last verification of backup ${shown} failed (${v.verified_at}), and module "${required}" requires a passed one (backup.verify: required).`,
      input: "backup_ref",
    },
  ];
}
