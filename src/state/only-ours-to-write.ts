// Whether files under STATE_DIR can only have been written by this user (or root): a cache is trusted only then.
import type { Stats } from "node:fs";
import { lstat } from "node:fs/promises";

/**
 * True when no one but this user (or root) can have written `paths` (each absent, or owned by us or root and not
 * group/other-writable; a symbolic link is refused). A cache stands in for what it was derived from: whoever can write
 * it decides what a command believes. A shared STATE_DIR therefore gets no cache: slower, never foreign.
 */
export async function onlyOursToWrite(paths: readonly string[]): Promise<boolean> {
  for (const p of paths) {
    const st = await lstat(p).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? null : undefined));
    if (st !== null && (st === undefined || !onlyOurs(st))) return false;
  }
  return true;
}

/** Owned by this user or root, and writable by neither group nor others. */
export const onlyOurs = (st: Stats): boolean => {
  const uid = process.getuid?.();
  return (st.mode & 0o022) === 0 && (uid === undefined || st.uid === uid || st.uid === 0);
};
