// Policy decisions: human (one line per module, one per reason) or JSON (one object, or a list for several modules).
import { maintenanceLaneCommands, maintenanceLaneFits } from "../../policy/maintenance-advice.js";
import type { Decision } from "../../policy/policy.js";
import { styler, writeLine, type CliIO } from "../io.js";

export interface ScopeView {
  decisions(decisions: readonly Decision[]): void;
}

/** The `--json` shape of one decision. */
export function scopeJson(d: Decision) {
  return {
    module: d.module,
    stateful: d.stateful,
    eligible: d.eligible,
    rule: d.rule,
    reasons: d.reasons.map((r) => ({ code: r.code, message: r.message })),
    drift_kinds: d.drift_kinds,
    allowed_drift: d.allowed_drift,
  };
}

export function scopeView(io: CliIO, json: boolean): ScopeView {
  if (json)
    return {
      decisions: (ds) => writeLine(io.stdout, JSON.stringify(ds.length === 1 ? scopeJson(ds[0] as Decision) : ds.map(scopeJson), null, 2)),
    };
  const s = styler(io);
  return {
    decisions(ds) {
      for (const d of ds) {
        const head = d.eligible ? s.green("eligible") : s.red("blocked");
        writeLine(
          io.stdout,
          `${d.module}${d.stateful ? " (stateful)" : ""}: ${head} — rule ${d.rule}; drift: ${d.drift_kinds.length ? d.drift_kinds.join(", ") : "none"}`,
        );
        for (const r of d.reasons) writeLine(io.stdout, `  - ${r.code}: ${r.message}`);
        if (d.stateful && maintenanceLaneFits(d.reasons)) {
          writeLine(io.stdout, "  next: the maintenance lane (runbooks/upgrade-stateful-module.md):");
          for (const c of maintenanceLaneCommands(d.module)) writeLine(io.stdout, `    ${c}`);
        }
      }
    },
  };
}
