// Changed modules: names on stdout (one per line, or a JSON list); what changed and notes on stderr either way.
import type { ChangedModules } from "../../workflows/changed-modules.js";
import { writeLine, type CliIO } from "../io.js";

export interface ChangedView {
  /** `modulesDir` is the modules directory relative to the repository root ("" when it is the root). */
  result(result: ChangedModules, context: { files: number; base: string; modulesDir: string }): void;
}

export function changedView(io: CliIO, json: boolean): ChangedView {
  return {
    result(result, { files, base, modulesDir }) {
      if (json) writeLine(io.stdout, JSON.stringify(result.modules));
      else for (const m of result.modules) writeLine(io.stdout, m);
      const parts = [
        result.direct.length ? `changed: ${result.direct.join(", ")}` : "no module changed",
        ...(result.dependents.length ? [`dependents: ${result.dependents.join(", ")}`] : []),
      ];
      writeLine(io.stderr, `${parts.join("; ")} (${files} file${files === 1 ? "" : "s"} changed since ${base})`);
      for (const d of result.unknownDirs) {
        writeLine(
          io.stderr,
          `note: ${modulesDir ? `${modulesDir}/` : ""}${d} was touched but holds no module at HEAD (removed or renamed?); a full plan shows what is left of it`,
        );
      }
    },
  };
}
