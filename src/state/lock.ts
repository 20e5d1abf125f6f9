// The apply lock: one apply per project at a time, in STATE_DIR; stale holders detected by pid and process start time.
import { link, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EXIT, PlatformError } from "../errors.js";

/** Who holds the lock. `pid_start` is the process start time (clock ticks since boot), so a reused pid is not mistaken for the holder. */
export interface LockHolder {
  pid: number;
  pid_start: string | null;
  host: string;
  user: string;
  command: string;
  started_at: string;
  ci_run_url: string | null;
  project: string;
  /** A one-shot container this apply started and is waiting for: the lock is never broken while it runs. */
  one_shot: string | null;
}

export const lockFile = (stateDir: string, project: string): string => path.join(stateDir, `apply-${project}.lock`);

/** Start time of a process from /proc (field 22 of stat); null when unknown (no /proc, or the process is gone). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** True when the holder process still runs: the pid exists and, when recorded, with the same start time. */
export function holderAlive(h: LockHolder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = processStartTime(h.pid);
  return h.pid_start === null || now === null || now === h.pid_start;
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${h.host}, user ${h.user}, since ${h.started_at}${h.ci_run_url ? `, ${h.ci_run_url}` : ""}: ${h.command}`;
}

async function readHolder(file: string): Promise<LockHolder | "corrupt" | undefined> {
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e)));
  if (text === undefined) return undefined;
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === "number" ? h : "corrupt";
  } catch {
    return "corrupt";
  }
}

export interface LockHandle {
  holder: LockHolder;
  /** Records (or clears) the one-shot container the holder is waiting for. */
  setOneShot(id: string | null): Promise<void>;
  release(): Promise<void>;
  /** Set when a stale lock was taken over: the previous holder, for the log. */
  tookOverFrom: LockHolder | undefined;
}

export interface AcquireOptions {
  /** Keep trying this long when held (0: fail at once with exit 4). */
  waitMs: number;
  /** True when the one-shot a dead holder recorded is still running (asked of the engine by the caller). */
  oneShotRunning: (id: string) => Promise<boolean>;
  onTakeover?: (previous: LockHolder) => void;
  /** Called once when the lock is held by a live apply and `waitMs` allows waiting for it. */
  onWait?: (holder: LockHolder) => void;
  /** Stops waiting (throws the signal's reason) when it fires, e.g. on SIGTERM during --lock-wait. */
  signal?: AbortSignal | undefined;
}

/** Takes the project lock with O_EXCL; a dead holder's lock is moved aside (only one contender can) and retaken. */
export async function acquireLock(stateDir: string, holder: LockHolder, opts: AcquireOptions): Promise<LockHandle> {
  const file = lockFile(stateDir, holder.project);
  const deadline = Date.now() + opts.waitMs;
  let tookOverFrom: LockHolder | undefined;
  let announced = false;
  for (;;) {
    try {
      const fh = await open(file, "wx", 0o600);
      try {
        await fh.writeFile(JSON.stringify(holder));
        await fh.sync();
      } finally {
        await fh.close();
      }
      return handle(file, holder, tookOverFrom);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new PlatformError("lock.unusable", `cannot create the apply lock ${file}`, { hint: "Check that STATE_DIR is writable.", cause: e });
      }
    }
    const current = await readHolder(file);
    if (current === undefined) continue; // released meanwhile
    const stale = current === "corrupt" || !holderAlive(current);
    if (stale && current !== "corrupt" && current.one_shot && (await opts.oneShotRunning(current.one_shot))) {
      throw new PlatformError("lock.held", `apply lock held by a dead apply whose one-shot ${current.one_shot} is still running (${describeHolder(current)})`, {
        exitCode: EXIT.lockHeld,
        hint: "Wait for the one-shot to finish, then run again; or, knowing what runs, `platformctl unlock --force` (runbooks/held-lock.md).",
      });
    }
    if (stale) {
      const aside = `${file}.stale-${process.pid}-${Date.now()}`;
      try {
        await rename(file, aside);
        const moved = await readHolder(aside);
        if (JSON.stringify(moved) !== JSON.stringify(current)) {
          // A contender replaced the stale lock with a live one between our read and the rename: put it back.
          await link(aside, file).catch(() => undefined);
          await rm(aside, { force: true });
          continue;
        }
        await rm(aside, { force: true });
        if (current !== "corrupt") {
          tookOverFrom = current;
          opts.onTakeover?.(current);
        }
      } catch {
        // another contender moved it first; try again
      }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new PlatformError("lock.held", `apply already running (${describeHolder(current as LockHolder)})`, {
        exitCode: EXIT.lockHeld,
        hint: "Wait for it, or pass --lock-wait 5m; if the holder is gone for good: platformctl unlock --force.",
      });
    }
    if (!announced) {
      announced = true;
      opts.onWait?.(current as LockHolder);
    }
    await sleep(Math.min(500, Math.max(50, deadline - Date.now())), undefined, { signal: opts.signal }).catch(() => undefined);
    if (opts.signal?.aborted) throw opts.signal.reason;
  }
}

function handle(file: string, holder: LockHolder, tookOverFrom: LockHolder | undefined): LockHandle {
  let released = false;
  return {
    holder,
    tookOverFrom,
    async setOneShot(id) {
      holder.one_shot = id;
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(holder), { mode: 0o600 });
      await rename(tmp, file);
    },
    async release() {
      if (released) return;
      released = true;
      const current = await readHolder(file).catch(() => undefined);
      if (current && current !== "corrupt" && current.pid === holder.pid && current.started_at === holder.started_at) await rm(file, { force: true });
    },
  };
}

/** Removes the lock whoever holds it (operators only); returns the holder that was removed. */
export async function forceUnlock(stateDir: string, project: string): Promise<LockHolder | "corrupt" | undefined> {
  const file = lockFile(stateDir, project);
  const current = await readHolder(file);
  await rm(file, { force: true });
  return current;
}
