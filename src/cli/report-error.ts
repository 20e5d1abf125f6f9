// The one top-level error handler: every error becomes text on stderr, and its exit code comes from the error registry.
// A bug (InternalError, or anything that is not a PlatformError) says so and asks for a report; stacks only with --verbose.
import { CommanderError } from "commander";
import { EXIT, exitCodeFor, InternalError, PlatformError } from "../errors.js";
import { styler, writeLine, type CliIO } from "./io.js";

const REPORT = "This is a bug in platformctl. Re-run with --verbose for details and report it.";

export function reportError(e: unknown, io: CliIO, verbose: boolean): number {
  const s = styler(io, "stderr");
  if (e instanceof CommanderError) {
    // help and version exit 0; usage errors were already printed by commander
    return e.exitCode === 0 || e.code === "commander.helpDisplayed" || e.code === "commander.version" ? EXIT.ok : EXIT.error;
  }
  if (e instanceof PlatformError && !(e instanceof InternalError)) {
    writeLine(io.stderr, `${s.red("error:")} ${e.message}`);
    if (e.detail) writeLine(io.stderr, e.detail);
    if (e.hint) writeLine(io.stderr, `${s.dim("hint:")} ${e.hint}`);
    if (verbose && e.stack) writeLine(io.stderr, e.stack);
    return exitCodeFor(e);
  }
  const message = e instanceof Error ? e.message : String(e);
  writeLine(io.stderr, `${s.red("internal error:")} ${message}`);
  if (e instanceof InternalError && e.detail) writeLine(io.stderr, e.detail);
  writeLine(io.stderr, REPORT);
  if (verbose && e instanceof Error && e.stack) writeLine(io.stderr, e.stack);
  return e instanceof InternalError ? exitCodeFor(e) : EXIT.error;
}
