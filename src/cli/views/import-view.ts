// The `import compose` report, human (modules, what was inferred, numbered decisions) or JSON.
import path from "node:path";
import type { ImportModuleSet } from "../../catalog/import-module-set.js";
import { styler, writeLine, type CliIO } from "../io.js";

export interface ImportResult extends ImportModuleSet {
  written: string[];
  overwritten: string[];
  out: string;
  project: string;
  given: string[];
}

export interface ImportView {
  result(result: ImportResult): void;
}

export function importView(io: CliIO, json: boolean): ImportView {
  return json ? jsonView(io) : humanView(io);
}

function jsonView(io: CliIO): ImportView {
  return {
    result(r) {
      const payload = {
        written: r.written,
        overwritten: r.overwritten,
        project: r.project,
        modules: r.modules.map((m) => ({
          name: m.name,
          file: m.file,
          services: m.services,
          expected_state: m.expectedState,
          expected_state_reason: m.expectedStateWhy,
          stateful: m.stateful,
          stateful_reason: m.statefulWhy ?? null,
          depends_on: m.dependsOn,
          backup_ref_modules: m.backupRefModules ?? null,
          backup_ref_reason: m.backupRefWhy ?? null,
        })),
        strict_valid: r.strictValid,
        decisions: r.decisions.map((d) => ({
          number: d.number,
          code: d.code,
          module: d.module ?? null,
          message: d.message,
          file: d.at?.file ?? null,
          line: d.at?.line ?? null,
          column: d.at?.column ?? null,
        })),
      };
      writeLine(io.stdout, JSON.stringify(payload, null, 2));
    },
  };
}

function humanView(io: CliIO): ImportView {
  const s = styler(io);
  return {
    result(r) {
      const rel = (f: string) => {
        const r = path.relative(io.cwd, f);
        return r === "" ? "." : r.startsWith("..") ? f : r;
      };
      writeLine(
        io.stdout,
        `Imported ${r.modules.length} module${r.modules.length === 1 ? "" : "s"} from ${r.given.join(", ")} into ${rel(r.out)} (Compose project ${r.project}):`,
      );
      const width = Math.max(...r.modules.map((m) => m.name.length));
      for (const m of r.modules) {
        const facts = [
          m.expectedState,
          m.services.length > 1 || m.services[0] !== m.name ? `services ${m.services.join(", ")}` : undefined,
          m.dependsOn.length ? `depends on ${m.dependsOn.join(", ")}` : undefined,
          m.backupRefModules ? `backup_ref_modules: [${m.backupRefModules.join(", ")}]` : undefined,
        ].filter((x) => x !== undefined);
        writeLine(io.stdout, `  ${m.name.padEnd(width)}  ${facts.join("; ")}`);
      }
      for (const m of r.modules.filter((x) => x.stateful))
        writeLine(io.stdout, `${s.yellow("!")} ${m.name} is marked stateful: ${m.statefulWhy}; confirm it in ${rel(m.file)}`);
      writeLine(io.stdout, `Wrote ${r.written.map(rel).join(", ")}${r.overwritten.length ? ` (overwrote ${r.overwritten.length})` : ""}.`);
      if (r.decisions.length) {
        writeLine(io.stdout, "");
        writeLine(
          io.stdout,
          `${s.bold("Still to decide")} (${r.strictValid ? "validate --strict passes already" : "validate --strict fails until these are settled"}):`,
        );
        for (const d of r.decisions) {
          const where = d.at ? `${rel(d.at.file)}${d.at.line > 0 ? `:${d.at.line}:${d.at.column}` : ""} ` : "";
          writeLine(io.stdout, `  ${d.number}. ${where}${d.message}`);
        }
      } else writeLine(io.stdout, `${s.green("✓")} the imported modules pass validate --strict; nothing is left to decide.`);
      writeLine(io.stdout, `Next: platformctl validate --strict ${rel(r.out)} && platformctl plan --modules-dir ${rel(r.out)}`);
    },
  };
}
