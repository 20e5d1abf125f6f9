// `platformctl unlock` flags -> UnlockArguments.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";

export interface UnlockArguments {
  /** Always true: unlock refuses to run without --force. */
  force: true;
  /** The pid of a live holder whose lock is removed anyway; without it a live holder's lock is refused. */
  pid: number | undefined;
}

export function addUnlockOptions(cmd: Command): Command {
  return cmd
    .option("--force", "required: confirms the holder is gone (or, with --pid, that a live one may lose it)")
    .option("--pid <pid>", "the pid of a running holder whose lock is to be removed anyway (refused without it)");
}

export function parseUnlockArguments(flags: { force?: boolean; pid?: string }): UnlockArguments {
  if (!flags.force)
    throw new UsageError("usage.unlock_force", "unlock removes another apply's lock and needs --force", {
      hint: "Check first that no apply runs (runbooks/held-lock.md), then: platformctl unlock --force",
    });
  const pid = flags.pid === undefined ? undefined : Number(flags.pid);
  if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) {
    throw new UsageError("usage.unlock_pid", `--pid must be a process id (a whole number above 0), got ${JSON.stringify(flags.pid)}`, {
      hint: "Take it from the error that named the holder, or from the lock file: runbooks/held-lock.md",
    });
  }
  return { force: true, pid };
}
