// A minimal ustar reader and writer for tests that check volume content (regular files and directories only).
import { Readable } from "node:stream";

/** One entry of a tar stream: `type` is `file`, `dir` or `other`; `content` is empty except for files. */
export interface TarEntry {
  name: string;
  type: "file" | "dir" | "other";
  content: Buffer;
}

/** Reads a whole tar stream into its entries (names as stored, e.g. `./a.txt`). */
export async function readTar(stream: Readable): Promise<TarEntry[]> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  const entries: TarEntry[] = [];
  for (let off = 0; off + 512 <= buf.length; ) {
    const header = buf.subarray(off, off + 512);
    const name = field(header, 0, 100);
    if (name === "") break;
    const prefix = field(header, 345, 155);
    const size = parseInt(field(header, 124, 12).trim() || "0", 8);
    const flag = String.fromCharCode(header[156] ?? 0);
    const type = flag === "0" || flag === "\0" ? "file" : flag === "5" ? "dir" : "other";
    entries.push({
      name: prefix ? `${prefix}/${name}` : name,
      type,
      content: type === "file" ? Buffer.from(buf.subarray(off + 512, off + 512 + size)) : Buffer.alloc(0),
    });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** A tar stream holding regular files `name -> content` (mode 0644, owned by root). */
export function tarOf(files: Record<string, string>): Readable {
  const parts: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const content = Buffer.from(text);
    const h = Buffer.alloc(512);
    h.write(name, 0, 100);
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(`${content.length.toString(8).padStart(11, "0")}\0`, 124);
    h.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, "0")}\0`,
      136,
    );
    h.write("        ", 148);
    h.write("0", 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    parts.push(h, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Readable.from([Buffer.concat(parts)]);
}

function field(b: Buffer, at: number, len: number): string {
  const raw = b.subarray(at, at + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString("utf8");
}
