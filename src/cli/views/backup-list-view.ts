// `backup list`: one line per backup (module, method, size, age, consistency, verification), or JSON {backups}.
import type { BackupListing } from "../../backup/list-backups.js";
import { styler, writeLine, type CliIO } from "../io.js";

/** 93 s -> `1m`, 7200 s -> `2h`, 3 days -> `3d`: the age at a glance. */
export function shortAge(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** 2048 -> `2.0 KiB`. */
export function shortSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

export function backupListView(io: CliIO, json: boolean): { list(rows: readonly BackupListing[]): void } {
  if (json) return { list: (rows) => writeLine(io.stdout, JSON.stringify({ backups: rows }, null, 2)) };
  const s = styler(io);
  return {
    list(rows) {
      if (rows.length === 0) {
        writeLine(io.stdout, "no backups recorded");
        return;
      }
      const table = rows.map((r) => [
        r.module,
        r.method,
        shortSize(r.size),
        shortAge(r.age_seconds),
        r.consistent === null ? "unknown" : r.consistent ? "consistent" : "inconsistent",
        r.verification === null
          ? "never"
          : r.verification.outcome === "passed"
            ? `verified ${r.verification.verified_at}`
            : `FAILED ${r.verification.verified_at}`,
        r.present ? r.file : `${r.file} (missing)`,
      ]);
      const head = ["MODULE", "METHOD", "SIZE", "AGE", "CONSISTENT", "VERIFICATION", "FILE"];
      const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
      const line = (cells: string[]) =>
        cells
          .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
          .join("  ")
          .trimEnd();
      writeLine(io.stdout, s.bold(line(head)));
      for (const row of table) writeLine(io.stdout, line(row));
    },
  };
}
