// `platformctl restore <module> --from <ref>` flags -> RestoreArguments.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { parseDuration } from "./duration.js";
import { collect, single } from "./repeated.js";

export interface RestoreFlags {
  from?: string[];
  verify?: boolean;
  allowStateful?: boolean;
  confirm?: string[];
  timeout?: string;
  lockWait?: string;
  json?: boolean;
}

export interface RestoreArguments {
  module: string;
  /** The backup to restore, as given (relative to the working directory). */
  from: string;
  /** Restore into a throwaway project and judge it there; touches nothing live. */
  verify: boolean;
  allowStateful: boolean;
  /** As typed; compared byte for byte with the configured token and never shown. */
  confirm: string | undefined;
  timeoutMs: number | undefined;
  lockWaitMs: number;
  json: boolean;
}

export function addRestoreOptions(cmd: Command): Command {
  return cmd
    .argument("<module>", "module whose data to restore")
    .option("--from <ref>", "the backup archive (inside PLATFORMCTL_BACKUP_DIR), e.g. the path `platformctl backup` printed", collect, [])
    .option(
      "--verify",
      "restore into scratch volumes under a throwaway project, run health and smoke there, remove it all; touches nothing live",
    )
    .option("--allow-stateful", "allow replacing the module's data (policy gate)")
    .option("--confirm <token>", "typed confirmation token (policy gate)", collect, [])
    .option("--timeout <duration>", "bound for each wait (default: the module's timeout_seconds), e.g. 300 or 5m")
    .option("--lock-wait <duration>", "wait this long for another apply's lock instead of failing with exit 4")
    .option("--json", "print the result as JSON");
}

export function parseRestoreArguments(module: string, flags: RestoreFlags): RestoreArguments {
  const from = single("--from", flags.from);
  if (from === undefined || from.trim() === "")
    throw new UsageError("usage.restore_from", "restore needs --from with the backup to restore", {
      hint: "List the backups with `platformctl backup list --module <module>`, then pass one with --from PATH.",
    });
  if (/[\u0000-\u001f]/.test(from))
    throw new UsageError("usage.restore_from", "--from must be a path without control characters", {
      hint: "Pass the path `platformctl backup list` shows.",
    });
  return {
    module,
    from,
    verify: Boolean(flags.verify),
    allowStateful: Boolean(flags.allowStateful),
    confirm: single("--confirm", flags.confirm),
    timeoutMs:
      flags.timeout === undefined
        ? undefined
        : parseDuration("--timeout", flags.timeout, { minMs: 1000, maxMs: 86_400_000, example: "5m" }),
    lockWaitMs: flags.lockWait === undefined ? 0 : parseDuration("--lock-wait", flags.lockWait, { maxMs: 86_400_000, example: "5m" }),
    json: Boolean(flags.json),
  };
}
