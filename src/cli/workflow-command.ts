// `platformctl changed` (modules a change touches) and `platformctl lint-workflows` (CI workflow rules); main.ts registers them.
import type { Command } from "commander";
import { lstat, readFile, readdir, realpath } from "node:fs/promises";
import path from "node:path";
import { EXIT, UsageError } from "../errors.js";
import { styler, writeLine, type CliIO } from "./io.js";
import type { GlobalFlags } from "./main.js";

export interface ChangedFlags {
  base: string;
  json?: boolean;
}

export interface LintWorkflowsFlags {
  json?: boolean;
}

/** The directories `lint-workflows` reads when none is given: the project's own, and the forge's when present. */
export const DEFAULT_WORKFLOW_DIRS = ["workflows", ".forgejo/workflows", ".github/workflows"] as const;

const MAX_WORKFLOW_BYTES = 1024 * 1024;

/** Adds `changed` and `lint-workflows` to the program. The actions load their dependencies on demand. */
export function registerWorkflowCommands(program: Command, io: CliIO, setExit: (c: number) => void, globals: () => GlobalFlags): void {
  program
    .command("changed")
    .description("List the modules changed since a base ref, dependents included (one name per line), for PR checks")
    .requiredOption("--base <ref>", "compare HEAD with its merge base with this commit, branch or tag (git diff REF...HEAD)")
    .option("--json", "print a JSON list of module names")
    .action(async (flags: ChangedFlags) => {
      setExit(await runChanged(io, globals(), flags));
    });

  program
    .command("lint-workflows")
    .description("Check CI workflows: script injection, exposed secrets, gated and dispatch-only applies, concurrency, pinned actions")
    .argument("[paths...]", `workflow directories or files (default: ${DEFAULT_WORKFLOW_DIRS.join(", ")} when present)`)
    .option("--json", "print the findings as JSON")
    .action(async (paths: string[], flags: LintWorkflowsFlags) => {
      setExit(await runLintWorkflows(io, paths, flags));
    });
}

export async function runChanged(io: CliIO, g: GlobalFlags, flags: ChangedFlags): Promise<number> {
  const { repositoryOf, changedFilesSince, checkBaseRef } = await import("../workflows/git-changes.js");
  const { computeChangedModules } = await import("../workflows/changed-modules.js");
  const { loadCatalogOrFail } = await import("./context.js");
  checkBaseRef(flags.base);
  const modulesDir = path.resolve(io.cwd, g.modulesDir);
  const repo = await repositoryOf(modulesDir);
  const files = await changedFilesSince(repo.root, flags.base);
  const catalog = await loadCatalogOrFail(modulesDir, io.env);
  const entries = await Promise.all(
    catalog.map(async (m) => ({
      name: m.name,
      dir: path.relative(repo.root, await realpath(m.dir)).split(path.sep).join("/"),
      dependsOn: m.dependsOn,
    })),
  );
  const result = computeChangedModules({ files, modulesDir: repo.relative, catalog: entries });
  if (flags.json) writeLine(io.stdout, JSON.stringify(result.modules));
  else for (const m of result.modules) writeLine(io.stdout, m);
  const parts = [
    result.direct.length ? `changed: ${result.direct.join(", ")}` : "no module changed",
    ...(result.dependents.length ? [`dependents: ${result.dependents.join(", ")}`] : []),
  ];
  writeLine(io.stderr, `${parts.join("; ")} (${files.length} file${files.length === 1 ? "" : "s"} changed since ${flags.base})`);
  for (const d of result.unknownDirs) {
    writeLine(io.stderr, `note: ${repo.relative ? `${repo.relative}/` : ""}${d} was touched but holds no module at HEAD (removed or renamed?); a full plan shows what is left of it`);
  }
  return EXIT.ok;
}

async function workflowFiles(io: CliIO, targets: readonly string[], explicit: boolean): Promise<string[]> {
  const files: string[] = [];
  for (const t of targets) {
    const st = await lstat(path.resolve(io.cwd, t)).catch(() => undefined);
    if (!st) {
      if (explicit) throw new UsageError("usage.path", `no such file or directory: ${t}`, { hint: "Pass workflow directories or files, e.g. platformctl lint-workflows .forgejo/workflows" });
      continue;
    }
    if (st.isDirectory()) {
      const names = (await readdir(path.resolve(io.cwd, t))).filter((n) => /\.ya?ml$/.test(n)).sort();
      files.push(...names.map((n) => path.join(t, n)));
    } else if (st.isFile()) files.push(t);
    else throw new UsageError("usage.path", `${t} is neither a file nor a directory`, { hint: "Pass workflow directories or files." });
  }
  return files;
}

export async function runLintWorkflows(io: CliIO, paths: readonly string[], flags: LintWorkflowsFlags): Promise<number> {
  const { lintWorkflow, formatFinding } = await import("../workflows/lint-workflows.js");
  const explicit = paths.length > 0;
  const files = await workflowFiles(io, explicit ? paths : DEFAULT_WORKFLOW_DIRS, explicit);
  if (files.length === 0) {
    throw new UsageError("usage.no_workflows", explicit ? `no *.yml or *.yaml file in ${paths.join(", ")}` : `no workflow found in ${DEFAULT_WORKFLOW_DIRS.join(", ")}`, {
      hint: "Run from the repository root, or pass the workflow directory.",
    });
  }
  const findings = [];
  for (const f of files) {
    const text = await readFile(path.resolve(io.cwd, f), "utf8");
    if (Buffer.byteLength(text) > MAX_WORKFLOW_BYTES) throw new UsageError("usage.file_too_large", `${f} is larger than 1 MiB`, { hint: "A workflow file is small; check the path." });
    findings.push(...lintWorkflow(f, text));
  }
  if (flags.json) {
    writeLine(io.stdout, JSON.stringify({ clean: findings.length === 0, files, findings }, null, 2));
    return findings.length ? EXIT.error : EXIT.ok;
  }
  const s = styler(io);
  for (const f of findings) {
    writeLine(io.stdout, `${s.red("✗")} ${formatFinding(f)}`);
    writeLine(io.stdout, `    ${s.dim(`fix: ${f.fix}`)}`);
  }
  if (findings.length === 0) {
    writeLine(io.stdout, `${s.green("✓")} ${files.length} workflow${files.length === 1 ? "" : "s"} clean: ${files.join(", ")}`);
    return EXIT.ok;
  }
  const n = new Set(findings.map((f) => f.file)).size;
  writeLine(io.stdout, `${findings.length} finding${findings.length === 1 ? "" : "s"} in ${n} file${n === 1 ? "" : "s"}`);
  return EXIT.error;
}
