// What main hands every command: the process boundary, the global options, argv (for the audit log) and where the exit code goes.
import type { Command } from "commander";
import type { GlobalArguments } from "../arguments/global-arguments.js";
import type { CliIO } from "../io.js";

export interface CommandEnv {
  io: CliIO;
  /** The global options, resolved when the command runs (flag, then environment, then default). */
  globals: () => GlobalArguments;
  /** The process argv as given to main, for the command line recorded in the audit log and the lock file. */
  argv: readonly string[];
  /** Receives the command's exit code; errors thrown instead reach the top-level handler. */
  setExit: (code: number) => void;
}

/** Adds one command to the program; every file in src/cli/commands exports one of these. */
export type RegisterCommand = (program: Command, env: CommandEnv) => void;
