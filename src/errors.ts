// The one error base every layer throws; the CLI maps its class to an exit code.

/** Exit codes shared by every command. The table in docs/exit-codes.md is checked against this object by a test. */
export const EXIT = {
  ok: 0,
  /** An error, or a check that failed (invalid manifest, unhealthy module, failed apply). */
  error: 1,
  /** Drift found; only `plan --detailed-exitcode` uses it. */
  drift: 2,
  /** Blocked by the policy gate. */
  blocked: 3,
  /** Another apply holds the lock. */
  lockHeld: 4,
  /** A saved plan no longer matches the live state. */
  stalePlan: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Exit code for a process interrupted by signal number `n` (SIGINT=2 -> 130, SIGTERM=15 -> 143). */
export const exitForSignal = (n: number): number => 128 + n;

export interface PlatformErrorOptions {
  /** What went wrong in more words than the summary; never contains a secret value. */
  detail?: string;
  /** The next thing to run or read. */
  hint?: string;
  cause?: unknown;
  exitCode?: number;
}

/**
 * Base error: a stable machine `code`, a one-line summary (`message`), an optional detail and a hint.
 * Messages are shown to users as they are, so they must never contain a secret value.
 */
export class PlatformError extends Error {
  readonly code: string;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: string, message: string, options: PlatformErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = options.detail;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT.error;
  }
}

/** Bad input from the user (flags, paths, manifests): nothing was changed. */
export class UsageError extends PlatformError {}

/** A bug in platformctl itself; the CLI says so and asks for a report. */
export class InternalError extends PlatformError {
  constructor(message: string, options: PlatformErrorOptions = {}) {
    super("internal", message, options);
  }
}
