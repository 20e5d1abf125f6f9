// Workflow lint findings: human (one line per finding with its fix, then a summary) or JSON ({clean, files, findings}).
import { formatFinding, type WorkflowFinding } from "../../workflows/lint-workflows.js";
import { styler, writeLine, type CliIO } from "../io.js";

export interface LintWorkflowsView {
  result(files: readonly string[], findings: readonly WorkflowFinding[]): void;
}

export function lintWorkflowsView(io: CliIO, json: boolean): LintWorkflowsView {
  if (json)
    return {
      result: (files, findings) => writeLine(io.stdout, JSON.stringify({ clean: findings.length === 0, files, findings }, null, 2)),
    };
  const s = styler(io);
  return {
    result(files, findings) {
      for (const f of findings) {
        writeLine(io.stdout, `${s.red("✗")} ${formatFinding(f)}`);
        writeLine(io.stdout, `    ${s.dim(`fix: ${f.fix}`)}`);
      }
      if (findings.length === 0) {
        writeLine(io.stdout, `${s.green("✓")} ${files.length} workflow${files.length === 1 ? "" : "s"} clean: ${files.join(", ")}`);
        return;
      }
      const n = new Set(findings.map((f) => f.file)).size;
      writeLine(io.stdout, `${findings.length} finding${findings.length === 1 ? "" : "s"} in ${n} file${n === 1 ? "" : "s"}`);
    },
  };
}
