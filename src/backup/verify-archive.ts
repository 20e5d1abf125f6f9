// Reads a backup archive to its end (gzip, then tar headers) and reports what it holds: the structural evidence for a backup the catalog does not know.
import { createGunzip } from "node:zlib";
import type { ArchiveFacts } from "../policy/policy.js";
import { readFailure, readRegularStream } from "../state/read-regular-file.js";

const BLOCK = 512;
/** Entries counted at most; an archive holding more is still read to its end. */
const MAX_NAMES = 100_000;

/** A tar number field: octal text (NUL/space terminated), or GNU base-256 when the high bit of the first byte is set. */
function tarNumber(field: Buffer): number | undefined {
  const first = field[0] ?? 0;
  if (first & 0x80) {
    let n = first & 0x7f;
    for (const b of field.subarray(1)) n = n * 256 + b;
    return n;
  }
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^[ ]+/, "");
  if (text === "") return 0;
  return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : undefined;
}

/** The header checksum: the sum of all bytes with the checksum field itself counted as spaces. */
function checksumOk(h: Buffer): boolean {
  const stored = tarNumber(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  return stored === sum;
}

const cString = (b: Buffer): string => {
  const end = b.indexOf(0);
  return b.subarray(0, end === -1 ? b.length : end).toString("utf8");
};

/** `path=` from a pax extended header body. */
function paxPath(body: Buffer): string | undefined {
  let at = 0;
  let found: string | undefined;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const len = Number(body.subarray(at, space).toString("latin1"));
    if (!Number.isInteger(len) || len <= 0 || at + len > body.length) break;
    const record = body.subarray(space + 1, at + len - 1).toString("utf8");
    if (record.startsWith("path=")) found = record.slice(5);
    at += len;
  }
  return found;
}

/** `./volumes/minio-data/x` -> `minio-data`; undefined for anything outside `volumes/`. */
function volumeOf(name: string): string | undefined {
  const segs = name.replace(/^(\.\/)+/, "").split("/");
  return segs[0] === "volumes" && segs[1] ? segs[1] : undefined;
}

/**
 * Streams `file` through gunzip and walks the tar headers to the end-of-archive marker (two zero blocks), checking
 * each header's checksum and skipping each entry's data. Never throws for a bad archive: a gzip error, a bad header,
 * a truncated entry or a missing end marker is `complete: false` with the problem. `volumes` are the names under
 * `volumes/` (the layout `platformctl backup` writes: `volumes/<volume>/…`, `binds/<i>/…`).
 */
export async function verifyArchive(file: string, signal?: AbortSignal): Promise<ArchiveFacts> {
  const volumes = new Set<string>();
  let entries = 0;
  let pending = Buffer.alloc(0);
  let skip = 0; // data bytes (padded) still to skip
  let longName: string | undefined; // from a GNU 'L' or pax 'x' header, for the next entry
  let collect: { kind: "L" | "x"; size: number; chunks: Buffer[]; left: number } | undefined;
  let zeroBlocks = 0;
  let ended = false;
  let problem: string | undefined;

  const take = (block: Buffer): void => {
    if (block.every((b) => b === 0)) {
      zeroBlocks += 1;
      if (zeroBlocks === 2) ended = true;
      return;
    }
    if (zeroBlocks > 0) {
      problem = "a zero block inside the archive";
      return;
    }
    if (!checksumOk(block)) {
      problem = `tar header ${entries + 1} has a bad checksum (not a tar archive, or corrupt)`;
      return;
    }
    const size = tarNumber(block.subarray(124, 136));
    if (size === undefined) {
      problem = `tar header ${entries + 1} has an unreadable size`;
      return;
    }
    const type = String.fromCharCode(block[156] ?? 0);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L" || type === "x") {
      collect = { kind: type, size, chunks: [], left: padded };
      return;
    }
    if (type === "g") {
      skip = padded;
      return;
    }
    const ustar = block.subarray(257, 262).toString("latin1") === "ustar";
    const prefix = ustar ? cString(block.subarray(345, 500)) : "";
    const name = longName ?? (prefix ? `${prefix}/${cString(block.subarray(0, 100))}` : cString(block.subarray(0, 100)));
    longName = undefined;
    entries += 1;
    const v = volumeOf(name);
    if (v !== undefined && volumes.size < MAX_NAMES) volumes.add(v);
    // Only regular files (and old-style '\0' entries) carry data; links, directories and devices do not.
    skip = type === "0" || type === "\0" || type === "7" ? padded : 0;
  };

  const feed = (chunk: Buffer): void => {
    let data = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (!ended && problem === undefined) {
      if (collect) {
        const n = Math.min(collect.left, data.length);
        collect.chunks.push(data.subarray(0, n));
        collect.left -= n;
        data = data.subarray(n);
        if (collect.left > 0) break;
        const body = Buffer.concat(collect.chunks).subarray(0, collect.size);
        longName = collect.kind === "L" ? cString(body) : (paxPath(body) ?? longName);
        collect = undefined;
        continue;
      }
      if (skip > 0) {
        const n = Math.min(skip, data.length);
        skip -= n;
        data = data.subarray(n);
        if (skip > 0) break;
        continue;
      }
      if (data.length < BLOCK) break;
      take(data.subarray(0, BLOCK));
      data = data.subarray(BLOCK);
    }
    pending = Buffer.from(data);
  };

  try {
    const gunzip = createGunzip();
    const source = readRegularStream(file, signal);
    source.on("error", (e) => gunzip.destroy(e));
    for await (const chunk of source.pipe(gunzip)) {
      if (!ended && problem === undefined) feed(chunk as Buffer);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.name === "AbortError") throw e;
    problem ??=
      err.code === "Z_DATA_ERROR" || err.code === "Z_BUF_ERROR"
        ? `not a readable gzip stream (${err.message})`
        : `cannot read it (${err.code ? readFailure(e) : err.message})`;
  }
  if (problem === undefined && !ended) {
    problem =
      skip > 0 || collect || pending.length > 0
        ? "the archive ends inside an entry (truncated)"
        : "the archive has no end-of-archive marker (truncated)";
  }
  return { complete: problem === undefined, problem, entries, volumes: [...volumes].sort() };
}
