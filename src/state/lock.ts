// The apply lock: one apply per project at a time, in STATE_DIR; created atomically, judged by pid only where pids mean something, else by a lease.
import { link, lstat, open, readFile, rename, rm } from "node:fs/promises";
import { readFileSync, readlinkSync } from "node:fs";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PlatformError } from "../errors.js";

/**
 * Who holds the lock. The file is written whole (temp file, then `link()`), so a reader never sees it half written.
 * `pid` is meaningful only where `host`, `boot_id` and `pid_ns` equal the reader's own: a pid seen from another PID
 * namespace (a container, `unshare --pid`) or another boot or machine says nothing about the holder, so such a lock is
 * held until its lease (`renewed_at` + `lease_ms`, renewed by the holder's heartbeat) runs out, or `unlock --force`.
 * Fields added later (`boot_id`, `pid_ns`, `token`, `renewed_at`, `lease_ms`) may be absent in an older lock file.
 */
export interface LockHolder {
  pid: number;
  /** The process start time (clock ticks since boot), so a reused pid is not mistaken for the holder. */
  pid_start: string | null;
  host: string;
  /** `/proc/sys/kernel/random/boot_id` of the holder; null when unknown. */
  boot_id?: string | null;
  /** The holder's PID namespace (`readlink /proc/self/ns/pid`, e.g. `pid:[4026531836]`); null when unknown. */
  pid_ns?: string | null;
  user: string;
  command: string;
  started_at: string;
  ci_run_url: string | null;
  project: string;
  /** A one-shot container this apply started and is waiting for: the lock is never broken while it runs. */
  one_shot: string | null;
  /** Random id of this acquisition: release, heartbeat and one-shot updates touch only a lock carrying it. */
  token?: string;
  /** Last heartbeat (ISO time). */
  renewed_at?: string;
  /** How long after `renewed_at` the lease runs out when the holder cannot be judged by pid. */
  lease_ms?: number;
}

/** What the caller says about itself; the lock fills in pid, host, namespace, token and times. */
export type LockRequest = Pick<LockHolder, "project" | "user" | "command" | "ci_run_url">;

/** Where this process runs, as far as pids are concerned. */
export interface ProcessIdentity {
  host: string;
  boot_id: string | null;
  pid_ns: string | null;
}

/** The lease a holder takes; its heartbeat renews it four times per lease. */
export const LEASE_MS = 60_000;
/** An unreadable lock younger than this is taken to be written right now, never stale. */
const CORRUPT_GRACE_MS = 10_000;
/** A takeover guard older than this was left by a crashed contender. */
const GUARD_STALE_MS = 10_000;

export const lockFile = (stateDir: string, project: string): string => path.join(stateDir, `apply-${project}.lock`);

/** Start time of a process from /proc (field 22 of stat); null when unknown (no /proc, or the process is gone). */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function currentIdentity(): ProcessIdentity {
  const read = (f: () => string): string | null => {
    try {
      return f().trim() || null;
    } catch {
      return null;
    }
  };
  return {
    host: os.hostname(),
    boot_id: read(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8")),
    pid_ns: read(() => readlinkSync("/proc/self/ns/pid")),
  };
}

/** Why the holder's pid cannot be checked from here, or undefined when it can (same host, boot and PID namespace). */
function pidUncheckableReason(h: LockHolder, here: ProcessIdentity): string | undefined {
  if (h.host !== here.host) return `it runs on host ${h.host}`;
  if (h.boot_id && here.boot_id && h.boot_id !== here.boot_id) return "it was taken in another boot of this host";
  if (h.pid_ns && here.pid_ns && h.pid_ns !== here.pid_ns) return `it runs in another PID namespace (${h.pid_ns}; here ${here.pid_ns})`;
  return undefined;
}

/** When the holder's lease runs out (ms since the epoch); an older lock without one counts from `started_at`. */
function leaseExpiry(h: LockHolder): number {
  const from = Date.parse(h.renewed_at ?? h.started_at);
  return (Number.isFinite(from) ? from : 0) + (typeof h.lease_ms === "number" && h.lease_ms > 0 ? h.lease_ms : LEASE_MS);
}

/** True when the holder process still runs: the pid exists and, when recorded, with the same start time. Same namespace only. */
function holderAlive(h: LockHolder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const now = processStartTime(h.pid);
  return h.pid_start === null || now === null || now === h.pid_start;
}

/**
 * The verdict on a readable lock: `alive` (pid checked here), `dead` (pid checked here), `leased` (pid not checkable,
 * lease running) or `expired` (pid not checkable, lease over). Only `dead` and `expired` may be taken over.
 */
export type HolderVerdict = { kind: "alive" } | { kind: "dead" } | { kind: "leased" | "expired"; why: string; until: number };

function judgeHolder(h: LockHolder, here: ProcessIdentity, now: number): HolderVerdict {
  const why = pidUncheckableReason(h, here);
  if (why === undefined) return { kind: holderAlive(h) ? "alive" : "dead" };
  const until = leaseExpiry(h);
  return { kind: now >= until ? "expired" : "leased", why, until };
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${h.host}, user ${h.user}, since ${h.started_at}${h.ci_run_url ? `, ${h.ci_run_url}` : ""}: ${h.command}`;
}

/** A lock file as read: its holder (or `corrupt`), the raw text and the file's identity, to check it did not change since. */
interface Snapshot {
  holder: LockHolder | "corrupt";
  text: string;
  ino: number;
  mtimeMs: number;
}

function parseHolder(text: string): LockHolder | "corrupt" {
  try {
    const h = JSON.parse(text) as Partial<LockHolder> | null;
    const ok =
      h !== null && typeof h === "object" && Number.isInteger(h.pid) && typeof h.host === "string" && typeof h.started_at === "string";
    return ok ? (h as LockHolder) : "corrupt";
  } catch {
    return "corrupt";
  }
}

const notALockFile = (file: string, what: string) =>
  new PlatformError("lock.unusable", `the apply lock path ${file} is ${what}, not a lock file`, {
    hint: "Nothing was changed. Look at what is there and remove it by hand if it is not in use; STATE_DIR must hold only platformctl's own files (runbooks/held-lock.md).",
  });

async function readSnapshot(file: string): Promise<Snapshot | undefined> {
  const st = await lstat(file).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e)));
  if (st === undefined) return undefined;
  if (!st.isFile()) throw notALockFile(file, st.isDirectory() ? "a directory" : st.isSymbolicLink() ? "a symbolic link" : "a special file");
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e)));
  if (text === undefined) return undefined;
  return { holder: parseHolder(text), text, ino: st.ino, mtimeMs: st.mtimeMs };
}

/**
 * Writes `content` to a new temp file beside `file`; returns its path. Not fsynced, on purpose: the lock excludes
 * processes that share the page cache, and `link()`/`rename()` of a complete temp file is what makes readers see it
 * whole. Durability would only matter across a power loss, after which no holder is alive: a lock lost then is
 * simply absent, and one left torn reads as unreadable and is taken over after CORRUPT_GRACE_MS (logged).
 */
async function writeTemp(file: string, content: string): Promise<string> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fh = await open(tmp, "wx", 0o600);
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
  return tmp;
}

/** Creates `file` with `content` only if it does not exist (link() fails with EEXIST); never visible half written. */
async function createWhole(file: string, content: string): Promise<boolean> {
  const tmp = await writeTemp(file, content);
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Runs `fn` holding the takeover guard (`<lock>.guard`, created with link()): breaking a stale lock, renewing and
 * updating one's own lock are serialised by it, so a breaker never removes a lock that was renewed or retaken after
 * it was judged. A guard older than GUARD_STALE_MS was left by a crashed process and is removed.
 */
async function withGuard<T>(file: string, now: () => number, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  const guard = `${file}.guard`;
  const giveUp = now() + 3 * GUARD_STALE_MS;
  for (let delay = 2; ; delay = Math.min(delay * 2, 200)) {
    if (await createWhole(guard, String(process.pid))) break;
    // An unreadable guard is judged again on the next turn; the loop is bounded by giveUp below.
    const st = await lstat(guard).catch(() => undefined);
    if (st && now() - st.mtimeMs > GUARD_STALE_MS) await rm(guard, { force: true });
    if (now() > giveUp)
      throw new PlatformError("lock.busy", `the apply lock ${file} is being changed by another process and stayed so`, {
        hint: `Try again; if it persists, remove ${guard} once no platformctl runs.`,
      });
    // A sleep only rejects when aborted, and the abort is rethrown on the next line.
    await sleep(delay + Math.random() * delay, undefined, { signal }).catch(() => undefined);
    if (signal?.aborted) throw signal.reason;
  }
  try {
    return await fn();
  } finally {
    await rm(guard, { force: true });
  }
}

export interface LockHandle {
  holder: LockHolder;
  /** Records (or clears) the one-shot container the holder is waiting for. */
  setOneShot(id: string | null): Promise<void>;
  release(): Promise<void>;
  /** Set when a stale lock was taken over: the previous holder (or `corrupt`), for the log. */
  tookOverFrom: LockHolder | "corrupt" | undefined;
}

/** Why a stale lock was taken over, for the log: the previous holder, or an unreadable file's size and age. */
export type Takeover = { previous: LockHolder; reason: string } | { previous: "corrupt"; reason: string; bytes: number; age_ms: number };

export interface AcquireOptions {
  /** Keep trying this long when held (0: fail at once with exit 4). */
  waitMs: number;
  /**
   * True when the one-shot a dead holder recorded is still running, false when it is not (or no longer exists).
   * Throws when that cannot be told (engine unreachable): the lock is then not taken over.
   */
  oneShotRunning: (id: string) => Promise<boolean>;
  onTakeover?: (t: Takeover) => void;
  /** Called once when the lock is held by a live apply and `waitMs` allows waiting for it. */
  onWait?: (holder: LockHolder) => void;
  /** The heartbeat found the lock no longer ours (broken by `unlock --force` or after the lease ran out). */
  onLost?: (current: LockHolder | "corrupt" | undefined) => void;
  /** Stops waiting (throws the signal's reason) when it fires, e.g. on SIGTERM during --lock-wait. */
  signal?: AbortSignal | undefined;
  /** The clock (ms since the epoch); tests move it instead of waiting. */
  now?: () => number;
  /** This process's identity; tests may pass another one. */
  identity?: ProcessIdentity;
  leaseMs?: number;
}

/** Takes the project lock. A dead holder's (or an expired lease's) lock is broken under the guard and retaken. */
export async function acquireLock(stateDir: string, request: LockRequest, opts: AcquireOptions): Promise<LockHandle> {
  const file = lockFile(stateDir, request.project);
  const now = opts.now ?? Date.now;
  const here = opts.identity ?? currentIdentity();
  const leaseMs = opts.leaseMs ?? LEASE_MS;
  const deadline = now() + Math.max(0, opts.waitMs);
  let tookOverFrom: LockHandle["tookOverFrom"];
  let announced = false;
  for (let attempt = 0, delay = 5; ; attempt++, delay = Math.min(delay * 2, 500)) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const t = now();
    const holder: LockHolder = {
      pid: process.pid,
      pid_start: processStartTime(process.pid),
      ...here,
      user: request.user,
      command: request.command,
      started_at: new Date(t).toISOString(),
      ci_run_url: request.ci_run_url,
      project: request.project,
      one_shot: null,
      token: randomBytes(12).toString("hex"),
      renewed_at: new Date(t).toISOString(),
      lease_ms: leaseMs,
    };
    let created: boolean;
    try {
      created = await createWhole(file, JSON.stringify(holder));
    } catch (e) {
      throw new PlatformError("lock.unusable", `cannot create the apply lock ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`, {
        hint: "Check that STATE_DIR is a writable directory.",
        cause: e,
      });
    }
    if (created) return handle(file, holder, tookOverFrom, { now, onLost: opts.onLost });

    const snap = await readSnapshot(file);
    const held = snap === undefined ? undefined : await staleness(snap, here, t, opts);
    if (held?.stale) {
      const broke = await withGuard(file, now, opts.signal, async () => {
        const again = await readSnapshot(file);
        if (!again || again.ino !== snap?.ino || again.text !== snap.text) return false; // renewed, released or retaken meanwhile
        await rm(file);
        return true;
      });
      if (broke && snap) {
        tookOverFrom = snap.holder;
        opts.onTakeover?.(held.takeover as Takeover);
      }
      continue; // retake at once: breaking is bounded by the guard, and only a changed lock brings us back here
    }
    // Held (or released between our create and read): wait within the deadline, with growing, jittered sleeps.
    if (held && now() >= deadline) throw held.error;
    if (!held && now() >= deadline + 2_000) {
      throw new PlatformError("lock.held", `the apply lock ${file} kept changing hands; gave up after ${attempt + 1} tries`, {
        hint: "Another apply is starting or finishing; run again, or pass --lock-wait 1m.",
      });
    }
    if (held?.holder && !announced) {
      announced = true;
      opts.onWait?.(held.holder);
    }
    const left = Math.max(1, (held ? deadline : deadline + 2_000) - now());
    // A sleep only rejects when aborted; the loop checks the signal before its next attempt.
    await sleep(Math.min(left, delay / 2 + Math.random() * delay), undefined, { signal: opts.signal }).catch(() => undefined);
  }
}

type Staleness =
  | { stale: true; takeover: Takeover; holder?: undefined; error?: undefined }
  | { stale: false; holder: LockHolder | undefined; error: PlatformError; takeover?: undefined };

/** Whether the lock as read may be broken, and if not, the error to give when no longer waiting. */
async function staleness(snap: Snapshot, here: ProcessIdentity, t: number, opts: AcquireOptions): Promise<Staleness> {
  const h = snap.holder;
  const heldError = (message: string, hint: string) => new PlatformError("lock.held", message, { hint });
  if (h === "corrupt") {
    const age = t - snap.mtimeMs;
    if (age < CORRUPT_GRACE_MS) {
      return {
        stale: false,
        holder: undefined,
        error: heldError(
          `the apply lock file is unreadable and was written ${Math.max(0, Math.round(age / 1000))} s ago; another apply may be taking it`,
          "Run again in a few seconds; an unreadable lock older than 10 s is taken over (and logged).",
        ),
      };
    }
    return {
      stale: true,
      takeover: {
        previous: "corrupt",
        reason: `unreadable lock file, ${Math.round(age / 1000)} s old`,
        bytes: Buffer.byteLength(snap.text),
        age_ms: Math.round(age),
      },
    };
  }
  const verdict = judgeHolder(h, here, t);
  if (verdict.kind === "alive")
    return {
      stale: false,
      holder: h,
      error: heldError(
        `apply already running (${describeHolder(h)})`,
        "Wait for it, or pass --lock-wait 5m; if the holder is gone for good: platformctl unlock --force (runbooks/held-lock.md).",
      ),
    };
  if (verdict.kind === "leased") {
    return {
      stale: false,
      holder: h,
      error: heldError(
        `apply lock held by ${describeHolder(h)}; its pid cannot be checked from here because ${verdict.why}, so it is held until its lease runs out at ${new Date(verdict.until).toISOString()}`,
        "Wait for it (--lock-wait), or, knowing the holder is gone: platformctl unlock --force (runbooks/held-lock.md).",
      ),
    };
  }
  if (h.one_shot) {
    let running: boolean;
    try {
      running = await opts.oneShotRunning(h.one_shot);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return {
        stale: false,
        holder: h,
        error: new PlatformError(
          "lock.one_shot_unknown",
          `apply lock held by a gone apply (${describeHolder(h)}) whose one-shot ${h.one_shot} may still run: the engine cannot tell (${why}); not taking the lock over`,
          {
            hint: "Make the engine reachable (DOCKER_HOST) and run again, so the one-shot's state is known (runbooks/held-lock.md).",
            cause: e,
          },
        ),
      };
    }
    if (running) {
      return {
        stale: false,
        holder: h,
        error: heldError(
          `apply lock held by a dead apply whose one-shot ${h.one_shot} is still running (${describeHolder(h)})`,
          "Wait for the one-shot to finish, then run again; or, knowing what runs, `platformctl unlock --force` (runbooks/held-lock.md).",
        ),
      };
    }
  }
  return {
    stale: true,
    takeover: {
      previous: h,
      reason:
        verdict.kind === "dead"
          ? "its holder process is gone"
          : `its lease ran out at ${new Date(verdict.until).toISOString()} (${verdict.why})`,
    },
  };
}

function handle(
  file: string,
  holder: LockHolder,
  tookOverFrom: LockHandle["tookOverFrom"],
  o: { now: () => number; onLost: AcquireOptions["onLost"] },
): LockHandle {
  let released = false;
  let lost = false;
  /** Rewrites our lock whole (temp file + rename) under the guard, only while it still carries our token. */
  const rewrite = async (): Promise<boolean> =>
    withGuard(file, o.now, undefined, async () => {
      if (released) return false;
      // Unreadable counts as lost: the holder stops rather than act without a lock it can prove it holds.
      const current = await readSnapshot(file).catch(() => undefined);
      if (!current || current.holder === "corrupt" || current.holder.token !== holder.token) {
        if (!lost) {
          lost = true;
          o.onLost?.(current?.holder);
        }
        return false;
      }
      const tmp = await writeTemp(file, JSON.stringify(holder));
      await rename(tmp, file);
      return true;
    });
  const every = Math.max(10, Math.floor((holder.lease_ms ?? LEASE_MS) / 4));
  let beat: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    holder.renewed_at = new Date(o.now()).toISOString();
    beat = beat.then(() => rewrite().catch(() => undefined)); // a missed beat is retried at the next one
  }, every);
  timer.unref();
  return {
    holder,
    tookOverFrom,
    async setOneShot(id) {
      holder.one_shot = id;
      holder.renewed_at = new Date(o.now()).toISOString();
      if (!(await rewrite()))
        throw new PlatformError(
          "lock.lost",
          "the apply lock is no longer held by this apply (removed by unlock --force, or its lease ran out); stopping before the next change",
          { hint: "Check who holds it: runbooks/held-lock.md." },
        );
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await beat;
      await withGuard(file, o.now, undefined, async () => {
        // Unreadable: leave the file; a lock we cannot prove is ours must not be removed (its lease or pid frees it).
        const current = await readSnapshot(file).catch(() => undefined);
        if (current && current.holder !== "corrupt" && current.holder.token === holder.token) await rm(file, { force: true });
        // A release that fails leaves a lock whose holder is gone: the next apply judges it stale by pid or lease.
      }).catch(() => undefined);
    },
  };
}

/** The result of `unlock --force`: nothing held, or the holder whose lock was removed. */
export type ForceUnlockResult = { removed: false } | { removed: true; holder: LockHolder | "corrupt"; verdict: HolderVerdict | undefined };

/**
 * Removes the lock for an operator. A holder that is alive (checked by pid here) is removed only when `pid` names it:
 * otherwise `lock.holder_alive` (exit 4) says who holds it. A holder that cannot be checked from here (another host,
 * boot or PID namespace) is removed: `--force` is the operator's word that it is gone.
 */
export async function forceUnlock(
  stateDir: string,
  project: string,
  opts: { pid?: number; now?: () => number; identity?: ProcessIdentity } = {},
): Promise<ForceUnlockResult> {
  const file = lockFile(stateDir, project);
  const now = opts.now ?? Date.now;
  return withGuard(file, now, undefined, async () => {
    const snap = await readSnapshot(file);
    if (!snap) return { removed: false } as const;
    const verdict = snap.holder === "corrupt" ? undefined : judgeHolder(snap.holder, opts.identity ?? currentIdentity(), now());
    if (snap.holder !== "corrupt" && verdict?.kind === "alive" && opts.pid !== snap.holder.pid) {
      throw new PlatformError(
        "lock.holder_alive",
        `the apply lock of project ${project} is held by a running apply: ${describeHolder(snap.holder)}`,
        {
          detail: opts.pid === undefined ? undefined : `--pid ${opts.pid} does not name the holder (pid ${snap.holder.pid}).`,
          hint: `Wait for it or stop it (kill -TERM ${snap.holder.pid}). To remove the lock of this live apply anyway: platformctl unlock --force --pid ${snap.holder.pid}`,
        },
      );
    }
    await rm(file, { force: true });
    return { removed: true, holder: snap.holder, verdict } as const;
  });
}
