// apply's logger: at the default level apply rarely writes a line, so pino loads on the first line at an enabled level.
import type { Logger } from "pino";
import type { CliIO } from "./io.js";
import { logLevel } from "./log-level.js";

/** The log methods apply and the lock use. */
export type CommandLog = Pick<Logger, "info" | "warn" | "error">;

export interface DeferredLogger {
  log: CommandLog;
  /** Resolves once every line logged so far is handed to pino (await it before the command returns). */
  settled(): Promise<void>;
}

type Method = keyof CommandLog;

/** pino's own level values; a name not listed here makes pino load at once, so it rejects the name as it always did. */
const RANK: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const METHOD_RANK: Readonly<Record<Method, number>> = { info: 30, warn: 40, error: 50 };

/**
 * A logger that writes the same lines as `makeLogger`, in the order they were logged, each with the time it was
 * logged; lines below the level cost nothing and never load pino. Why: pino and its helpers are ~150 KB of code
 * that an `apply --rerun` otherwise compiles and runs on every start (~10% of its CPU, measured with `node --cpu-prof`).
 */
export async function deferredLogger(io: CliIO, verbose: boolean): Promise<DeferredLogger> {
  const threshold = RANK[logLevel(io.env, verbose)];
  if (threshold === undefined) {
    const log = (await import("./make-logger.js")).makeLogger(io, verbose);
    return { log, settled: async () => undefined };
  }
  let logger: Logger | undefined;
  let loading: Promise<void> | undefined;
  let stamp: Date | undefined;
  const pending: { method: Method; args: unknown[]; at: Date }[] = [];
  const write = (target: Logger, method: Method, args: unknown[]) => (target[method] as (...a: unknown[]) => void).apply(target, args);
  const load = () =>
    (loading ??= import("./make-logger.js").then(({ makeLogger }) => {
      const loaded = makeLogger(io, verbose, () => stamp ?? new Date());
      for (const line of pending.splice(0)) {
        stamp = line.at;
        write(loaded, line.method, line.args);
      }
      stamp = undefined;
      logger = loaded;
    }));
  const method =
    (name: Method) =>
    (...args: unknown[]): void => {
      if (METHOD_RANK[name] < threshold) return;
      if (logger) {
        write(logger, name, args);
        return;
      }
      pending.push({ method: name, args, at: new Date() });
      load().catch(() => undefined); // safe: settled() awaits the same promise and reports its failure
    };
  return {
    log: { info: method("info"), warn: method("warn"), error: method("error") } as CommandLog,
    settled: async () => {
      if (!loading) return;
      try {
        await loading;
      } catch (e) {
        io.stderr.write(
          `platformctl: the logger did not load (${e instanceof Error ? e.message : String(e)}); ${pending.length} log line(s) lost\n`,
        );
      }
    },
  };
}
