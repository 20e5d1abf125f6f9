// `platformctl import compose`: scaffolds module manifests from Compose files; writes them all or nothing.
import path from "node:path";
import type { Command } from "commander";
import { EXIT, PlatformError, UsageError } from "../../errors.js";
import { addImportComposeOptions, parseImportArguments, type ImportArguments, type ImportFlags } from "../arguments/import-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerImportCommand(program: Command, env: CommandEnv): void {
  const group = program.command("import").description("Scaffold module manifests from another tool's files");
  addImportComposeOptions(
    group
      .command("compose")
      .description("Write one module per Compose service (or per --group) that takes its services from the Compose files")
      .addHelpText(
        "after",
        [
          "",
          "Inferred, with the reason as a comment in each module.yaml: expected_state (exited-success when restart is",
          '"no" or unset and a dependent waits with service_completed_successfully; healthy with a healthcheck; else',
          "running), stateful (a named volume written, or a one-shot waiting on a stateful store: confirm it), depends_on",
          "and backup_ref_modules. The set is judged by validate --strict before anything is written; what is left to",
          "decide is printed as a numbered list (also in --json).",
          "",
          "--project NAME (the global option) is written as spec.compose.project: the name Compose runs the services",
          "under (-p). Default: Compose's own, the last top-level name:, else the first file's directory.",
          "",
          "Exit codes: 0 written (decisions may remain); 1 refused, nothing written: a Compose error at its file:line,",
          "a bad --group, an existing module file without --force. Details: docs/import.md",
        ].join("\n"),
      ),
  ).action(async (flags: ImportFlags, cmd: Command) => {
    const project = cmd.optsWithGlobals<{ project?: string }>().project;
    env.setExit(await runImportCompose(env, parseImportArguments(flags, project)));
  });
}

const PROJECT = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export async function runImportCompose(env: CommandEnv, args: ImportArguments): Promise<number> {
  const [
    { readComposeProject },
    { planComposeImport },
    { composeProjectName },
    { importModuleSet },
    { existingModuleFiles, writeModuleFiles },
    { importView },
    { formatProblem },
  ] = await Promise.all([
    import("../../catalog/read-compose-project.js"),
    import("../../manifest/compose/import-compose.js"),
    import("../../manifest/compose/compose-project-name.js"),
    import("../../catalog/import-module-set.js"),
    import("../../catalog/write-imported-modules.js"),
    import("../views/import-view.js"),
    import("../../manifest/problems.js"),
  ]);
  const cwd = env.io.cwd;
  const files = args.files.map((f) => path.resolve(cwd, f));
  const out = path.resolve(cwd, args.out);
  const envFile = args.envFile === undefined ? undefined : path.resolve(cwd, args.envFile);
  if (args.project !== undefined && !PROJECT.test(args.project))
    throw new UsageError("usage.project", `--project "${args.project}" is not a Compose project name`, {
      hint: "Use lower-case letters, digits, '-' and '_', starting with a letter or digit.",
    });

  const invalid = (message: string, lines: string[], hint: string) =>
    new PlatformError("catalog.import_invalid", message, { detail: lines.join("\n"), hint });
  const { loaded, read, env: composeEnv } = await readComposeProject(files, envFile, env.io.env);
  if (loaded.problems.length)
    throw invalid(
      `the Compose files cannot be imported (${loaded.problems.length} problem${loaded.problems.length === 1 ? "" : "s"}); nothing was written`,
      loaded.problems.map(formatProblem),
      "Fix them in the Compose files (docker compose config shows the merged model), then run the import again.",
    );
  const plan = planComposeImport(loaded.services, args.groups);
  if (!plan.ok) {
    const lines = plan.refusals.map((r) => (r.at ? `${r.at.file}:${r.at.line}:${r.at.column} ${r.message}` : r.message));
    if (plan.refusals.some((r) => r.code.startsWith("group.") && r.code !== "group.depends_inside"))
      throw new UsageError("usage.import_group", `--group cannot be applied; nothing was written`, {
        detail: lines.join("\n"),
        hint: "Name each service of the Compose files at most once, in --group services=name.",
      });
    throw invalid(
      "the Compose services cannot become modules as given; nothing was written",
      lines,
      "Use --group to name or split modules.",
    );
  }
  const composeFiles = files
    .map((f, i) => ({ file: f, shown: args.files[i] as string, bytes: read.get(f) }))
    .filter((f): f is { file: string; shown: string; bytes: Uint8Array } => f.bytes instanceof Uint8Array);
  const named =
    args.project === undefined
      ? composeProjectName(composeFiles)
      : { name: args.project, why: "From --project: the project name Compose runs these services under (docker compose -p)" };
  if (named.name === undefined)
    throw new UsageError("usage.project", `no Compose project name: ${named.why}`, {
      hint: "Pass --project with the name you run Compose with (-p).",
    });

  const set = importModuleSet(plan, {
    files,
    given: args.files,
    out,
    envFile,
    project: { name: named.name, why: named.why },
    env: env.io.env,
    compose: { read, env: composeEnv },
  });
  if (set.invalid.length)
    throw invalid(
      `the imported modules would be invalid (${set.invalid.length} problem${set.invalid.length === 1 ? "" : "s"}); nothing was written`,
      set.invalid.map(formatProblem),
      "Fix the Compose files at the positions shown, then run the import again.",
    );
  const existing = await existingModuleFiles(
    out,
    set.modules.map((m) => m.name),
  );
  if (existing.length && !args.force)
    throw new PlatformError(
      "catalog.import_exists",
      `${existing.length} module file${existing.length === 1 ? "" : "s"} exist already; nothing was written`,
      {
        detail: existing.join("\n"),
        hint: "Pass --force to overwrite them, or choose another --out.",
      },
    );
  const written = await writeModuleFiles(out, set.files);
  importView(env.io, args.json).result({ ...set, written, out, project: named.name, given: args.files, overwritten: existing });
  return EXIT.ok;
}
