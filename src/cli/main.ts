// Command-line entry: commander wiring, global options, and the one handler that maps errors to exit codes.
// Each command loads its own dependencies on demand, so `--help` or `validate` never pay for the engine client.
import { Command, CommanderError, Option } from "commander";
import { EXIT, PlatformError } from "../errors.js";
import { processIO, styler, writeLine, type CliIO } from "./io.js";
import type { PlanFlags } from "./plan-command.js";
import type { ApplyFlags } from "./apply-command.js";
import type { ScopeFlags } from "./scope-command.js";
import { registerHealthCommands } from "./health-command.js";
import { registerWorkflowCommands } from "./workflow-command.js";

export interface GlobalFlags {
  modulesDir: string;
  project: string;
  verbose: boolean;
}

/** Resolves the options every command shares: flag, then environment, then default. */
export function globalFlags(program: Command, io: CliIO): GlobalFlags {
  const o = program.opts<{ modulesDir?: string; project?: string; verbose?: boolean }>();
  return {
    modulesDir: o.modulesDir ?? io.env.PLATFORMCTL_MODULES_DIR ?? "modules",
    project: o.project ?? io.env.PLATFORMCTL_PROJECT ?? "platform",
    verbose: Boolean(o.verbose),
  };
}

export function buildProgram(io: CliIO, setExit: (code: number) => void, argv: readonly string[] = []): Command {
  const program = new Command("platformctl")
    .description("Plan, gate and apply Docker-hosted platform modules safely.")
    .version("0.1.0")
    .addOption(new Option("--modules-dir <dir>", "modules directory (env PLATFORMCTL_MODULES_DIR)").default(undefined, "./modules"))
    .addOption(new Option("--project <name>", "project label of the containers platformctl owns (env PLATFORMCTL_PROJECT)").default(undefined, "platform"))
    .option("--verbose", "debug logs on stderr and stack traces for internal errors")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();

  program
    .command("validate")
    .description("Validate module manifests and report every problem with its location")
    .argument("[paths...]", "modules directory, module directory or module.yaml (default: the modules directory)")
    .option("--strict", "also apply the strict rules used in CI")
    .option("--json", "print a JSON report")
    .action(async (paths: string[], flags: { strict?: boolean; json?: boolean }) => {
      const g = globalFlags(program, io);
      const { runValidate } = await import("./validate-command.js");
      setExit(await runValidate(io, paths.length ? paths : [g.modulesDir], flags));
    });

  program
    .command("plan")
    .description("Observe the engine (read-only) and show the drift of each module as data")
    .option("-m, --module <name>", "plan only this module (repeatable)", collect, [])
    .option("--json", "print the plan as JSON (schema/plan.schema.json)")
    .option("--markdown", "print a compact Markdown table (PR comments, step summaries)")
    .option("--out <file>", "save the plan (JSON with its fingerprint) for apply --plan; a new path or a regular file, or - for stdout")
    .option("--detailed-exitcode", "exit 2 when there is drift, 0 when there is none")
    .option("--prune", "plan removal of orphaned and duplicate containers")
    .action(async (flags: PlanFlags) => {
      const { runPlan } = await import("./plan-command.js");
      setExit(await runPlan(io, globalFlags(program, io), flags));
    });

  program
    .command("apply")
    .description("Converge modules: execute their plan (policy-gated, locked, audited); one-shots must exit 0")
    .option("-m, --module <name>", "module to apply (repeatable; applied in depends_on order)", collect, [])
    .option("--plan <file>", "execute this saved plan; refused (exit 5) when the live state moved on")
    .option("--timeout <duration>", "bound for each wait (default: the module's timeout_seconds), e.g. 300 or 5m")
    .option("--allow-stateful", "allow changes to a stateful module (policy gate)")
    .option("--backup-ref <path>", "verified backup covering the module (policy gate)", collect, [])
    .option("--confirm <token>", "typed confirmation token (policy gate)", collect, [])
    .option("--bootstrap", "first creation of a stateful module (no backup exists yet)")
    .option("--backup-max-age <duration>", "maximum backup age, e.g. 24h (default 24h)")
    .option("--rerun", "re-run one-shots that are in sync, on purpose (still gated and recorded)")
    .option("--lock-wait <duration>", "wait this long for another apply's lock instead of failing with exit 4")
    .option("--prune", "also remove orphaned and duplicate containers")
    .option("--json", "print the result as JSON")
    .action(async (flags: ApplyFlags) => {
      const { runApply } = await import("./apply-command.js");
      setExit(await runApply(io, globalFlags(program, io), flags, argv));
    });

  program
    .command("scope")
    .description("Print the policy decision for a module without acting (the CI pre-check before apply)")
    .option("-m, --module <name>", "module to judge (repeatable)", collect, [])
    .option("--allow-stateful", "as for apply")
    .option("--backup-ref <path>", "as for apply", collect, [])
    .option("--confirm <token>", "as for apply", collect, [])
    .option("--bootstrap", "as for apply")
    .option("--backup-max-age <duration>", "as for apply (default 24h)")
    .option("--rerun", "as for apply")
    .option("--plan <file>", "judge this saved plan instead of a fresh one")
    .option("--fail-on-blocked", "exit 3 when the decision is blocked")
    .option("--json", "print the decision as JSON")
    .action(async (flags: ScopeFlags) => {
      const { runScope } = await import("./scope-command.js");
      setExit(await runScope(io, globalFlags(program, io), flags));
    });

  program
    .command("backup")
    .description("Archive a module's volumes into PLATFORMCTL_BACKUP_DIR and print the path to pass as --backup-ref")
    .argument("<module>", "module to back up")
    .option("--json", "print {file, size, sha256, volumes, binds}")
    .action(async (module: string, flags: { json?: boolean }) => {
      const { runBackup } = await import("./scope-command.js");
      setExit(await runBackup(io, globalFlags(program, io), module, flags));
    })
    .command("import")
    .description("Verify an archive another tool made (a complete gzip tar holding the module's volumes) and record it in the backup catalog")
    .argument("<file>", "archive inside PLATFORMCTL_BACKUP_DIR, named <module>-<YYYYMMDDTHHMMSSZ>.tar.gz")
    .option("--json", "print {file, module, size, sha256, volumes, recorded}")
    .action(async (file: string, flags: { json?: boolean }, cmd: Command) => {
      const { runBackupImport } = await import("./scope-command.js");
      // `--json` after the subcommand is parsed by `backup`, which has the same option.
      const json = Boolean(flags.json || cmd.parent?.opts<{ json?: boolean }>().json);
      setExit(await runBackupImport(io, globalFlags(program, io), file, { json }));
    });

  program
    .command("unlock")
    .description("Remove a held apply lock (operators only; see runbooks/held-lock.md)")
    .option("--force", "required: confirms the holder is gone (or, with --pid, that a live one may lose it)")
    .option("--pid <pid>", "the pid of a running holder whose lock is to be removed anyway (refused without it)")
    .action(async (flags: { force?: boolean; pid?: string }) => {
      const { runUnlock } = await import("./apply-command.js");
      setExit(await runUnlock(io, globalFlags(program, io), flags));
    });

  program
    .command("audit")
    .description("Read the audit log (STATE_DIR/audit.jsonl)")
    .option("-m, --module <name>", "only records about this module (repeatable)", collect, [])
    .option("--limit <n>", "show the last N records (default 20)")
    .option("--json", "print records as JSON")
    .action(async (flags: { module?: string[]; json?: boolean; limit?: string }) => {
      const { runAudit } = await import("./apply-command.js");
      setExit(await runAudit(io, globalFlags(program, io), flags));
    });

  registerHealthCommands(program, io, setExit, () => globalFlags(program, io));
  registerWorkflowCommands(program, io, setExit, () => globalFlags(program, io));
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(
    io,
    (c) => {
      code = c;
    },
    argv,
  );
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (e) {
    return reportError(e, io, argv.includes("--verbose"));
  }
}

/** The one place errors become text and exit codes. Stacks only with --verbose. */
export function reportError(e: unknown, io: CliIO, verbose: boolean): number {
  const s = styler(io, "stderr");
  if (e instanceof CommanderError) {
    // help and version exit 0; usage errors were already printed by commander
    return e.exitCode === 0 || e.code === "commander.helpDisplayed" || e.code === "commander.version" ? EXIT.ok : EXIT.error;
  }
  if (e instanceof PlatformError) {
    writeLine(io.stderr, `${s.red("error:")} ${e.message}`);
    if (e.detail) writeLine(io.stderr, e.detail);
    if (e.hint) writeLine(io.stderr, `${s.dim("hint:")} ${e.hint}`);
    if (verbose && e.stack) writeLine(io.stderr, e.stack);
    return e.exitCode;
  }
  const message = e instanceof Error ? e.message : String(e);
  writeLine(io.stderr, `${s.red("internal error:")} ${message}`);
  writeLine(io.stderr, "This is a bug in platformctl. Re-run with --verbose for details and report it.");
  if (verbose && e instanceof Error && e.stack) writeLine(io.stderr, e.stack);
  return EXIT.error;
}
