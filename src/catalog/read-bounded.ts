// Reads a small file whole, never more than a limit: the one reader for manifests and the Compose files they name.
import { open } from "node:fs/promises";

/**
 * The file's bytes, at most `limit` + 1 of them (one more than allowed, so a caller can tell excess). The buffer is
 * sized by the file's current length, not by the limit, so reading 200 small manifests allocates kilobytes, not the
 * limit 200 times; a file that grew since its size was read is read again up to the limit.
 */
export async function readBounded(file: string, limit: number): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const size = Math.min((await fh.stat()).size, limit) + 1;
    const first = Buffer.allocUnsafe(size);
    const { bytesRead } = await fh.read(first, 0, size, 0);
    if (bytesRead < size || size > limit) return first.subarray(0, bytesRead);
    const whole = Buffer.allocUnsafe(limit + 1);
    const again = await fh.read(whole, 0, limit + 1, 0);
    return whole.subarray(0, again.bytesRead);
  } finally {
    await fh.close();
  }
}
