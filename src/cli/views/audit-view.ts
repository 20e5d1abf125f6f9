// Audit records: human (one line per record, a warning for torn lines on stderr) or JSON ({records, skipped_lines}).
import type { AuditRecord } from "../../state/audit.js";
import { writeLine, type CliIO } from "../io.js";

export interface AuditView {
  /** `skipped` are the line numbers that could not be read (torn writes); `file` is the audit log read. */
  records(records: readonly AuditRecord[], skipped: readonly number[], file: string): void;
}

export function auditView(io: CliIO, json: boolean): AuditView {
  if (json) return { records: (records, skipped) => writeLine(io.stdout, JSON.stringify({ records, skipped_lines: skipped }, null, 2)) };
  return {
    records(records, skipped, file) {
      if (skipped.length) writeLine(io.stderr, `warning: skipped unreadable audit lines ${skipped.join(", ")} (torn writes)`);
      for (const r of records) writeLine(io.stdout, auditLine(r));
      if (records.length === 0) writeLine(io.stdout, `no audit records in ${file}`); // a mistyped STATE_DIR shows here
    },
  };
}

function auditLine(r: AuditRecord): string {
  if (r.type === "intent")
    return `${r.time} ${r.id} intent   ${r.modules.join(",")} by ${r.actor.user}@${r.actor.host} plan ${r.plan_fingerprint.slice(0, 19)}…`;
  if (r.type === "result") return `${r.time} ${r.id} ${r.outcome.padEnd(8)} ${r.modules.map((m) => `${m.module}:${m.outcome}`).join(" ")}`;
  if (r.type === "rollback-intent")
    return `${r.time} ${r.id} rollback intent of ${r.intent_id}: ${r.module} (${r.services.join(", ")}): ${r.reason}`;
  if (r.type === "rollback-result") return `${r.time} ${r.id} ${r.outcome} ${r.module}: ${r.message}`;
  if (r.type === "backup-intent") return `${r.time} ${r.id} backup intent ${r.module} (method ${r.method}): stops ${r.services.join(", ")}`;
  if (r.type === "backup-result")
    return `${r.time} ${r.id} backup ${r.outcome} ${r.module}: downtime ${r.downtime_ms} ms${r.message ? `: ${r.message}` : ""}`;
  if (r.type === "reconciled") return `${r.time} ${r.id} reconciled intent ${r.intent_id}: ${r.note}`;
  return `${r.time} ${r.id} unlock by ${r.actor.user}@${r.actor.host}`;
}
