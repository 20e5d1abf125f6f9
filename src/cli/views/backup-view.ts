// A finished backup or import: human (the path alone on stdout, what it holds on stderr) or JSON.
import type { BackupResult } from "../../backup/create-backup.js";
import type { ImportResult } from "../../backup/import-backup.js";
import { writeLine, type CliIO } from "../io.js";

export interface BackupView {
  created(result: BackupResult): void;
  imported(result: ImportResult): void;
}

export function backupView(io: CliIO, json: boolean): BackupView {
  if (json)
    return {
      created: (r) => writeLine(io.stdout, JSON.stringify(r, null, 2)),
      imported: (r) => writeLine(io.stdout, JSON.stringify(r, null, 2)),
    };
  // The path alone on stdout, so `--backup-ref "$(platformctl backup m)"` works.
  return {
    created(r) {
      const what = r.dump ? `the output of the dump command as ${r.dump}` : [...r.volumes, ...r.binds].join(", ");
      writeLine(io.stderr, `backed up ${what} (method ${r.method}): ${r.size} bytes, sha256 ${r.sha256}`);
      if (r.dump) writeLine(io.stderr, "no downtime: the dump command ran in the running service");
      if (r.downtime_ms !== null)
        writeLine(io.stderr, `downtime: ${(r.downtime_ms / 1000).toFixed(1)} s (services stopped during the copy)`);
      if (!r.consistent)
        writeLine(io.stderr, "warning: a live copy (method archive): not consistent for databases; use method stop or exec for them");
      writeLine(io.stdout, r.file);
    },
    imported(r) {
      writeLine(
        io.stderr,
        `${r.recorded ? "verified and recorded" : "already recorded"}: a backup of ${r.module} holding ${r.volumes.join(", ") || "no named volume"}, ${r.size} bytes, sha256 ${r.sha256}`,
      );
      writeLine(io.stdout, r.file);
    },
  };
}
