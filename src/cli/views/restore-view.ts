// restore and restore --verify as they run and when they end: human (progress on stderr, a summary on stdout) or JSON.
import type { Decision } from "../../policy/policy.js";
import type { RestoreResult } from "../../restore/restore-module.js";
import type { VerifyResult } from "../../restore/verify-restore.js";
import type { ActionRecord } from "../../state/audit.js";
import { styler, writeLine, type CliIO } from "../io.js";

export interface RestoreView {
  progress(text: string): void;
  restored(result: RestoreResult): void;
  verified(result: VerifyResult): void;
  /** Only the JSON view is told: the human view lets the error handler print the blocked error. */
  blocked(decision: Decision): void;
}

const stepLine = (r: ActionRecord): string =>
  `  ${r.outcome === "done" ? "ok  " : r.outcome.padEnd(4)} ${r.type} ${r.service} (${(r.duration_ms / 1000).toFixed(1)}s)${r.message ? `: ${r.message}` : ""}`;

export function restoreView(io: CliIO, json: boolean): RestoreView {
  const print = (v: unknown) => writeLine(io.stdout, JSON.stringify(v, null, 2));
  if (json)
    return {
      progress: () => {},
      restored: print,
      verified: print,
      blocked: (d) =>
        print({
          module: d.module,
          outcome: "blocked",
          rule: d.rule,
          reasons: d.reasons.map((r) => ({ code: r.code, message: r.message })),
        }),
    };
  const s = styler(io);
  return {
    progress: (text) => writeLine(io.stderr, `… ${text}`),
    restored(r) {
      for (const st of r.steps) writeLine(io.stdout, stepLine(st));
      if (r.outcome === "restored")
        writeLine(
          io.stdout,
          `${s.green("restored")} ${r.module} from ${r.file} (downtime ${(r.downtime_ms / 1000).toFixed(1)} s, audit ${r.audit_id})`,
        );
      else {
        writeLine(io.stdout, `${s.red(r.outcome)} restoring ${r.module}: ${r.problem ?? ""}`);
        if (r.detail) writeLine(io.stdout, r.detail);
      }
    },
    verified(r) {
      for (const st of r.steps) writeLine(io.stdout, stepLine(st));
      for (const v of r.services) writeLine(io.stdout, `  ${v.healthy ? "healthy  " : "UNHEALTHY"} ${v.name}: ${v.reason}`);
      for (const p of r.probes) writeLine(io.stdout, `  probe ${p.status.padEnd(7)} ${p.name}${p.reason ? `: ${p.reason}` : ""}`);
      if (r.left_behind.length) writeLine(io.stdout, `${s.red("left behind")} (remove by hand): ${r.left_behind.join(", ")}`);
      writeLine(
        io.stdout,
        r.outcome === "passed"
          ? `${s.green("verified")} ${r.file}: restored and healthy under ${r.scratch_project} (removed); recorded at ${r.verified_at}`
          : `${s.red("verification failed")} for ${r.file}: ${r.problem ?? ""} (scratch project ${r.scratch_project} removed; recorded)`,
      );
    },
    blocked: () => {},
  };
}
