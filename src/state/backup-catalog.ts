// The backup catalog (STATE_DIR/backup-catalog.jsonl): one JSON line per backup platformctl made, with size and sha256.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

export const BACKUP_CATALOG_FILE = "backup-catalog.jsonl";

export interface BackupCatalogEntry {
  file: string;
  module: string;
  size: number;
  sha256: string;
  created_at: string;
}

export async function readBackupCatalog(stateDir: string): Promise<BackupCatalogEntry[]> {
  const text = await readFile(path.join(stateDir, BACKUP_CATALOG_FILE), "utf8").catch(() => "");
  return text.split("\n").flatMap((l) => {
    try {
      const e = JSON.parse(l) as BackupCatalogEntry;
      return typeof e.file === "string" && typeof e.sha256 === "string" ? [e] : [];
    } catch {
      return [];
    }
  });
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}
