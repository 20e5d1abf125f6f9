// Splits the engine's multiplexed output (8-byte frame headers) into stdout/stderr lines.

import type { LogLine } from "../runtime/runtime.js";

export type { LogLine };

/** One frame: `[type u8 (0 stdin, 1 stdout, 2 stderr), 0, 0, 0, length u32 BE]` then the payload. */
export interface Frame {
  stream: "stdout" | "stderr";
  data: Buffer;
}

/**
 * Splits a body into frames. A TTY container's output is not framed (stderr is merged into stdout), so it is one
 * stdout frame. A truncated last frame keeps the bytes that arrived.
 */
export function demuxFrames(buf: Buffer, tty: boolean): Frame[] {
  if (tty) return buf.length ? [{ stream: "stdout", data: buf }] : [];
  const frames: Frame[] = [];
  for (let off = 0; off + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(off + 4);
    frames.push({ stream: buf[off] === 2 ? "stderr" : "stdout", data: buf.subarray(off + 8, off + 8 + len) });
    off += 8 + len;
  }
  return frames;
}

/**
 * Joins frames into lines per stream, in the order lines complete. Frames need not align with lines, and a
 * multi-byte character may span frames, so bytes are decoded only at line ends. `\r\n` (TTY) counts as one end.
 */
export function frameLines(frames: readonly Frame[]): LogLine[] {
  const pending: Record<LogLine["stream"], Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  const lines: LogLine[] = [];
  const emit = (stream: LogLine["stream"], bytes: Buffer) => lines.push({ stream, text: bytes.toString("utf8").replace(/\r$/, "") });
  for (const f of frames) {
    let buf = Buffer.concat([pending[f.stream], f.data]);
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
      emit(f.stream, buf.subarray(0, nl));
      buf = buf.subarray(nl + 1);
    }
    pending[f.stream] = buf;
  }
  for (const stream of ["stdout", "stderr"] as const) if (pending[stream].length) emit(stream, pending[stream]);
  return lines;
}
