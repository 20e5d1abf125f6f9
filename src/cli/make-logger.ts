// The CLI's logger: pino JSON lines on stderr; its own module so commands that log nothing at the default level never load pino.
import pino, { type Logger } from "pino";
import type { CliIO } from "./io.js";

/** JSON logs on stderr; `warn` by default, `debug` with --verbose, or PLATFORMCTL_LOG_LEVEL. */
export function makeLogger(io: CliIO, verbose: boolean): Logger {
  const level = io.env.PLATFORMCTL_LOG_LEVEL ?? (verbose ? "debug" : "warn");
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, io.stderr);
}
