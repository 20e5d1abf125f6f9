// The manifest's fixed vocabulary (name patterns, states, policies, methods, signals, the size limit) without zod, so code that only
// needs a pattern or a list (backup names, archives, the catalog's warm path) does not load the schema.

/**
 * Patterns are written once here and reused by the schema (so ajv and editors enforce them) and by the semantic
 * checks. They are ASCII-only on purpose: Unicode look-alikes (Cyrillic "а") must never pass as a name.
 */
export const PATTERNS = {
  moduleName: /^[a-z][a-z0-9-]{0,62}$/,
  serviceName: /^[a-z][a-z0-9_-]{0,62}$/,
  networkName: /^[a-z][a-z0-9_-]{0,62}$/,
  volumeName: /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/,
  envKey: /^[A-Za-z_][A-Za-z0-9_]*$/,
  /** A string in which every `$` is either `$$` or a well-formed `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}` or `${NAME?message}`. */
  interpolated: /^(?:[^$]|\$\$|\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?-|:?\?)[^}]*)?\})*$/,
  /** Compose list form of one environment entry: `KEY=value`, the value interpolated as above. */
  envListItem: /^[A-Za-z_][A-Za-z0-9_]*=(?:[^$]|\$\$|\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?-|:?\?)[^}]*)?\})*$/,
  /** Docker image reference: [registry[:port]/]path[:tag][@sha256:digest], path components lower-case. */
  image:
    /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/,
  absolutePath: /^\//,
  /** Compose short volume syntax: `[SOURCE:]TARGET[:ro|:rw]` with an absolute TARGET; SOURCE may hold `${...}` references. */
  volumeShort: /^(?:(?:\$\{[^}]*\}|\$\$|[^:$])+:)?\/[^:]*(?::(?:ro|rw))?$/,
  duration: /^(?:[0-9]+(?:ns|us|ms|s|m|h))+$/,
  memory: /^[0-9]+[bkmg]?$/,
  port: /^(?:(?:[0-9.]+|\[[0-9a-fA-F:]+\]):)?(?:[0-9]{1,5}(?:-[0-9]{1,5})?:)?[0-9]{1,5}(?:-[0-9]{1,5})?(?:\/(?:tcp|udp|sctp))?$/,
  /** Label keys: reverse-DNS style; the `dev.platformctl.` prefix is reserved for platformctl's own labels. */
  labelKey: /^(?!dev\.platformctl\.)[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/,
} as const;

export const EXPECTED_STATES = ["running", "healthy", "exited-success"] as const;
export const RESTART_POLICIES = ["no", "always", "unless-stopped", "on-failure"] as const;
export const BACKUP_METHODS = ["stop", "exec", "archive"] as const;
export const BACKUP_VERIFY = ["required", "optional"] as const;

/**
 * Signals a service may name as `stop_signal`: Linux's standard signals by their `SIG` names, the form Compose and
 * `docker stop` use. Left out on purpose: SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU and SIGCONT never end a process, so a
 * stop would always wait out the grace period and end in SIGKILL, the outcome this field exists to prevent.
 */
export const STOP_SIGNALS = [
  "SIGABRT",
  "SIGALRM",
  "SIGBUS",
  "SIGCHLD",
  "SIGFPE",
  "SIGHUP",
  "SIGILL",
  "SIGINT",
  "SIGIO",
  "SIGKILL",
  "SIGPIPE",
  "SIGPROF",
  "SIGPWR",
  "SIGQUIT",
  "SIGSEGV",
  "SIGSTKFLT",
  "SIGSYS",
  "SIGTERM",
  "SIGTRAP",
  "SIGURG",
  "SIGUSR1",
  "SIGUSR2",
  "SIGVTALRM",
  "SIGWINCH",
  "SIGXCPU",
  "SIGXFSZ",
] as const;

/** Largest manifest (or Compose file) read, in bytes. */
export const MAX_MANIFEST_BYTES = 256 * 1024;
