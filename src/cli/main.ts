// Command-line entry: the program, its global options and commands, and the top-level handler around them.
// Commands load their dependencies when they run, so `--help` or `validate` never pay for the engine client.
import { Command } from "commander";
import { EXIT, UsageError } from "../errors.js";
import { PLATFORMCTL_VERSION } from "../version.js";
import { addGlobalOptions, parseGlobalArguments } from "./arguments/global-arguments.js";
import { registerApplyCommand } from "./commands/apply-command.js";
import { registerAuditCommand } from "./commands/audit-command.js";
import { registerBackupCommand } from "./commands/backup-command.js";
import { registerChangedCommand } from "./commands/changed-command.js";
import type { CommandEnv, RegisterCommand } from "./commands/command-env.js";
import { registerHealthCommand } from "./commands/health-command.js";
import { registerImportCommand } from "./commands/import-command.js";
import { registerLintWorkflowsCommand } from "./commands/lint-workflows-command.js";
import { registerPlanCommand } from "./commands/plan-command.js";
import { registerRestoreCommand } from "./commands/restore-command.js";
import { registerScopeCommand } from "./commands/scope-command.js";
import { registerSmokeCommand } from "./commands/smoke-command.js";
import { registerUnlockCommand } from "./commands/unlock-command.js";
import { registerValidateCommand } from "./commands/validate-command.js";
import { processIO, type CliIO } from "./io.js";

// The entries (bin/platformctl.js, the start-up snapshot's main) call it first; exported here, the bundle's one entry.
export { restoreLauncherEnv } from "./launcher-env.js";
import { reportError } from "./report-error.js";

/** Every command by the name it registers, in the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, RegisterCommand>> = {
  validate: registerValidateCommand,
  plan: registerPlanCommand,
  apply: registerApplyCommand,
  scope: registerScopeCommand,
  backup: registerBackupCommand,
  restore: registerRestoreCommand,
  unlock: registerUnlockCommand,
  audit: registerAuditCommand,
  health: registerHealthCommand,
  smoke: registerSmokeCommand,
  changed: registerChangedCommand,
  "lint-workflows": registerLintWorkflowsCommand,
  import: registerImportCommand,
};

/**
 * The command `args` run, when they name one for certain: their first operand, skipping the values of the program's
 * own options. Only that command is then built (building all of them is ~3 ms of every start, `node --cpu-prof`);
 * help, the version, an unknown or a missing command get all of them, so their output lists every command.
 */
function invokedCommand(program: Command, args: readonly string[]): string | undefined {
  const valued = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short]));
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (valued.has(a)) i += 1;
    else if (a === "-h" || a === "--help" || a === "-V" || a === "--version" || a === "--") return undefined;
    else if (!a.startsWith("-")) return Object.hasOwn(COMMANDS, a) ? a : undefined;
  }
  return undefined;
}

export function buildProgram(io: CliIO, setExit: (code: number) => void, argv: readonly string[] = []): Command {
  const program = addGlobalOptions(
    new Command("platformctl").description("Plan, gate and apply Docker-hosted platform modules safely.").version(PLATFORMCTL_VERSION),
  )
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  const env: CommandEnv = { io, globals: () => parseGlobalArguments(program, io), argv, setExit };
  const only = invokedCommand(program, argv.slice(2));
  for (const [name, register] of Object.entries(COMMANDS)) if (only === undefined || name === only) register(program, env);
  // --runtime wins over PLATFORMCTL_RUNTIME: the one runtime chooser (src/runtime/open-runtime.ts) reads the environment.
  program.hook("preAction", () => {
    const runtime = program.opts<{ runtime?: string }>().runtime;
    if (runtime === undefined) return;
    // Named as the flag it came from: the chooser's own error would blame PLATFORMCTL_RUNTIME, and "" would mean docker.
    if (runtime !== "docker" && runtime !== "swarm")
      throw new UsageError("usage.runtime", `--runtime ${JSON.stringify(runtime.slice(0, 40))} is not a runtime platformctl knows`, {
        hint: "Use --runtime docker or --runtime swarm.",
      });
    env.io = { ...io, env: { ...io.env, PLATFORMCTL_RUNTIME: runtime } };
  });
  return program;
}

/** Runs the CLI and returns the exit code; never throws. `argv` is process.argv (node, script, arguments...). */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c), argv);
  try {
    // argv[0] and argv[1] are node and the script; `from: "user"` keeps commander from guessing (it guesses wrong under --eval).
    await program.parseAsync(argv.slice(2), { from: "user" });
    return code;
  } catch (e) {
    return reportError(e, io, argv.includes("--verbose"));
  }
}
