// Renders the modules an import planned and judges them as `validate` would, in memory, before anything is written.
import path from "node:path";
import type { ComposeImport, ImportDecision, ImportedModule } from "../manifest/compose/import-compose.js";
import { renderImportedModule } from "../manifest/compose/render-imported-module.js";
import type { ComposeFiles } from "../manifest/compose/validate-compose.js";
import type { Problem } from "../manifest/problems.js";
import { validateCatalog, validateManifest, type ManifestSource } from "../manifest/validate.js";
import { envFileDirs } from "../secrets/env-files.js";
import { MANIFEST_FILE } from "./load-modules.js";
import type { ModuleFile } from "./write-imported-modules.js";

export interface ImportContext {
  /** Absolute Compose files in `-f` order, and the same as the operator typed them. */
  files: string[];
  given: string[];
  /** Absolute modules directory the modules go to. */
  out: string;
  envFile: string | undefined;
  project: { name: string; why: string };
  env: Readonly<Record<string, string | undefined>>;
  /** What was read: the Compose files (absolute paths, `extends` targets included) and the interpolation environment. */
  compose: ComposeFiles;
}

export interface ImportModuleSet {
  modules: (ImportedModule & { file: string })[];
  files: ModuleFile[];
  /** What the operator must still decide, numbered from 1 in the order shown. */
  decisions: (ImportDecision & { number: number })[];
  /** Problems `validate` (not strict) would report: the import is refused. */
  invalid: Problem[];
  /** True when `validate --strict` passes on the set as written. */
  strictValid: boolean;
}

const inside = (file: string, dir: string) => {
  const rel = path.relative(dir, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
};

export function importModuleSet(plan: Extract<ComposeImport, { ok: true }>, ctx: ImportContext): ImportModuleSet {
  const decisions: ImportDecision[] = [...plan.decisions];
  const allowed = envFileDirs(ctx.env);
  let validationDirs = allowed;
  const envOutside = ctx.envFile !== undefined && !inside(ctx.envFile, ctx.out);
  if (ctx.envFile !== undefined && envOutside) {
    const dir = path.dirname(ctx.envFile);
    // The relative form cannot leave the catalog (the confinement rule), so the module names it absolutely; reading
    // it still needs the operator's opt-in on every host, which a module cannot grant itself.
    if (!allowed.some((d) => inside(ctx.envFile as string, d)))
      decisions.push({
        code: "env_file.outside_catalog",
        module: undefined,
        message: `the modules read the env file ${ctx.envFile} (spec.compose.env_file), outside ${ctx.out}: set PLATFORMCTL_ENV_FILE_DIRS=${dir} wherever platformctl runs, or move the file into ${ctx.out} and name it relative to the modules`,
      });
    validationDirs = [...allowed, dir];
  }
  const files: ModuleFile[] = [];
  const sources: ManifestSource[] = [];
  const modules: (ImportedModule & { file: string })[] = [];
  for (const m of plan.modules) {
    const dir = path.join(ctx.out, m.name);
    const text = renderImportedModule(m, {
      files: ctx.files.map((f) => path.relative(dir, f).split(path.sep).join("/")),
      given: ctx.given,
      project: ctx.project.name,
      projectWhy: ctx.project.why,
      envFile: ctx.envFile === undefined ? undefined : envOutside ? ctx.envFile : path.relative(dir, ctx.envFile).split(path.sep).join("/"),
    });
    files.push({ module: m.name, text });
    const file = path.join(dir, MANIFEST_FILE);
    modules.push({ ...m, file });
    // Judged with what the import read (the same paths the catalog would join), before --out exists.
    sources.push({ file, dir, dirName: m.name, bytes: new TextEncoder().encode(text), compose: ctx.compose });
  }
  const judge = (strict: boolean) => {
    const options = { strict, envFileDirs: validationDirs };
    return validateCatalog(sources, options, { results: sources.map((s) => validateManifest(s, options)) });
  };
  const lax = judge(false);
  if (!lax.valid) return { modules, files, decisions: [], invalid: lax.problems, strictValid: false };
  const strict = judge(true);
  for (const p of strict.problems)
    decisions.push({
      code: "strict.problem",
      module: moduleOf(p, modules),
      message: `${p.path ? `${p.path}: ` : ""}${p.message} [${p.code}]${p.hint ? `; ${p.hint}` : ""}`,
      at: { file: p.file, line: p.line, column: p.column },
    });
  return {
    modules,
    files,
    decisions: decisions.map((d, i) => ({ ...d, number: i + 1 })),
    invalid: [],
    // The env file's directory was allowed for judging; without the operator's opt-in validate refuses it.
    strictValid: strict.valid && !decisions.some((d) => d.code === "env_file.outside_catalog"),
  };
}

/** The module a strict problem belongs to: its module file, or the module owning the Compose service it names. */
function moduleOf(p: Problem, modules: readonly (ImportedModule & { file: string })[]): string | undefined {
  const byFile = modules.find((m) => m.file === p.file);
  if (byFile) return byFile.name;
  const service = /^services\.([^.[]+)/.exec(p.path)?.[1];
  return modules.find((m) => service !== undefined && m.services.includes(service))?.name;
}
