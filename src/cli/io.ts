// The process boundary handed to commands: streams, environment and working directory (tests pass their own).
import type { Writable } from "node:stream";

export interface CliIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export function processIO(): CliIO {
  ignoreClosedReader(process.stdout);
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/**
 * A reader that went away (`platformctl plan --json | head -c 100`) makes writes fail with EPIPE. That must neither
 * crash the command with a stack trace nor stop it halfway (an apply carries on to its end and its audit record);
 * what is written after the reader left is dropped. Any other stream error still surfaces.
 */
function ignoreClosedReader(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount("error") > 0) return;
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
}

/** ANSI styling, off when NO_COLOR is set (any value), when FORCE_COLOR=0, or when the stream is not a TTY. */
export function styler(io: CliIO, stream: "stdout" | "stderr" = "stdout") {
  const on = !("NO_COLOR" in io.env) && io.env.FORCE_COLOR !== "0" && (Boolean(io[stream].isTTY) || (io.env.FORCE_COLOR ?? "") !== "");
  const wrap = (open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), bold: wrap(1, 22), dim: wrap(2, 22), enabled: on };
}

export function writeLine(stream: Writable, line = ""): void {
  stream.write(`${line}\n`);
}
