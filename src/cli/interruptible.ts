// SIGINT/SIGTERM/SIGHUP abort a running command through an AbortController; the number seen becomes exit 128+n.
import { InterruptedError } from "../errors.js";

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

/** Installs the handlers; `dispose` removes them. The first signal wins. */
export function interruptible(): { controller: AbortController; signalNumber: () => number | undefined; dispose: () => void } {
  const controller = new AbortController();
  let seen: number | undefined;
  const handler = (sig: NodeJS.Signals) => {
    if (seen === undefined) {
      const n = SIGNAL_NUMBERS[sig] ?? 2;
      seen = n;
      controller.abort(new InterruptedError(n, `interrupted by ${sig}`));
    }
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
