// STATE_DIR: the single home of the controller's writable state (audit log, lock, keys, backup catalog).
import { mkdir, open, rename, stat, access } from "node:fs/promises";
import { constants } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { PlatformError } from "../errors.js";
import { readRegularFile } from "./read-regular-file.js";

/** `STATE_DIR`, else `${DATA_DIR}/state`, else `./.platformctl/state` (relative to the working directory). */
export function resolveStateDir(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  if (env.STATE_DIR) return path.resolve(cwd, env.STATE_DIR);
  const dataDir = env.DATA_DIR ? path.resolve(cwd, env.DATA_DIR) : path.resolve(cwd, ".platformctl");
  return path.join(dataDir, "state");
}

/**
 * `mkdir -p` one level at a time. Node's `mkdir({ recursive: true })` never returns for a path under a directory that
 * exists but refuses new entries with ENOENT (`/proc/nope`: it retries forever at full CPU and the process cannot
 * act on signals); here every level is tried once, so it fails with that level's error.
 */
async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = await stat(d).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e)));
    if (st) break;
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing)
    await mkdir(d, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => (e.code === "EEXIST" ? undefined : Promise.reject(e)));
}

/** Makes sure the state directory exists (creating it) and is writable; otherwise a clear error naming it. */
export async function ensureStateDir(dir: string): Promise<string> {
  try {
    await makeDirs(dir);
    const st = await stat(dir);
    if (!st.isDirectory()) throw new Error("not a directory");
    await access(dir, constants.W_OK);
    return dir;
  } catch (e) {
    throw new PlatformError("state.unusable", `STATE_DIR ${dir} is not a writable directory`, {
      detail: (e as NodeJS.ErrnoException).code ? `(${(e as NodeJS.ErrnoException).code})` : undefined,
      hint: "Set STATE_DIR (or DATA_DIR) to a writable directory, e.g. STATE_DIR=/var/lib/platformctl/state.",
      cause: e,
    });
  }
}

const KEY_FILE = "digest.key";
const KEY_BYTES = 32;

/** Reads the digest key without creating it; undefined when it does not exist or is unusable (plan stays read-only). */
export async function readDigestKey(dir: string): Promise<Uint8Array | undefined> {
  // Safe: without the key plan shows no secret digests, so a rotated secret is not seen as drift until apply (which creates or reads the key and fails loudly).
  const buf = await readRegularFile(path.join(dir, KEY_FILE)).catch(() => undefined);
  return buf && buf.length === KEY_BYTES ? new Uint8Array(buf) : undefined;
}

/** Returns the digest key, generating it when missing, empty or corrupt (written atomically, mode 0600). */
export async function ensureDigestKey(dir: string): Promise<{ key: Uint8Array; regenerated: boolean }> {
  const existing = await readDigestKey(dir);
  if (existing) return { key: existing, regenerated: false };
  await ensureStateDir(dir);
  const key = randomBytes(KEY_BYTES);
  const tmp = path.join(dir, `${KEY_FILE}.${process.pid}.tmp`);
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(key);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path.join(dir, KEY_FILE));
  return { key: new Uint8Array(key), regenerated: true };
}
