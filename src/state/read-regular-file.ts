// Opens, reads and appends the files platformctl reads whole or streams (STATE_DIR files, env files, saved plans, workflows, archives) without ever blocking on a FIFO.
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { Readable } from "node:stream";

/**
 * `file` opened non-blocking, after its own descriptor's stat says it is a regular file. A FIFO, socket, device or
 * directory fails with code `EFTYPE` (message: "<file> is not a regular file") instead: a blocking open of a FIFO
 * waits for its other end forever, and no signal ends a command blocked in that open. Other failures (ENOENT,
 * EACCES …) are thrown as the filesystem gave them.
 */
export async function openRegularFile(file: string, flags: number = constants.O_RDONLY, mode?: number): Promise<FileHandle> {
  const fh = await open(file, flags | constants.O_NONBLOCK, mode);
  try {
    if (!(await fh.stat()).isFile()) throw notRegular(file);
    return fh;
  } catch (e) {
    await fh.close().catch(() => undefined); // safe: the stat's failure (or the refusal) is what is thrown
    throw e;
  }
}

/** The file's bytes (see `openRegularFile`). */
export async function readRegularFile(file: string): Promise<Buffer> {
  const fh = await openRegularFile(file);
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/**
 * The file's bytes as a stream (see `openRegularFile`): a failure to open, `EFTYPE` included, is the stream's error.
 * `signal` destroys it with an AbortError.
 */
export function readRegularStream(file: string, signal?: AbortSignal): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    const fh = await openRegularFile(file);
    // autoClose: the handle closes when the stream ends or is destroyed (also when the consumer stops early).
    yield* fh.createReadStream() as AsyncIterable<Buffer>;
  }
  return Readable.from(chunks(), { objectMode: false, signal });
}

/**
 * Appends `text` to `file`, created with `mode` when missing (see `openRegularFile`). Read-write, not write-only: a
 * non-blocking write-only open of a FIFO without a reader fails with ENXIO before the stat can say what it is.
 */
export async function appendRegularFile(file: string, text: string, mode: number): Promise<void> {
  const fh = await openRegularFile(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, mode);
  try {
    await fh.write(text);
  } finally {
    await fh.close();
  }
}

/** The error `openRegularFile` throws for a FIFO, socket, device or directory. */
export const notRegular = (file: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${file} is not a regular file`), { code: "EFTYPE" });

/** The reason a read failed, for a message: "not a regular file" for `EFTYPE`, else the errno code. */
export const readFailure = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "EFTYPE" ? "not a regular file" : (code ?? "error");
};
