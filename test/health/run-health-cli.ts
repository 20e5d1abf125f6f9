// Runs `health` / `smoke` in-process through registerHealthCommands on a fresh commander program (main.ts wires it the same way).
import { Command } from "commander";
import { Writable } from "node:stream";
import { registerHealthCommands } from "../../src/cli/health-command.js";
import type { CliIO } from "../../src/cli/io.js";
import { globalFlags, reportError } from "../../src/cli/main.js";
import { REPO } from "../helpers/platform.js";

export interface HealthCliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

/** `args` as typed after `platformctl`, e.g. `["--project", p, "health", "--json"]`. */
export async function runHealthCli(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<HealthCliRun> {
  const out = sink();
  const err = sink();
  const io: CliIO = { stdout: out.stream, stderr: err.stream, env: { ...process.env, NO_COLOR: "1", ...env }, cwd: REPO };
  let code = 0;
  const program = new Command("platformctl")
    .option("--modules-dir <dir>")
    .option("--project <name>")
    .option("--verbose")
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  registerHealthCommands(program, io, (c) => (code = c), () => globalFlags(program, io));
  const started = Date.now();
  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (e) {
    code = reportError(e, io, false);
  }
  return { code, stdout: out.text(), stderr: err.text(), ms: Date.now() - started };
}
