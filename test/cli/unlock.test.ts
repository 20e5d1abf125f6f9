// `platformctl unlock --force` against real lock holders: a live holder is kept unless its pid is named; who holds it is said.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockFile } from "../../src/state/lock.js";
import { aLockChild, type LockChild } from "../helpers/lock-processes.js";
import { runCli } from "../helpers/run-cli.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function aHolder(
  wrap: string[] = [],
): Promise<{ stateDir: string; child: LockChild; pid: number; unlock: (...args: string[]) => ReturnType<typeof runCli> }> {
  const stateDir = await mkdtemp(path.join(tmpdir(), "platformctl-unlock-"));
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const child = aLockChild(["hold", stateDir, "held"], wrap);
  cleanups.push(() => child.kill());
  const pid = Number((await child.line("held")).split(" ")[1]);
  return { stateDir, child, pid, unlock: (...args) => runCli(["unlock", "--project", "held", ...args], { STATE_DIR: stateDir }) };
}

const lockText = (stateDir: string) => readFile(lockFile(stateDir, "held"), "utf8").catch(() => undefined);

describe("unlock --force", () => {
  it("refuses with exit 4 to remove a running holder's lock, naming the holder and the --pid to give", async () => {
    const h = await aHolder();
    const before = await lockText(h.stateDir);
    const r = await h.unlock("--force");
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain(`held by a running apply: pid ${h.pid} on ${hostname()}`);
    expect(r.stderr).toContain(`platformctl unlock --force --pid ${h.pid}`);
    expect(await lockText(h.stateDir)).toBe(before);
    const wrong = await h.unlock("--force", "--pid", String(h.pid + 1));
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain(`--pid ${h.pid + 1} does not name the holder`);
    expect(await lockText(h.stateDir)).toBe(before);
  });

  it("removes a running holder's lock when --pid names it, and audits who removed whose lock", async () => {
    const h = await aHolder();
    const r = await h.unlock("--force", "--pid", String(h.pid));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed the apply lock of project held held by pid ${h.pid}`);
    expect(r.stdout).toContain("its holder was still running");
    expect(await lockText(h.stateDir)).toBeUndefined();
    const audit = (await readFile(path.join(h.stateDir, "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; holder: { pid: number } });
    expect(audit.filter((a) => a.type === "unlock").map((a) => a.holder.pid)).toEqual([h.pid]);
  });

  it("removes the lock of a holder in another PID namespace, saying its pid could not be checked", async () => {
    const h = await aHolder(["unshare", "--pid", "--fork", "--mount-proc"]);
    const r = await h.unlock("--force");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("its pid could not be checked here: it runs in another PID namespace");
    expect(await lockText(h.stateDir)).toBeUndefined();
  });

  it("refuses a --pid that is not a process id with a usage error", async () => {
    const h = await aHolder();
    const r = await h.unlock("--force", "--pid", "12x");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--pid must be a process id (a whole number above 0), got "12x"');
    expect(await lockText(h.stateDir)).toBeDefined();
  });
});
