// A smoke run: human (the module's verdict, one line per probe with its output, a summary) or JSON.
import type { ModuleVerdict } from "../../health/judge-health.js";
import type { ProbeResult } from "../../health/run-probes.js";
import { styler, writeLine, type CliIO } from "../io.js";
import { serviceJson, writeModule } from "./health-view.js";

export interface SmokeView {
  result(verdict: ModuleVerdict, probes: readonly ProbeResult[], passed: boolean): void;
}

function probeJson(p: ProbeResult) {
  return { name: p.name, kind: p.kind, status: p.status, duration_ms: p.durationMs, reason: p.reason, output: p.output };
}

export function smokeView(io: CliIO, json: boolean): SmokeView {
  if (json) {
    return {
      result: (v, probes, passed) =>
        io.stdout.write(
          `${JSON.stringify({ module: v.name, healthy: v.healthy, services: v.services.map(serviceJson), probes: probes.map(probeJson), passed }, null, 2)}\n`,
        ),
    };
  }
  const s = styler(io);
  return {
    result(verdict, probes, passed) {
      writeModule(io, verdict, s);
      for (const p of probes) {
        const mark = p.status === "passed" ? s.green("passed ") : p.status === "skipped" ? s.yellow("skipped") : s.red("FAILED ");
        writeLine(io.stdout, `  probe ${mark} ${p.name} (${p.kind}, ${p.durationMs} ms)${p.reason ? `: ${p.reason}` : ""}`);
        if (p.output) for (const line of p.output.split("\n")) writeLine(io.stdout, `      ${s.dim("|")} ${line}`);
      }
      if (!probes.length) writeLine(io.stdout, s.dim("  (no smoke probes declared)"));
      const failed = probes.filter((p) => p.status === "failed").length;
      const skipped = probes.filter((p) => p.status === "skipped").length;
      const unavailable = probes.filter((p) => p.skipCause === "unavailable").length;
      const cannot = unavailable ? ` (${unavailable} could not run here, which is not a pass)` : "";
      const summary = `${probes.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped${cannot}${verdict.healthy ? "" : "; module unhealthy"}`;
      writeLine(io.stdout, passed ? s.green(`smoke passed: ${summary}`) : s.red(`smoke failed: ${summary}`));
    },
  };
}
