// The validate report, human (one line per problem, then a summary) or JSON.
import type { CatalogResult } from "../../manifest/validate.js";
import { formatProblem } from "../../manifest/problems.js";
import { styler, writeLine, type CliIO } from "../io.js";

export interface ValidateView {
  result(result: CatalogResult, strict: boolean): void;
}

export function validateView(io: CliIO, json: boolean): ValidateView {
  return json ? jsonView(io) : humanView(io);
}

function jsonView(io: CliIO): ValidateView {
  return {
    result(result) {
      const payload = {
        valid: result.valid,
        modules: result.modules.map((m) => m.name),
        errors: result.problems.map(({ file, line, column, path, code, message, hint }) => ({
          file,
          line,
          column,
          path,
          code,
          message,
          hint,
        })),
        warnings: result.warnings.map(({ file, line, column, path, code, message, hint }) => ({
          file,
          line,
          column,
          path,
          code,
          message,
          hint,
        })),
      };
      writeLine(io.stdout, JSON.stringify(payload, null, 2));
    },
  };
}

function humanView(io: CliIO): ValidateView {
  const s = styler(io);
  return {
    result(result, strict) {
      for (const p of result.warnings) {
        writeLine(io.stdout, `${s.yellow("!")} ${formatProblem(p)}`);
        if (p.hint) writeLine(io.stdout, `    ${s.dim(`hint: ${p.hint}`)}`);
      }
      for (const p of result.problems) {
        writeLine(io.stdout, `${s.red("✗")} ${formatProblem(p)}`);
        if (p.hint) writeLine(io.stdout, `    ${s.dim(`hint: ${p.hint}`)}`);
      }
      if (result.valid) {
        writeLine(
          io.stdout,
          `${s.green("✓")} ${result.modules.length} module${result.modules.length === 1 ? "" : "s"} valid${strict ? " (strict)" : ""}: ${result.modules.map((m) => m.name).join(", ")}`,
        );
        return;
      }
      const files = new Set(result.problems.map((p) => p.file)).size;
      writeLine(
        io.stdout,
        `${result.problems.length} problem${result.problems.length === 1 ? "" : "s"} in ${files} file${files === 1 ? "" : "s"}${strict ? " (strict)" : ""}; nothing was changed.`,
      );
    },
  };
}
