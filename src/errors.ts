// The one error base every layer throws, and the closed registry of error codes (meaning, exit code, runbook).
// Exit codes are looked up in the registry by the CLI's top-level handler only; throw sites never choose one.

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

/** Exit code for a process interrupted by signal number `n` (SIGINT=2 -> 130, SIGTERM=15 -> 143). */
export const exitForSignal = (n: number): number => 128 + n;

/** One registered error code: what it means to an operator, how the process exits, and the runbook to read. */
export interface ErrorCodeSpec {
  /** One sentence: the situation, not the message (messages carry the specifics). */
  meaning: string;
  /** A key of EXIT, or `signal` for 128+n (the error carries the signal number). */
  exit: keyof typeof EXIT | "signal";
  /** `runbooks/<name>.md` when one covers the situation. */
  runbook?: string;
}

/**
 * Every error code platformctl throws. Closed: `PlatformError` takes only these keys, and test/errors.test.ts checks
 * that docs/errors.md lists exactly these codes and that every throw site in src uses one of them.
 * To add a code: add an entry here (kept in alphabetical order within its group), then a row to docs/errors.md.
 */
export const ERROR_CODES = {
  // usage: bad input on the command line or in the environment; nothing was changed
  "usage.backup_ref": {
    meaning: "--backup-ref contains control characters (a blank one is a missing backup ref, input.backup_ref_missing).",
    exit: "error",
  },
  "usage.duration": {
    meaning: "A duration flag (--timeout, --lock-wait, --backup-max-age) is not a duration, or is out of its range.",
    exit: "error",
  },
  "usage.env_file_dirs": { meaning: "PLATFORMCTL_ENV_FILE_DIRS holds a relative directory.", exit: "error" },
  "usage.file_too_large": { meaning: "An input file is larger than platformctl reads.", exit: "error" },
  "usage.import_group": {
    meaning: "An import --group is malformed, names a service the Compose files do not define, or repeats a service.",
    exit: "error",
  },
  "usage.limit": { meaning: "--limit is not a whole number in range.", exit: "error" },
  "usage.module_not_in_plan": { meaning: "A module asked for is not in the saved plan file.", exit: "error" },
  "usage.module_required": { meaning: "The command needs at least one --module.", exit: "error" },
  "usage.no_workflows": { meaning: "No workflow file was found to lint.", exit: "error" },
  "usage.path": { meaning: "A path argument does not exist or is neither a file nor a directory.", exit: "error" },
  "usage.plan_file": { meaning: "The saved plan file cannot be read.", exit: "error", runbook: "runbooks/stale-plan.md" },
  "usage.plan_out": { meaning: "plan --out was given an empty path.", exit: "error" },
  "usage.project": { meaning: "The project name is not lower-case letters, digits and '-' (at most 40).", exit: "error" },
  "usage.repeated_flag": { meaning: "A flag that takes one value was given more than once.", exit: "error" },
  "usage.restore_from": { meaning: "restore was run without --from, or --from holds control characters.", exit: "error" },
  "usage.runtime": { meaning: "PLATFORMCTL_RUNTIME names a runtime platformctl does not know.", exit: "error" },
  "usage.swarm_node_hosts": { meaning: "PLATFORMCTL_SWARM_NODE_HOSTS is not a list of node=tcp://host:port.", exit: "error" },
  "usage.smoke_remote_mode": { meaning: "PLATFORMCTL_SMOKE_REMOTE_MODE is not skip or run.", exit: "error" },
  "usage.unknown_module": { meaning: "A module named on the command line is not in the catalog.", exit: "error" },
  "usage.unlock_force": { meaning: "unlock was run without --force.", exit: "error", runbook: "runbooks/held-lock.md" },
  "usage.unlock_pid": { meaning: "unlock --pid is not a process id.", exit: "error", runbook: "runbooks/held-lock.md" },
  // the catalog and plans
  "catalog.import_exists": {
    meaning: "A module file `import compose` would write exists already; nothing was written (--force overwrites).",
    exit: "error",
  },
  "catalog.import_invalid": {
    meaning: "The Compose files given to `import compose` cannot be imported (an error at a file:line); nothing was written.",
    exit: "error",
  },
  "catalog.import_write_failed": { meaning: "The imported module files cannot be written under --out.", exit: "error" },
  "catalog.invalid": { meaning: "The module manifests are invalid; `platformctl validate` lists every problem.", exit: "error" },
  "plan.invalid_file": {
    meaning: "The saved plan file is not JSON or not a platformctl plan.",
    exit: "error",
    runbook: "runbooks/stale-plan.md",
  },
  "plan.out_not_regular_file": {
    meaning: "The --out target exists and is not a regular file (a symlink, directory, FIFO, device or socket).",
    exit: "error",
  },
  "plan.project_mismatch": { meaning: "The saved plan was made for another project.", exit: "error" },
  "plan.stale": {
    meaning: "The live state moved on since the saved plan was made; nothing was changed.",
    exit: "stalePlan",
    runbook: "runbooks/stale-plan.md",
  },
  "plan.write_failed": { meaning: "The plan file (--out) cannot be written.", exit: "error" },
  // the gate and apply
  "policy.blocked": {
    meaning: "The policy gate refused the change; its reasons say which inputs are missing.",
    exit: "blocked",
    runbook: "runbooks/README.md",
  },
  "apply.action_failed": {
    meaning: "An action (create, start, run a one-shot, wait, remove) failed; the container is kept.",
    exit: "error",
    runbook: "runbooks/rerun-failed-one-shot.md",
  },
  "apply.previous_exists": {
    meaning:
      "A maintenance apply found a container kept by an earlier maintenance apply (<name>-previous) that was never cleaned up; nothing was changed.",
    exit: "error",
    runbook: "runbooks/upgrade-stateful-module.md",
  },
  "apply.rolled_back": {
    meaning:
      "A maintenance apply's new container did not become healthy in time; it was removed and the previous container runs again (the data was not restored).",
    exit: "error",
    runbook: "runbooks/upgrade-stateful-module.md",
  },
  "apply.rollback_failed": {
    meaning:
      "A maintenance apply's new container failed and the automatic rollback failed too; the previous container is kept for a manual restore.",
    exit: "error",
    runbook: "runbooks/upgrade-stateful-module.md",
  },
  "apply.env_file": { meaning: "A service's env file cannot be read or has a malformed line.", exit: "error" },
  "apply.compose_project": {
    meaning:
      "A container of a module whose spec.compose.project differs from --project would be created: its volumes and networks would not be Compose's.",
    exit: "error",
  },
  "apply.unresolved_reference": { meaning: "A ${VAR} reference in a manifest has no value in the environment.", exit: "error" },
  // STATE_DIR: lock, audit log
  "lock.busy": {
    meaning: "The apply lock kept being changed by another process (its guard stayed taken).",
    exit: "lockHeld",
    runbook: "runbooks/held-lock.md",
  },
  "lock.held": {
    meaning: "Another apply holds the project's lock (or left a one-shot running).",
    exit: "lockHeld",
    runbook: "runbooks/held-lock.md",
  },
  "lock.holder_alive": {
    meaning: "unlock --force refused: the lock's holder is still running (pass its --pid to remove it anyway).",
    exit: "lockHeld",
    runbook: "runbooks/held-lock.md",
  },
  "lock.lost": {
    meaning: "This apply no longer holds its lock (unlock --force, or its lease ran out); it stopped before the next change.",
    exit: "error",
    runbook: "runbooks/held-lock.md",
  },
  "lock.one_shot_unknown": {
    meaning: "A gone apply's one-shot may still run and the engine cannot tell; the lock is not taken over.",
    exit: "lockHeld",
    runbook: "runbooks/held-lock.md",
  },
  "lock.unusable": { meaning: "The apply lock file cannot be created.", exit: "error" },
  "audit.read_failed": { meaning: "The audit log cannot be read.", exit: "error" },
  "audit.write_failed": { meaning: "The audit log cannot be written; nothing is changed without its record.", exit: "error" },
  "state.unusable": { meaning: "STATE_DIR is not a writable directory.", exit: "error" },
  // backups
  "backup.archive_invalid": {
    meaning: "The file is not a platformctl backup archive (not a gzip tar, a bad or newer manifest, or the part asked for is missing).",
    exit: "error",
  },
  "backup.catalog_unreadable": {
    meaning: "The backup catalog in STATE_DIR cannot be read; nothing is judged or recorded against it.",
    exit: "error",
  },
  "backup.catalog_write_failed": {
    meaning:
      "A line cannot be appended to the backup catalog in STATE_DIR (not a regular file, no space, no permission); a backup's archive is kept and `backup import` records it.",
    exit: "error",
  },
  "backup.checksum_mismatch": {
    meaning: "The archive is in the catalog with another size or sha256: it changed since it was recorded.",
    exit: "error",
  },
  "backup.failed": {
    meaning:
      "Copying the module's data failed (no archive was kept), or its services did not come back after a stop backup (the finished archive was kept and is named in the message).",
    exit: "error",
  },
  "backup.image_missing": {
    meaning:
      "The module's image, used by the never-started volume helper, is not present on the engine that creates the helper (on Swarm: the node the module is pinned to).",
    exit: "error",
  },
  "backup.name_taken": { meaning: "Every backup name for this second is taken.", exit: "error" },
  "backup.name_invalid": { meaning: "The archive's name is not <module>-<YYYYMMDDTHHMMSSZ>.tar.gz.", exit: "error" },
  "backup.nothing": { meaning: "The module has no named volume or bind mount to back up.", exit: "error" },
  "backup.not_found": { meaning: "The archive to import does not exist.", exit: "error" },
  "backup.not_regular_file": { meaning: "The archive to import is not a regular file.", exit: "error" },
  "backup.outside_root": { meaning: "The archive to import is not inside PLATFORMCTL_BACKUP_DIR.", exit: "error" },
  "backup.root_unset": { meaning: "PLATFORMCTL_BACKUP_DIR is not set.", exit: "error" },
  "backup.root_unusable": { meaning: "PLATFORMCTL_BACKUP_DIR is missing or not a writable directory.", exit: "error" },
  "backup.service_not_running": {
    meaning:
      "Method exec runs its dump or restore command in the module's running service (spec.backup.exec.service), which has no running container; nothing was backed up or changed.",
    exit: "error",
    runbook: "runbooks/restore-stateful-module.md",
  },
  "backup.unresolved": { meaning: "A bind source of the module has an unset ${VAR}.", exit: "error" },
  "backup.unverified": { meaning: "The archive is not a complete gzip tar holding the covering module's volumes.", exit: "error" },
  // restore
  "restore.verify_unisolated": {
    meaning: "restore --verify cannot isolate the module from the live one (a read-write bind mount would be shared).",
    exit: "error",
    runbook: "runbooks/restore-stateful-module.md",
  },
  "restore.volume_in_use": {
    meaning: "Another module's container mounts a volume the restore must replace; nothing was changed.",
    exit: "error",
    runbook: "runbooks/restore-stateful-module.md",
  },
  // changed (git)
  "changed.bad_ref": { meaning: "The --base ref is malformed or not a commit.", exit: "error" },
  "changed.git_failed": { meaning: "git diff failed.", exit: "error" },
  "changed.modules_dir": { meaning: "The modules directory does not exist.", exit: "error" },
  "changed.no_merge_base": { meaning: "The --base ref and HEAD have no common ancestor.", exit: "error" },
  "changed.not_a_repository": { meaning: "The modules directory is not inside a git repository.", exit: "error" },
  "git.unavailable": { meaning: "git cannot be run.", exit: "error" },
  // the Swarm runtime (src/engine/swarm)
  "swarm.unpinned_stateful": {
    meaning: "A stateful module has no placement constraint pinning it to one Swarm node; it is refused on the Swarm runtime.",
    exit: "error",
  },
  "swarm.name_too_long": {
    meaning:
      "A Swarm service name (<project>_<module>_<service>) would be longer than the 63 characters Swarm allows; refused before anything is created.",
    exit: "error",
  },
  "swarm.unsupported": { meaning: "The command needs something the Swarm runtime does not do yet.", exit: "error" },
  "swarm.node_unavailable": {
    meaning: "The node a module's placement constraints pin it to cannot be found (no node or several match) or is not ready.",
    exit: "error",
  },
  "swarm.node_host_unknown": {
    meaning: "A command must reach a Swarm node's own engine (volumes, exec in a task) and PLATFORMCTL_SWARM_NODE_HOSTS does not name it.",
    exit: "error",
  },
  "runtime.exec_unavailable": {
    meaning:
      "A command cannot run in a unit from here (Swarm: its node's engine address is not in PLATFORMCTL_SWARM_NODE_HOSTS); exec probes report it skipped.",
    exit: "error",
  },
  // the Docker runtime (EngineError: `engine.<RuntimeErrorKind>`, classified once in src/engine/errors.ts)
  "engine.aborted": { meaning: "An engine call was aborted (a deadline or a signal).", exit: "error" },
  "engine.bad_request": { meaning: "The engine rejected a request (HTTP 400), e.g. a start that failed in the runtime.", exit: "error" },
  "engine.conflict": { meaning: "The engine reported a conflict (HTTP 409), e.g. a name in use.", exit: "error" },
  "engine.host_invalid": { meaning: "DOCKER_HOST is not a valid tcp://host:port address.", exit: "error" },
  "engine.host_unsupported": { meaning: "DOCKER_HOST uses a scheme platformctl does not support.", exit: "error" },
  "engine.not_found": { meaning: "The engine has no such object (HTTP 404).", exit: "error" },
  "engine.not_modified": { meaning: "The engine had nothing to do (HTTP 304).", exit: "error" },
  "engine.server": { meaning: "The engine failed (HTTP 5xx).", exit: "error" },
  "engine.tls_config": { meaning: "A TLS file for the engine connection cannot be read.", exit: "error" },
  "engine.unexpected": { meaning: "The engine replied with a status or body platformctl cannot read.", exit: "error" },
  "engine.unreachable": { meaning: "No engine answers at the configured endpoint.", exit: "error" },
  "engine.unresponsive": { meaning: "The engine accepted the connection but did not answer within the request's deadline.", exit: "error" },
  // the process
  interrupted: { meaning: "A signal (SIGINT, SIGTERM, SIGHUP) interrupted the command.", exit: "signal" },
  internal: { meaning: "A bug in platformctl; please report it with the output of --verbose.", exit: "error" },
} as const satisfies Record<string, ErrorCodeSpec>;

/** A registered error code: the only strings `PlatformError` accepts. */
export type ErrorCode = keyof typeof ERROR_CODES;

export interface PlatformErrorOptions {
  /** What went wrong in more words than the summary; never contains a secret value. */
  detail?: string | undefined;
  /** The next thing to run or read. */
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * Base error: a registered `code`, a one-line summary (`message`), an optional detail and a hint.
 * Messages are shown to users as they are, so they must never contain a secret value.
 */
export class PlatformError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: PlatformErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = options.detail;
    this.hint = options.hint;
  }
}

/** Bad input from the user (flags, paths, manifests): nothing was changed. */
export class UsageError extends PlatformError {}

/** A signal ended the command; the process exits 128 + `signalNumber`. */
export class InterruptedError extends PlatformError {
  readonly signalNumber: number;
  constructor(signalNumber: number, message: string, options: PlatformErrorOptions = {}) {
    super("interrupted", message, options);
    this.signalNumber = signalNumber;
  }
}

/** A bug in platformctl itself; the CLI says so and asks for a report (the stack only with --verbose). */
export class InternalError extends PlatformError {
  constructor(message: string, options: PlatformErrorOptions = {}) {
    super("internal", message, options);
  }
}

/** The exit code for an error, from the registry: the top-level handler's one lookup. */
export function exitCodeFor(e: PlatformError): number {
  const exit = ERROR_CODES[e.code].exit;
  if (exit === "signal") return exitForSignal(e instanceof InterruptedError ? e.signalNumber : 2);
  return EXIT[exit];
}
