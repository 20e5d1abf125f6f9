// Reads a file platformctl reads whole (its STATE_DIR files, env files, saved plans, workflows) without ever blocking on a FIFO.
import { constants } from "node:fs";
import { open } from "node:fs/promises";

/**
 * The file's bytes. A FIFO, socket, device or directory where a regular file belongs fails with code `EFTYPE` (message:
 * "not a regular file") instead of being read: `readFile` on a FIFO waits for a writer forever, and no signal ends a
 * command blocked in that open.
 * Other failures (ENOENT, EACCES …) are thrown as the filesystem gave them.
 */
export async function readRegularFile(file: string): Promise<Buffer> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) throw notRegular(file);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** The error `readRegularFile` throws for a FIFO, socket, device or directory. */
export const notRegular = (file: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${file} is not a regular file`), { code: "EFTYPE" });

/** The reason a read failed, for a message: "not a regular file" for `EFTYPE`, else the errno code. */
export const readFailure = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "EFTYPE" ? "not a regular file" : (code ?? "error");
};
