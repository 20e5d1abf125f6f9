// Command-line entry: commander wiring, global options, and the one handler that maps errors to exit codes.
// Each command loads its own dependencies on demand, so `--help` or `validate` never pay for the engine client.
import { Command, CommanderError, Option } from "commander";
import { EXIT, PlatformError } from "../errors.js";
import { processIO, styler, writeLine, type CliIO } from "./io.js";
import type { PlanFlags } from "./plan-command.js";

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

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
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
    .option("--out <file>", "save the plan (JSON with its fingerprint) for apply --plan")
    .option("--detailed-exitcode", "exit 2 when there is drift, 0 when there is none")
    .option("--prune", "plan removal of orphaned and duplicate containers")
    .action(async (flags: PlanFlags) => {
      const { runPlan } = await import("./plan-command.js");
      setExit(await runPlan(io, globalFlags(program, io), flags));
    });

  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
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
