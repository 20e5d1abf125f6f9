// STATE_DIR/verify-scratch/: the throwaway projects `restore --verify` runs are using, so one killed by SIGKILL is swept by the next.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readRegularFile } from "./read-regular-file.js";

const DIR = "verify-scratch";

/** Who is using a scratch project: the process and host of the verification that made it, and the module it verifies. */
interface ScratchOwner {
  pid: number;
  host: string;
  /** Absent in records written before it was kept. */
  module?: string;
}

/** A scratch project left by a killed verification, and the module it was verifying (when recorded). */
export interface AbandonedScratch {
  name: string;
  module: string | undefined;
}

/** Notes that this process is about to create resources of `module` under scratch project `name` (before the first one). */
export async function recordScratch(stateDir: string, name: string, module: string): Promise<void> {
  await mkdir(path.join(stateDir, DIR), { recursive: true, mode: 0o700 });
  const owner: ScratchOwner = { pid: process.pid, host: os.hostname(), module };
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
export async function abandonedScratch(stateDir: string): Promise<AbandonedScratch[]> {
  const names = (await readdir(path.join(stateDir, DIR)).catch(() => [] as string[])).sort(); // safe: no directory, nothing recorded
  const out: AbandonedScratch[] = [];
  for (const name of names) {
    let owner: ScratchOwner;
    try {
      owner = JSON.parse((await readRegularFile(path.join(stateDir, DIR, name))).toString("utf8")) as ScratchOwner;
    } catch {
      continue; // unreadable (a FIFO too, refused without blocking): left alone (see above)
    }
    if (owner.host !== os.hostname() || !Number.isInteger(owner.pid)) continue;
    if (!alive(owner.pid)) out.push({ name, module: typeof owner.module === "string" ? owner.module : undefined });
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
