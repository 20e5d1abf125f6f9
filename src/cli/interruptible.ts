// SIGINT/SIGTERM/SIGHUP abort a running command through an AbortController; the number seen becomes exit 128+n.
import { writeSync } from "node:fs";
import { exitForSignal, InterruptedError } from "../errors.js";

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

/**
 * What a second signal leaves behind, said in its one line. A process that exits without cleanup keeps its apply lock
 * file; the next apply judges it by pid (same host, boot and PID namespace: this process is gone, so it takes over) or
 * by its lease, except while a one-shot recorded in the lock still runs (then `unlock --force`, see held-lock.md).
 */
const LEFT_BEHIND =
  "its apply lock, if it held one, stays in STATE_DIR until the next apply finds this process gone and takes it over " +
  "(if a one-shot it started still runs, wait for it or see runbooks/held-lock.md for `platformctl unlock --force`); " +
  "the audit log may lack this run's result, and engine work it started may be half done: run `platformctl plan` to see it";

/**
 * Installs the handlers; `dispose` removes them. The first signal aborts the controller (a graceful stop: lock
 * released, audit says `interrupted`). Decision: a second signal during that stop exits at once with 128+n of the
 * second signal after one line on stderr, because a call stuck in the filesystem (an open() on a FIFO, a hung network
 * mount) never returns to let the graceful stop finish, and nothing else but SIGKILL would end the process.
 */
export function interruptible(): { controller: AbortController; signalNumber: () => number | undefined; dispose: () => void } {
  const controller = new AbortController();
  let seen: number | undefined;
  const handler = (sig: NodeJS.Signals) => {
    const n = SIGNAL_NUMBERS[sig] ?? 2;
    if (seen === undefined) {
      seen = n;
      writeSync(
        2,
        `platformctl: ${sig}: stopping cleanly (what it holds released, the run recorded as interrupted); send it again to stop at once without cleaning up.\n`,
      );
      controller.abort(new InterruptedError(n, `interrupted by ${sig}`));
      return;
    }
    // Synchronous on purpose: the process ends right after, and an async stderr write to a pipe could be lost.
    writeSync(2, `platformctl: second ${sig}: stopped now without cleaning up (exit ${exitForSignal(n)}); ${LEFT_BEHIND}.\n`);
    // Not process.exit(): its teardown joins libuv's thread pool, where the stuck open() sits, and hangs (seen on Node
    // 20). Removing the listeners restores the default action; the process then dies of the signal itself, which a
    // shell or CI runner reports as 128+n.
    for (const s of Object.keys(SIGNAL_NUMBERS)) process.removeAllListeners(s);
    process.kill(process.pid, sig);
  };
  for (const s of Object.keys(SIGNAL_NUMBERS)) process.on(s, handler);
  return {
    controller,
    signalNumber: () => seen,
    dispose: () => {
      for (const s of Object.keys(SIGNAL_NUMBERS)) process.off(s, handler);
    },
  };
}
