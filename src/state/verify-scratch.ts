// STATE_DIR/verify-scratch/: the throwaway projects `restore --verify` runs are using, so one killed by SIGKILL is swept by the next.
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const DIR = "verify-scratch";

/** Who is using a scratch project: the process and host of the verification that made it. */
interface ScratchOwner {
  pid: number;
  host: string;
}

/** Notes that this process is about to create resources under scratch project `name` (before the first one). */
export async function recordScratch(stateDir: string, name: string): Promise<void> {
  await mkdir(path.join(stateDir, DIR), { recursive: true, mode: 0o700 });
  const owner: ScratchOwner = { pid: process.pid, host: os.hostname() };
  await writeFile(path.join(stateDir, DIR, name), `${JSON.stringify(owner)}\n`, { mode: 0o600 });
}

/** Forgets scratch project `name` once nothing of it is left. */
export async function forgetScratch(stateDir: string, name: string): Promise<void> {
  await rm(path.join(stateDir, DIR, name), { force: true });
}

/**
 * Scratch projects recorded by a verification whose process no longer runs on this host (killed before its cleanup).
 * A record that cannot be read, from another host, or whose pid is alive (possibly reused) is left alone: the sweep
 * errs on keeping resources, never on removing those of a running verification.
 */
export async function abandonedScratch(stateDir: string): Promise<string[]> {
  const names = await readdir(path.join(stateDir, DIR)).catch(() => [] as string[]); // safe: no directory, nothing recorded
  const out: string[] = [];
  for (const name of names) {
    let owner: ScratchOwner;
    try {
      owner = JSON.parse(await readFile(path.join(stateDir, DIR, name), "utf8")) as ScratchOwner;
    } catch {
      continue; // unreadable: left alone (see above)
    }
    if (owner.host !== os.hostname() || !Number.isInteger(owner.pid)) continue;
    if (!alive(owner.pid)) out.push(name);
  }
  return out.sort();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
