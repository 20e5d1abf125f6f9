// The backup catalog (STATE_DIR/backup-catalog.jsonl): one JSON line per backup platformctl made, with size and sha256.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";
import path from "node:path";

export const BACKUP_CATALOG_FILE = "backup-catalog.jsonl";

export interface BackupCatalogEntry {
  file: string;
  module: string;
  size: number;
  sha256: string;
  created_at: string;
}

/** The catalog's entries, or why it could not be read. A missing catalog is empty, not an error. */
export type BackupCatalogRead = { ok: true; entries: BackupCatalogEntry[] } | { ok: false; problem: string };

const isEntry = (e: unknown): e is BackupCatalogEntry => {
  const x = e as Partial<BackupCatalogEntry> | null;
  return typeof x === "object" && x !== null && typeof x.file === "string" && typeof x.sha256 === "string" && typeof x.size === "number";
};

/**
 * Reads STATE_DIR/backup-catalog.jsonl. Absent: no entries. Unreadable (permissions, a directory, I/O error) or a line
 * that is not an entry: `ok: false` — the gate must block rather than take "no entry" and skip the checksum. A torn
 * last line (no newline, as a crash mid-append leaves it) is the one exception: it is ignored.
 */
export async function readBackupCatalog(stateDir: string): Promise<BackupCatalogRead> {
  const file = path.join(stateDir, BACKUP_CATALOG_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: true, entries: [] };
    return { ok: false, problem: `${file}: ${code ?? (e as Error).message}` };
  }
  const lines = text.split("\n");
  const torn = lines.at(-1) ?? "";
  const entries: BackupCatalogEntry[] = [];
  for (const [i, line] of lines.slice(0, -1).entries()) {
    if (line.trim() === "") continue;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      return { ok: false, problem: `${file}:${i + 1}: not a JSON line` };
    }
    if (!isEntry(e)) return { ok: false, problem: `${file}:${i + 1}: not a backup entry (file, size, sha256)` };
    entries.push(e);
  }
  if (torn.trim() !== "") {
    try {
      const e: unknown = JSON.parse(torn);
      if (isEntry(e)) entries.push(e);
    } catch {
      // a torn tail from an interrupted append: not an entry
    }
  }
  return { ok: true, entries };
}

/** Appends one entry (mode 0600 when the catalog is created). */
export async function appendBackupCatalog(stateDir: string, entry: BackupCatalogEntry): Promise<void> {
  await appendFile(path.join(stateDir, BACKUP_CATALOG_FILE), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}
