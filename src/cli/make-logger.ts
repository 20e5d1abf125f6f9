// The CLI's logger: pino JSON lines on stderr; its own module so commands that log nothing at the default level never load pino.
import pino, { type Logger } from "pino";
import type { CliIO } from "./io.js";
import { logLevel } from "./log-level.js";

/**
 * JSON logs on stderr at `logLevel`. `stamp` gives a line's time when it was logged before pino loaded (see
 * deferred-logger.ts); by default a line carries the time it is written.
 */
export function makeLogger(io: CliIO, verbose: boolean, stamp: () => Date = () => new Date()): Logger {
  return pino(
    { level: logLevel(io.env, verbose), base: { pid: process.pid }, timestamp: () => `,"time":"${stamp().toISOString()}"` },
    io.stderr,
  );
}
