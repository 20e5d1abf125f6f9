// Processes that take the apply lock through the built library (test/helpers/lock-child.mjs), for lock and unlock tests.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { REPO } from "./repo.js";

const CHILD = path.join(REPO, "test/helpers/lock-child.mjs");

export interface LockChild {
  p: ChildProcessWithoutNullStreams;
  /** The next stdout line starting with `prefix` (rejects when the child exits first). */
  line(prefix: string): Promise<string>;
  stderr(): string;
  /** Ends it and waits until it has exited: closes stdin (a holder releases and exits), SIGKILL after 10 s. For cleanups. */
  kill(): Promise<void>;
}

/** A child process running test/helpers/lock-child.mjs (optionally wrapped, e.g. in `unshare`), killed after the test. */
export function aLockChild(args: string[], wrap: string[] = []): LockChild {
  const [cmd, ...rest] = [...wrap, process.execPath, CHILD, ...args];
  const p = spawn(cmd as string, rest, { stdio: "pipe" });
  const seen: string[] = [];
  const waiters: { prefix: string; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let err = "";
  let exited: string | undefined;
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  p.once("exit", (code) => {
    exited = `child exited (${code})`;
    for (const w of waiters.splice(0)) w.reject(new Error(`${exited} before printing "${w.prefix}": ${err}`));
  });
  createInterface({ input: p.stdout }).on("line", (l) => {
    const w = waiters.findIndex((x) => l.startsWith(x.prefix));
    if (w >= 0) waiters.splice(w, 1)[0]?.resolve(l);
    else seen.push(l);
  });
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const i = seen.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return resolve(seen.splice(i, 1)[0] as string);
      if (exited) return reject(new Error(`${exited} before printing "${prefix}": ${err}`));
      waiters.push({ prefix, resolve, reject });
    });
  const gone = new Promise<void>((resolve) => p.once("exit", () => resolve()));
  const kill = async () => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    p.stdin.end();
    const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(timer);
  };
  return { p, line, stderr: () => err, kill };
}
