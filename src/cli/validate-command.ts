// `platformctl validate`: reports every manifest problem with its location, as text or JSON.
import { loadModules } from "../catalog/load-modules.js";
import { envFileDirs } from "../secrets/env-files.js";
import { formatProblem } from "../manifest/problems.js";
import { EXIT } from "../errors.js";
import { styler, writeLine, type CliIO } from "./io.js";

export interface ValidateFlags {
  strict?: boolean;
  json?: boolean;
}

export async function runValidate(io: CliIO, paths: string[], flags: ValidateFlags): Promise<number> {
  const result = await loadModules(paths, { strict: Boolean(flags.strict), envFileDirs: envFileDirs(io.env) });
  if (flags.json) {
    const payload = {
      valid: result.valid,
      modules: result.modules.map((m) => m.name),
      errors: result.problems.map(({ file, line, column, path, code, message, hint }) => ({ file, line, column, path, code, message, hint })),
    };
    writeLine(io.stdout, JSON.stringify(payload, null, 2));
    return result.valid ? EXIT.ok : EXIT.error;
  }
  const s = styler(io);
  for (const p of result.problems) {
    writeLine(io.stdout, `${s.red("✗")} ${formatProblem(p)}`);
    if (p.hint) writeLine(io.stdout, `    ${s.dim(`hint: ${p.hint}`)}`);
  }
  if (result.valid) {
    writeLine(io.stdout, `${s.green("✓")} ${result.modules.length} module${result.modules.length === 1 ? "" : "s"} valid${flags.strict ? " (strict)" : ""}: ${result.modules.map((m) => m.name).join(", ")}`);
    return EXIT.ok;
  }
  const files = new Set(result.problems.map((p) => p.file)).size;
  writeLine(io.stdout, `${result.problems.length} problem${result.problems.length === 1 ? "" : "s"} in ${files} file${files === 1 ? "" : "s"}${flags.strict ? " (strict)" : ""}; nothing was changed.`);
  return EXIT.error;
}
