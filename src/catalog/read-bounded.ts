// Reads a small file whole, never more than a limit: the one reader for manifests and the Compose files they name.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { notRegular } from "../state/read-regular-file.js";

/**
 * The file's bytes, at most `limit` + 1 of them (one more than allowed, so a caller can tell excess). The buffer is
 * sized by the file's current length, not by the limit, so reading 200 small manifests allocates kilobytes, not the
 * limit 200 times; a file that grew since its size was read is read again up to the limit.
 */
export async function readBounded(file: string, limit: number): Promise<Buffer> {
  // Non-blocking, and only a regular file is read: a FIFO swapped in after the caller's lstat never blocks the open.
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(file);
    return await readOpenBounded(fh, st.size, limit);
  } finally {
    await fh.close();
  }
}

/** readBounded for a file already open whose size was just read from the same handle. */
async function readOpenBounded(fh: FileHandle, currentSize: number, limit: number): Promise<Buffer> {
  const size = Math.min(currentSize, limit) + 1;
  const first = Buffer.allocUnsafe(size);
  const { bytesRead } = await fh.read(first, 0, size, 0);
  if (bytesRead < size || size > limit) return first.subarray(0, bytesRead);
  const whole = Buffer.allocUnsafe(limit + 1);
  const again = await fh.read(whole, 0, limit + 1, 0);
  return whole.subarray(0, again.bytesRead);
}

/** What `readNoFollowSync` found: the bytes of a regular file, or why there are none. */
export type SmallFileRead =
  | { kind: "read"; bytes: Buffer }
  | { kind: "not-regular" }
  | { kind: "too-large"; size: number }
  | { kind: "failed"; code: string | undefined };

/**
 * Reads a small file without following a symlink in its last component (ELOOP) and without blocking on a FIFO (its
 * open would otherwise wait for a writer), judging its own descriptor's stat so nothing can be swapped in between;
 * synchronously: open, fstat, read, close are four syscalls of microseconds each, where the promise API sends
 * each through the thread pool (measured: about a fifth of a warm 200-module `validate`). For manifests only, which
 * are small and read once per command.
 */
export function readNoFollowSync(file: string, limit: number): SmallFileRead {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    return { kind: "failed", code: (e as NodeJS.ErrnoException).code };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: "not-regular" };
    if (st.size > limit) return { kind: "too-large", size: st.size };
    const size = Math.min(st.size, limit) + 1;
    const first = Buffer.allocUnsafe(size);
    const n = readSync(fd, first, 0, size, 0);
    if (n < size) return { kind: "read", bytes: first.subarray(0, n) };
    // Grew since its stat: read again, never more than the limit + 1 (the caller tells excess by the length).
    const whole = Buffer.allocUnsafe(limit + 1);
    return { kind: "read", bytes: whole.subarray(0, readSync(fd, whole, 0, limit + 1, 0)) };
  } catch (e) {
    return { kind: "failed", code: (e as NodeJS.ErrnoException).code ?? "EIO" };
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Safe: a failed close of a read-only descriptor loses nothing; the bytes were read or the failure returned.
    }
  }
}
