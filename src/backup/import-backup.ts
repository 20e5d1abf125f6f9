// `platformctl backup import FILE`: verifies an archive another tool made (structure and content) and records it in the backup catalog.
import { chmod, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { Module } from "../manifest/module.js";
import { PlatformError } from "../errors.js";
import { archiveProblem } from "../policy/check-backup.js";
import { parseBackupName } from "../policy/parse-backup-name.js";
import { isWithin } from "../policy/path-containment.js";
import { appendBackupCatalog, readBackupCatalog, sha256File, type BackupCatalogEntry } from "../state/backup-catalog.js";
import { ensureStateDir } from "../state/state-dir.js";
import { BACKUP_FILE_MODE, backupRoot } from "./create-backup.js";
import { verifyArchive } from "./verify-archive.js";

export interface ImportRequest {
  file: string;
  catalog: readonly Module[];
  env: Readonly<Record<string, string | undefined>>;
  stateDir: string;
  now: Date;
}

export interface ImportResult {
  file: string;
  module: string;
  size: number;
  sha256: string;
  volumes: string[];
  /** False when the catalog already recorded this exact file with the same size and sha256 (nothing written). */
  recorded: boolean;
}

const hint = "See runbooks/backup-import.md: the archive must be a gzip tar with volumes/<volume>/… for each named volume of the module.";

/**
 * Checks the file the way the gate checks a backup the catalog does not know — inside PLATFORMCTL_BACKUP_DIR, named
 * `<module>-<UTC>[-n].tar.gz` for a module of the catalog, a complete gzip tar holding that module's volumes — then
 * sets it to mode 0600 and appends its size and sha256 to the catalog, so a later change is a checksum mismatch.
 * Refuses (changing nothing) a file the catalog already records with another checksum, and an unreadable catalog.
 */
export async function importBackup(req: ImportRequest): Promise<ImportResult> {
  const root = await backupRoot(req.env);
  const real = await realpath(req.file).catch(() => undefined);
  const shown = JSON.stringify(req.file);
  if (real === undefined) throw new PlatformError("backup.not_found", `backup ${shown} does not exist`, { hint });
  const st = await stat(real);
  if (!st.isFile()) throw new PlatformError("backup.not_regular_file", `backup ${shown} is not a regular file`, { hint });
  if (!isWithin(real, root, { strict: true })) {
    throw new PlatformError("backup.outside_root", `backup ${shown} is not inside the backup root ${JSON.stringify(root)}`, {
      hint: `Move it into PLATFORMCTL_BACKUP_DIR (${root}) first: the gate only accepts backups there.`,
    });
  }
  const name = path.basename(real);
  const parsed = parseBackupName(name);
  if (parsed === undefined) {
    throw new PlatformError("backup.name_invalid", `backup file name ${JSON.stringify(name)} is not <module>-<YYYYMMDDTHHMMSSZ>.tar.gz`, {
      hint: "Rename it to <module>-<UTC time of the backup, e.g. 20260517T010847Z>.tar.gz, naming the module whose volumes it holds.",
    });
  }
  const catalogRead = await readBackupCatalog(req.stateDir);
  if (!catalogRead.ok)
    throw new PlatformError("backup.catalog_unreadable", `the backup catalog cannot be read: ${catalogRead.problem}`, {
      hint: "Fix or restore the catalog file, then import again.",
    });
  const archive = await verifyArchive(real);
  const problem = archiveProblem(archive, parsed.module, req.catalog);
  if (problem !== undefined)
    throw new PlatformError(
      "backup.unverified",
      `backup ${shown} cannot be verified (backup.unverified): ${problem.startsWith("is ") ? `it ${problem}` : problem}`,
      { hint },
    );
  const size = st.size;
  const sha256 = await sha256File(real);
  const known = catalogRead.entries.find((e) => e.file === real);
  if (known && (known.size !== size || known.sha256 !== sha256)) {
    throw new PlatformError(
      "backup.checksum_mismatch",
      `backup ${shown} is already in the catalog with another size or sha256: it changed since it was recorded`,
      {
        hint: "Take a new backup (platformctl backup <module>) rather than re-importing a changed file.",
      },
    );
  }
  await chmod(real, BACKUP_FILE_MODE);
  if (!known) {
    const entry: BackupCatalogEntry = { file: real, module: parsed.module, size, sha256, created_at: req.now.toISOString() };
    await appendBackupCatalog(await ensureStateDir(req.stateDir), entry);
  }
  return { file: real, module: parsed.module, size, sha256, volumes: archive.volumes, recorded: !known };
}
