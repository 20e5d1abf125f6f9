// The backup catalog (STATE_DIR/backup-catalog.jsonl): one JSON line per backup platformctl made (size, sha256), and one per restore verification.
import { createHash } from "node:crypto";
import path from "node:path";
import { PlatformError } from "../errors.js";
import { appendRegularFile, readFailure, readRegularFile, readRegularStream } from "./read-regular-file.js";

export const BACKUP_CATALOG_FILE = "backup-catalog.jsonl";

/**
 * One backup. `method`, `volumes`, `spec_hash` and `consistent` are written since archive format 1 and absent from
 * older lines and imported archives: readers treat them as unknown (never as consistent).
 */
export interface BackupCatalogEntry {
  file: string;
  module: string;
  size: number;
  sha256: string;
  created_at: string;
  method?: "stop" | "exec" | "archive";
  /** The manifest's volume names the archive holds. */
  volumes?: string[];
  /** The module's spec hash when the backup was taken. */
  spec_hash?: string;
  /** False for a live copy (method archive). */
  consistent?: boolean;
}

/**
 * A `restore --verify` of one backup: the archive was restored into scratch volumes under a throwaway project, started,
 * and judged by the module's health and smoke probes. Append-only: a later line for the same file supersedes an
 * earlier one. It carries the backup's `file`, `size` and `sha256` on purpose: a reader from before verification lines
 * existed takes it for a duplicate entry of the same backup (it matches the first line for a file), never for a
 * corrupt catalog. A verification counts only for the content it judged (`sha256`).
 */
export interface BackupVerification {
  type: "verification";
  file: string;
  module: string;
  size: number;
  sha256: string;
  /** When the verification finished (ISO 8601). */
  verified_at: string;
  /** `passed`: every service reached its expected state and no smoke probe failed. */
  outcome: "passed" | "failed";
  /** The throwaway project it ran under (removed afterwards). */
  scratch_project: string;
  /** Why it failed, masked; absent when it passed. */
  problem?: string;
}

/** The catalog's entries and verifications, or why it could not be read. A missing catalog is empty, not an error. */
export type BackupCatalogRead =
  | { ok: true; entries: BackupCatalogEntry[]; verifications: BackupVerification[] }
  | { ok: false; problem: string };

const isEntry = (e: unknown): e is BackupCatalogEntry => {
  const x = e as Partial<BackupCatalogEntry> | null;
  return typeof x === "object" && x !== null && typeof x.file === "string" && typeof x.sha256 === "string" && typeof x.size === "number";
};

const isVerification = (e: unknown): e is BackupVerification => {
  const x = e as Partial<BackupVerification> | null;
  return (
    isEntry(e) &&
    x?.type === "verification" &&
    typeof x.verified_at === "string" &&
    (x.outcome === "passed" || x.outcome === "failed") &&
    typeof x.module === "string"
  );
};

/** One line: an entry (no `type`), a verification, or undefined when it is neither. */
function classify(e: unknown): { entry: BackupCatalogEntry } | { verification: BackupVerification } | undefined {
  if ((e as { type?: unknown } | null)?.type === undefined) return isEntry(e) ? { entry: e } : undefined;
  return isVerification(e) ? { verification: e } : undefined;
}

/**
 * Reads STATE_DIR/backup-catalog.jsonl. Absent: no entries. Unreadable (permissions, a directory, I/O error) or a line
 * that is not an entry: `ok: false` — the gate must block rather than take "no entry" and skip the checksum. A torn
 * last line (no newline, as a crash mid-append leaves it) is the one exception: it is ignored.
 */
export async function readBackupCatalog(stateDir: string): Promise<BackupCatalogRead> {
  const file = path.join(stateDir, BACKUP_CATALOG_FILE);
  let text: string;
  try {
    text = (await readRegularFile(file)).toString("utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: true, entries: [], verifications: [] };
    return { ok: false, problem: `${file}: ${code ?? (e as Error).message}` };
  }
  const lines = text.split("\n");
  const torn = lines.at(-1) ?? "";
  const entries: BackupCatalogEntry[] = [];
  const verifications: BackupVerification[] = [];
  const keep = (c: NonNullable<ReturnType<typeof classify>>) => {
    if ("entry" in c) entries.push(c.entry);
    else verifications.push(c.verification);
  };
  for (const [i, line] of lines.slice(0, -1).entries()) {
    if (line.trim() === "") continue;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      return { ok: false, problem: `${file}:${i + 1}: not a JSON line` };
    }
    const c = classify(e);
    if (c === undefined) return { ok: false, problem: `${file}:${i + 1}: not a backup entry (file, size, sha256) or verification` };
    keep(c);
  }
  if (torn.trim() !== "") {
    try {
      const c = classify(JSON.parse(torn));
      if (c) keep(c);
    } catch {
      // a torn tail from an interrupted append: not an entry
    }
  }
  return { ok: true, entries, verifications };
}

/** The latest verification of `file` with content `sha256`; undefined when it was never verified as it is now. */
export function latestVerification(
  verifications: readonly BackupVerification[],
  file: string,
  sha256: string,
): BackupVerification | undefined {
  return verifications.filter((v) => v.file === file && v.sha256.toLowerCase() === sha256.toLowerCase()).at(-1);
}

/** Appends one verification line (mode 0600 when the catalog is created). */
export async function appendBackupVerification(stateDir: string, verification: BackupVerification): Promise<void> {
  await appendLine(
    stateDir,
    verification,
    `The ${verification.outcome} verification of ${verification.file} was not recorded.`,
    (catalog) =>
      `Make ${catalog} a writable regular file, then verify again (platformctl restore ${verification.module} --from ${verification.file} --verify).`,
  );
}

/** Appends one entry (mode 0600 when the catalog is created). */
export async function appendBackupCatalog(stateDir: string, entry: BackupCatalogEntry): Promise<void> {
  await appendLine(
    stateDir,
    entry,
    `The archive ${entry.file} is written and kept, but not recorded in the catalog.`,
    (catalog) => `Make ${catalog} a writable regular file, then record the archive: platformctl backup import ${entry.file}`,
  );
}

/** Appends one JSON line; a failure (a FIFO or device in its place, no space, no permission) is `backup.catalog_write_failed`. */
async function appendLine(stateDir: string, line: object, detail: string, hint: (catalog: string) => string): Promise<void> {
  const catalog = path.join(stateDir, BACKUP_CATALOG_FILE);
  try {
    await appendRegularFile(catalog, `${JSON.stringify(line)}\n`, 0o600);
  } catch (e) {
    throw new PlatformError("backup.catalog_write_failed", `cannot append to the backup catalog ${catalog} (${readFailure(e)})`, {
      detail,
      hint: hint(catalog),
      cause: e,
    });
  }
}

/** The file's SHA-256 in hex; a FIFO or device fails with `EFTYPE` instead of blocking (`readRegularStream`). */
export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of readRegularStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}
