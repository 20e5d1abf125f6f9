// Method exec: runs the module's dump command in its running service and spools the command's stdout to a 0600 file.
import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Module } from "../manifest/module.js";
import type { Runtime } from "../runtime/runtime.js";
import { PlatformError } from "../errors.js";
import { findExecTarget, maskedTail } from "./exec-target.js";

export interface SpooledDump {
  service: string;
  bytes: number;
  durationMs: number;
}

/**
 * Runs `spec.backup.exec.command` in the module's running exec service and writes its stdout, byte for byte, into
 * `file` (created here with O_EXCL and `mode`; a tar entry needs its size up front, and a dump never sits in memory).
 * Within `timeoutMs`. A non-zero exit, a timeout or a command that cannot start is `backup.failed` with the command's
 * last stderr lines masked with the module's values; the caller removes `file`.
 */
export async function spoolDump(opts: {
  runtime: Runtime;
  project: string;
  module: Module;
  env: Readonly<Record<string, string | undefined>>;
  file: string;
  mode: number;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}): Promise<SpooledDump> {
  const m = opts.module;
  const target = await findExecTarget(opts.runtime, opts.project, m, opts.env, opts.signal);
  const out = createWriteStream(opts.file, { flags: "wx", mode: opts.mode });
  let r: Awaited<ReturnType<Runtime["execStream"]>>;
  try {
    r = await opts.runtime.execStream(target.id, target.command, { stdout: out, timeoutMs: opts.timeoutMs, signal: opts.signal });
    await new Promise<void>((resolve, reject) => {
      out.once("error", reject);
      out.end(() => resolve());
    });
  } finally {
    out.destroy();
  }
  // fsync is per file, not per descriptor: the dump is durable before the archive is built from it.
  const fh = await open(opts.file, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  const what = `the dump command of ${m.name} (${target.command[0] ?? ""} in service ${target.service})`;
  const tail = maskedTail(target, r.stderrTail);
  if (r.timedOut || r.exitCode !== 0) {
    const why = r.timedOut
      ? `did not finish within ${Math.round(opts.timeoutMs / 1000)} s (it may still run in the container)`
      : r.exitCode === null
        ? "ended without an exit code"
        : `exited ${r.exitCode}`;
    throw new PlatformError("backup.failed", `${what} ${why}; no archive was kept`, {
      detail: tail ? `Its last stderr lines (masked):\n${tail}` : "It wrote nothing to stderr.",
      hint: r.timedOut
        ? "Give it longer (platformctl backup --timeout <seconds>), or check what the command waits for."
        : `Run the command by hand in the container to see the whole error (docker exec ${target.name} …), fix the cause, then back up again.`,
    });
  }
  return { service: target.service, bytes: r.stdoutBytes, durationMs: r.durationMs };
}
