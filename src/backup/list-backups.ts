// `platformctl backup list`: every backup the catalog records, with its method, size, age, consistency and latest verification.
import { stat } from "node:fs/promises";
import { PlatformError } from "../errors.js";
import { latestVerification, readBackupCatalog } from "../state/backup-catalog.js";

/** One backup as `backup list` shows it. */
export interface BackupListing {
  file: string;
  module: string;
  /** `stop`, `exec` or `archive`; `unknown` for an entry written before backups recorded their method. */
  method: string;
  size: number;
  sha256: string;
  created_at: string;
  /** Whole seconds since `created_at` at the time of listing. */
  age_seconds: number;
  /** Whether the copy is consistent for a database (method stop or exec); null when the entry does not say. */
  consistent: boolean | null;
  /** The latest `restore --verify` of this exact content; null when it was never verified. */
  verification: { verified_at: string; outcome: "passed" | "failed" } | null;
  /** The file is still there (a backup deleted by hand stays in the append-only catalog). */
  present: boolean;
}

/** The catalog's backups, newest first, optionally of one module. An unreadable catalog is an error, never "no backups". */
export async function listBackups(stateDir: string, now: Date, module?: string): Promise<BackupListing[]> {
  const read = await readBackupCatalog(stateDir);
  if (!read.ok)
    throw new PlatformError("backup.catalog_unreadable", `the backup catalog cannot be read: ${read.problem}`, {
      hint: "Fix or restore STATE_DIR/backup-catalog.jsonl (permissions, disk, a torn line).",
    });
  const rows: BackupListing[] = [];
  for (const e of read.entries) {
    if (module !== undefined && e.module !== module) continue;
    if (rows.some((r) => r.file === e.file)) continue; // the gate judges a file by its first entry; so does the list
    const extra = e as unknown as Record<string, unknown>;
    const v = latestVerification(read.verifications, e.file, e.sha256);
    const created = Date.parse(e.created_at);
    rows.push({
      file: e.file,
      module: e.module,
      method: typeof extra.method === "string" ? extra.method : "unknown",
      size: e.size,
      sha256: e.sha256,
      created_at: e.created_at,
      age_seconds: Number.isFinite(created) ? Math.max(0, Math.floor((now.getTime() - created) / 1000)) : 0,
      consistent: typeof extra.consistent === "boolean" ? extra.consistent : null,
      verification: v ? { verified_at: v.verified_at, outcome: v.outcome } : null,
      // Safe: a file that cannot be stat'ed is shown as missing, which is what the operator must look into.
      present: await stat(e.file).then(
        (s) => s.isFile(),
        () => false,
      ),
    });
  }
  return rows.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
}
