// Reads one of platformctl's own files under STATE_DIR whole (bytes), without ever blocking on a FIFO or a device in its place.
import { constants } from "node:fs";
import { open } from "node:fs/promises";

/**
 * The file's bytes. A FIFO, socket, device or directory where a state file belongs fails with code `EFTYPE` instead of
 * being read: `readFile` on a FIFO waits for a writer forever, and no signal ends a command blocked in that open.
 * Other failures (ENOENT, EACCES …) are thrown as the filesystem gave them.
 */
export async function readStateFile(file: string): Promise<Buffer> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: "EFTYPE" });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
