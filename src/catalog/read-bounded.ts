// Reads a small file whole, never more than a limit: the one reader for manifests and the Compose files they name.
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/**
 * The file's bytes, at most `limit` + 1 of them (one more than allowed, so a caller can tell excess). The buffer is
 * sized by the file's current length, not by the limit, so reading 200 small manifests allocates kilobytes, not the
 * limit 200 times; a file that grew since its size was read is read again up to the limit.
 */
export async function readBounded(file: string, limit: number): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    return await readOpenBounded(fh, (await fh.stat()).size, limit);
  } finally {
    await fh.close();
  }
}

/** readBounded for a file already open whose size was just read from the same handle. */
export async function readOpenBounded(fh: FileHandle, currentSize: number, limit: number): Promise<Buffer> {
  const size = Math.min(currentSize, limit) + 1;
  const first = Buffer.allocUnsafe(size);
  const { bytesRead } = await fh.read(first, 0, size, 0);
  if (bytesRead < size || size > limit) return first.subarray(0, bytesRead);
  const whole = Buffer.allocUnsafe(limit + 1);
  const again = await fh.read(whole, 0, limit + 1, 0);
  return whole.subarray(0, again.bytesRead);
}

/**
 * Opens `file` for reading without following a symlink in its last component (ELOOP) and without blocking on a FIFO
 * (whose open would otherwise wait for a writer): one open, then the caller judges the handle's own stat, so no
 * separate lstat is needed and nothing can be swapped in between.
 */
export const openNoFollow = (file: string): Promise<FileHandle> =>
  open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
