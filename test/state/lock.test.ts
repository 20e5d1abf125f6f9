// The apply lock across real processes: one holder at a time under a barrier, other PID namespaces, unreadable and odd lock paths, bounded waits.
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireLock, forceUnlock, LEASE_MS, lockFile, type AcquireOptions, type LockHolder, type Takeover } from "../../src/state/lock.js";
import { aLockChild, type LockChild } from "../helpers/lock-processes.js";
import { eventually } from "../helpers/eventually.js";
import { exitCodeFor, PlatformError } from "../../src/errors.js";

const request = (project: string) => ({ project, user: "test", command: "lock.test", ci_run_url: null });
const options = (o: Partial<AcquireOptions> = {}): AcquireOptions => ({ waitMs: 0, oneShotRunning: async () => false, ...o });

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function aStateDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "platformctl-lock-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function aChild(args: string[], wrap: string[] = []): LockChild {
  const c = aLockChild(args, wrap);
  cleanups.push(() => c.kill());
  return c;
}

const readHolder = async (dir: string, project: string) => JSON.parse(await readFile(lockFile(dir, project), "utf8")) as LockHolder;

describe("the apply lock between processes", () => {
  it("never lets two of 16 processes released at one barrier hold it at once, over 12 rounds", async () => {
    const dir = await aStateDir();
    const log = path.join(dir, "holders.log");
    await writeFile(log, "");
    const children = Array.from({ length: 16 }, () => aChild(["contend", dir, "race", log]));
    await Promise.all(children.map((c) => c.line("ready")));
    for (let round = 1; round <= 12; round++) {
      for (const c of children) c.p.stdin.write(`go ${round}\n`);
      await Promise.all(children.map((c) => c.line(`done ${round}`)));
    }
    for (const c of children) c.p.stdin.end();
    const events = (await readFile(log, "utf8")).trim().split("\n");
    expect(events).toHaveLength(16 * 12 * 2);
    // Holders recorded entering and leaving in one shared append-only file: every enter is followed by its own exit.
    const overlaps: string[] = [];
    for (let i = 0; i < events.length; i += 2) {
      const [kind, pid] = (events[i] as string).split(" ");
      const [nextKind, nextPid] = (events[i + 1] as string).split(" ");
      if (kind !== "enter" || nextKind !== "exit" || nextPid !== pid) overlaps.push(`${events[i]} / ${events[i + 1]}`);
    }
    expect(overlaps).toEqual([]);
    expect(children.map((c) => c.stderr()).join("")).not.toContain("takeover");
  }, 240_000);

  it("keeps the lock of a holder in another PID namespace while its lease runs, then takes it over saying why", async () => {
    const dir = await aStateDir();
    const holder = aChild(["hold", dir, "ns"], ["unshare", "--pid", "--fork", "--mount-proc"]);
    expect(await holder.line("held")).toBe("held 1"); // pid 1 in its own namespace: meaningless on the host
    const recorded = await readHolder(dir, "ns");
    expect(recorded.pid_ns).not.toBe((await import("node:fs")).readlinkSync("/proc/self/ns/pid"));

    const held = acquireLock(dir, request("ns"), options());
    await expect(held).rejects.toMatchObject({ code: "lock.held" });
    await expect(held).rejects.toThrow(/another PID namespace.*held until its lease runs out/);

    // The holder's heartbeat stops (as if it hung); once the lease has run out the lock is taken over, and logged.
    const takeovers: Takeover[] = [];
    const later = Date.parse(recorded.renewed_at as string) + LEASE_MS + 1;
    const lock = await acquireLock(dir, request("ns"), options({ now: () => later, onTakeover: (t) => takeovers.push(t) }));
    expect(takeovers).toHaveLength(1);
    expect(takeovers[0]?.reason).toMatch(/lease ran out.*another PID namespace/);
    expect(lock.tookOverFrom).toMatchObject({ pid: 1, token: recorded.token });
    await lock.release();
  });

  it("renews the holder's lease with a heartbeat written whole into the lock", async () => {
    const dir = await aStateDir();
    const lock = await acquireLock(dir, request("beat"), options({ leaseMs: 40 }));
    cleanups.push(() => lock.release());
    const first = (await readHolder(dir, "beat")).renewed_at;
    const renewed = await eventually(async () => {
      const h = await readHolder(dir, "beat");
      expect(h.renewed_at).not.toBe(first);
      expect(h.token).toBe(lock.holder.token);
      return h;
    });
    expect(renewed).toMatchObject({ pid: process.pid, lease_ms: 40 });
  });
});

describe("lock error codes", () => {
  it("map every refusal because someone else holds or may hold the lock to exit 4", () => {
    for (const code of ["lock.held", "lock.busy", "lock.holder_alive", "lock.one_shot_unknown"] as const) {
      expect(exitCodeFor(new PlatformError(code, "x")), code).toBe(4);
    }
  });
});

describe("unreadable and odd lock files", () => {
  it("does not take over an unreadable lock written moments ago, and takes an old one over with a logged reason", async () => {
    const dir = await aStateDir();
    await writeFile(lockFile(dir, "bad"), "");
    await expect(acquireLock(dir, request("bad"), options())).rejects.toMatchObject({
      code: "lock.held",
      message: expect.stringContaining("unreadable"),
    });
    expect(await readFile(lockFile(dir, "bad"), "utf8")).toBe("");

    const takeovers: Takeover[] = [];
    const hourLater = Date.now() + 3_600_000;
    const lock = await acquireLock(dir, request("bad"), options({ now: () => hourLater, onTakeover: (t) => takeovers.push(t) }));
    expect(takeovers).toEqual([expect.objectContaining({ previous: "corrupt", bytes: 0 })]);
    expect(lock.tookOverFrom).toBe("corrupt");
    await lock.release();
  });

  it("refuses a lock path that is a directory with a clear error naming it, and leaves it alone", async () => {
    const dir = await aStateDir();
    await mkdir(path.join(lockFile(dir, "dir"), "inside"), { recursive: true });
    const err = await acquireLock(dir, request("dir"), options({ waitMs: 60_000 })).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "lock.unusable",
      message: `the apply lock path ${lockFile(dir, "dir")} is a directory, not a lock file`,
    });
    await expect(readFile(path.join(lockFile(dir, "dir"), "inside"))).rejects.toMatchObject({ code: "EISDIR" });
  });

  it("fails with exit 4 naming the live holder when not waiting, and stops waiting as soon as it is aborted", async () => {
    const dir = await aStateDir();
    const first = await acquireLock(dir, request("wait"), options());
    cleanups.push(() => first.release());
    await expect(acquireLock(dir, request("wait"), options())).rejects.toMatchObject({
      code: "lock.held",
      message: expect.stringContaining(`pid ${process.pid} on ${hostname()}`),
    });

    const abort = new AbortController();
    const waiting = acquireLock(
      dir,
      request("wait"),
      options({ waitMs: 3_600_000, signal: abort.signal, onWait: () => abort.abort(new Error("interrupted by SIGTERM")) }),
    );
    await expect(waiting).rejects.toThrow("interrupted by SIGTERM");
    expect((await readHolder(dir, "wait")).token).toBe(first.holder.token);
  });

  it("never takes over a gone holder's lock when the engine cannot say whether its one-shot still runs", async () => {
    const dir = await aStateDir();
    const gone = spawnSync("true").pid as number;
    const stale: LockHolder = {
      pid: gone,
      pid_start: "1",
      host: hostname(),
      user: "ci",
      command: "platformctl apply --module migrate",
      started_at: new Date(0).toISOString(),
      ci_run_url: null,
      project: "os",
      one_shot: "c0ffee",
    };
    await writeFile(lockFile(dir, "os"), JSON.stringify(stale));
    const unreachable = async () => {
      throw new Error("engine unreachable at unix:///nowhere.sock");
    };
    const err = await acquireLock(dir, request("os"), options({ oneShotRunning: unreachable })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "lock.one_shot_unknown" });
    expect((err as Error).message).toContain("engine unreachable at unix:///nowhere.sock");
    expect(await readHolder(dir, "os")).toEqual(stale);
    // When the engine answers that it is not running, the gone holder's lock is taken over.
    const lock = await acquireLock(dir, request("os"), options({ oneShotRunning: async () => false }));
    expect(lock.tookOverFrom).toEqual(stale);
    await lock.release();
  });
});

describe("unlock --force on the lock", () => {
  it("refuses to remove a live holder's lock unless the holder's pid is named, and says who holds it", async () => {
    const dir = await aStateDir();
    const holder = aChild(["hold", dir, "live"]);
    const pid = Number((await holder.line("held")).split(" ")[1]);
    const refused = await forceUnlock(dir, "live").catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: "lock.holder_alive",
      message: expect.stringContaining(`pid ${pid} on ${hostname()}`),
      hint: expect.stringContaining(`--pid ${pid}`),
    });
    await expect(forceUnlock(dir, "live", { pid: pid + 1 })).rejects.toMatchObject({ code: "lock.holder_alive" });
    expect((await readHolder(dir, "live")).pid).toBe(pid);
    const removed = await forceUnlock(dir, "live", { pid });
    expect(removed).toMatchObject({ removed: true, holder: { pid }, verdict: { kind: "alive" } });
    await expect(readFile(lockFile(dir, "live"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("removes the lock of a holder it cannot check (another PID namespace), since --force says it is gone", async () => {
    const dir = await aStateDir();
    const holder = aChild(["hold", dir, "nsunlock"], ["unshare", "--pid", "--fork", "--mount-proc"]);
    await holder.line("held");
    const removed = await forceUnlock(dir, "nsunlock");
    expect(removed).toMatchObject({
      removed: true,
      holder: { pid: 1 },
      verdict: { kind: "leased", why: expect.stringContaining("another PID namespace") },
    });
  });

  it("tells a holder whose lock was removed that it lost it, before its next one-shot", async () => {
    const dir = await aStateDir();
    const lost: unknown[] = [];
    const lock = await acquireLock(dir, request("lost"), options({ onLost: (c) => lost.push(c) }));
    await forceUnlock(dir, "lost", { pid: process.pid });
    await expect(lock.setOneShot("c0ffee")).rejects.toMatchObject({ code: "lock.lost" });
    expect(lost).toEqual([undefined]);
    await lock.release();
  });
});

it("keeps the old lock format readable: a lock without namespace fields is judged by pid on the same host", async () => {
  const dir = await aStateDir();
  const old: LockHolder = {
    pid: process.pid,
    pid_start: null,
    host: hostname(),
    user: "ci",
    command: "platformctl apply",
    started_at: new Date(0).toISOString(),
    ci_run_url: null,
    project: "old",
    one_shot: null,
  };
  await writeFile(lockFile(dir, "old"), JSON.stringify(old));
  // Alive (it is this very process) even though its lease, counted from started_at, ran out long ago.
  await expect(acquireLock(dir, request("old"), options())).rejects.toMatchObject({ code: "lock.held" });
});
