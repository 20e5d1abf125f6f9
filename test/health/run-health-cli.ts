// Runs `health` / `smoke` in-process through the CLI's main (the same program the binary runs), with captured streams.
import { Writable } from "node:stream";
import type { CliIO } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
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
  const started = Date.now();
  const code = await main([process.execPath, "platformctl", ...args], io);
  return { code, stdout: out.text(), stderr: err.text(), ms: Date.now() - started };
}
