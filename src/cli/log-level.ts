// The CLI's log level rule, apart from pino so that deciding whether a line is written never loads it.

/** `warn` by default, `debug` with --verbose, or PLATFORMCTL_LOG_LEVEL (pino validates it when it loads). */
export function logLevel(env: Readonly<Record<string, string | undefined>>, verbose: boolean): string {
  return env.PLATFORMCTL_LOG_LEVEL ?? (verbose ? "debug" : "warn");
}
