// Backup archive format 1: how platformctl writes an archive (its manifest first, then volumes, binds and dump) and reads one back.
import { createWriteStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { PassThrough, type Readable, pipeline as pipelineCb } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import tar, { type Extract, type Header, type Pack } from "tar-stream";
import { z } from "zod";
import { PlatformError } from "../errors.js";
import { BACKUP_METHODS } from "../manifest/vocabulary.js";
import { parseBackupName } from "../policy/parse-backup-name.js";
import { readFailure, readRegularStream } from "../state/read-regular-file.js";

/*
 * The archive: a gzip of a tar whose entries are, in this order,
 *   platformctl-backup.json   the manifest below (always the FIRST entry: a reader decides from it alone)
 *   volumes/<name>/…          each named volume's content relative to its root (modes, owners, links kept)
 *   binds/<i>/…               the content of bind source `binds[i]`
 *   dump/<service>.out        method exec: the command's stdout byte for byte
 * Archives without the manifest (made before format 1, or by another tool and `backup import`ed) read as format 0:
 * `volumes/<name>/…` (with or without a leading `./`) is all that is known of them.
 */

/** Name of the manifest entry. */
export const MANIFEST_ENTRY = "platformctl-backup.json";
/** The format this version writes; a reader refuses a higher one. */
export const ARCHIVE_FORMAT = 1;
/** The most a manifest entry may hold: it is a few hundred bytes, so anything larger is not one. */
const MANIFEST_MAX_BYTES = 1 << 20;

const ArchiveManifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  module: z.string().min(1),
  method: z.enum(BACKUP_METHODS),
  consistent: z.boolean(),
  volumes: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)),
  binds: z.array(z.string()),
  dump: z.object({ service: z.string().min(1), entry: z.string().regex(/^dump\/[^/]+\.out$/) }).nullable(),
  spec_hash: z.string(),
  created_at: z.string(),
  platformctl_version: z.string(),
});

/**
 * The manifest entry of a format-1 archive. `volumes` are the manifest's volume names (not project-prefixed), each
 * the root of `volumes/<name>/`; `binds[i]` is the host path `binds/<i>/` was read from (every `${VAR}` value in it masked: never a secret); `dump` names the entry
 * holding method exec's stdout (null otherwise, and then `volumes` and `binds` hold the data). `consistent` is false
 * only for method archive (a live copy). `spec_hash` is the module's spec hash when the backup was taken.
 */
export type ArchiveManifest = z.infer<typeof ArchiveManifestSchema>;

/**
 * What an archive without a manifest entry says about itself: only the volumes found under `volumes/` and the
 * module its file name names (null when the name does not parse). Treated as a live copy of unknown method.
 */
export interface LegacyBackupManifest {
  format: 0;
  module: string | null;
  method: null;
  consistent: false;
  volumes: string[];
  /** Bind sources are not recorded in such archives; `binds/<i>/` entries are counted only. */
  binds: [];
  bindCount: number;
  dump: null;
  spec_hash: null;
  created_at: null;
  platformctl_version: null;
}

/** What `readBackupManifest` returns: a format-1 manifest, or what a legacy archive reveals. */
export type BackupManifest = ArchiveManifest | LegacyBackupManifest;

/** Where the writer gets each part's content; every `read*` hands a tar stream (entries relative to its root) to `consume`. */
export interface ArchiveSources {
  readVolume(name: string, consume: (tar: Readable) => Promise<void>): Promise<void>;
  readBind(index: number, source: string, consume: (tar: Readable) => Promise<void>): Promise<void>;
  /** The file holding method exec's stdout (spooled first: a tar entry needs its size up front). */
  dumpFile?: string | undefined;
}

/**
 * Writes the archive `manifest` describes into `file` (which exists; its mode is kept): the manifest entry, then each
 * volume, bind and the dump, through gzip. Fsyncs the file before resolving. On failure the file holds garbage:
 * the caller removes it.
 */
export async function writeBackupArchive(file: string, manifest: ArchiveManifest, sources: ArchiveSources): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, createGzip(), createWriteStream(file, { flags: "w", mode: 0o600 }));
  const produce = async () => {
    const mtime = new Date(manifest.created_at);
    await addEntry(pack, { name: MANIFEST_ENTRY, type: "file", mode: 0o600, mtime }, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    for (const v of manifest.volumes) await sources.readVolume(v, (t) => copyRerooted(t, pack, `volumes/${v}`));
    for (const [i, b] of manifest.binds.entries()) await sources.readBind(i, b, (t) => copyRerooted(t, pack, `binds/${i}`));
    if (manifest.dump) {
      if (!sources.dumpFile) throw new Error(`archive-format: manifest names ${manifest.dump.entry} but no dump file was given`);
      const size = (await stat(sources.dumpFile)).size;
      await addEntry(pack, { name: manifest.dump.entry, type: "file", mode: 0o600, size, mtime }, readRegularStream(sources.dumpFile));
    }
    pack.finalize();
  };
  await Promise.all([
    produce().catch((e: unknown) => {
      pack.destroy(e as Error);
      throw e;
    }),
    written,
  ]);
  // fsync is per file, not per descriptor: a fresh descriptor makes what the stream wrote durable.
  const fh = await open(file, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Adds one entry whose body is `body` (a buffer, or a stream of exactly `header.size` bytes), respecting backpressure. */
async function addEntry(pack: Pack, header: EntryHeader, body: Buffer | AsyncIterable<unknown>): Promise<void> {
  if (Buffer.isBuffer(body)) return new Promise((resolve, reject) => pack.entry(header, body, (e) => (e ? reject(e) : resolve())));
  let sink!: ReturnType<Pack["entry"]>;
  const done = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (e) => (e ? reject(e) : resolve()));
  });
  done.catch(() => undefined); // awaited below, after the body is written
  try {
    for await (const chunk of body) {
      if (!sink.write(chunk as Buffer)) await Promise.race([new Promise<void>((r) => sink.once("drain", () => r())), done]);
    }
    sink.end(undefined);
  } catch (e) {
    sink.destroy(e as Error);
  }
  await done;
}

/** A tar entry name without leading `./` or `/`, without a trailing `/`; "" for the root itself. */
export function normalizeEntryName(name: string): string {
  return name
    .replace(/^(\.?\/)+/, "")
    .replace(/\/+$/, "")
    .replace(/^\.$/, "");
}

/** True when a normalized name would leave the directory it is extracted into. */
const escapes = (name: string): boolean => name.split("/").includes("..");

/** A header as tar-stream's `pack.entry` takes it. */
type EntryHeader = Partial<Header> & { name: string };

/** Bits above the permission bits: keeps a mode of 0 (`chmod 000`) from being replaced by tar-stream's default. */
const TYPE_BITS: Partial<Record<Header["type"], number>> = {
  file: 0o100000,
  directory: 0o040000,
  symlink: 0o120000,
  link: 0o100000,
  fifo: 0o010000,
  "character-device": 0o020000,
  "block-device": 0o060000,
};

/**
 * The header of `header` moved from `from` (a normalized prefix, "" for the stream's root) to `to`: its name, a hard
 * link's target (a path inside the archive), and the pax records, minus those tar-stream writes from the header
 * itself (path, linkpath, size), which would otherwise put the old name back. Undefined when the entry is not under
 * `from`. Throws for a name or hard link that escapes its root.
 */
export function rerootHeader(header: EntryHeader, from: string, to: string): EntryHeader | undefined {
  const move = (name: string): string | undefined => {
    const n = normalizeEntryName(name);
    if (escapes(n)) throw new PlatformError("backup.archive_invalid", `tar entry ${JSON.stringify(name)} leaves its directory`);
    if (from === "") return n === "" ? to : `${to}/${n}`;
    if (n === from) return to;
    if (!n.startsWith(`${from}/`)) return undefined;
    return `${to}/${n.slice(from.length + 1)}`;
  };
  const name = move(header.name);
  if (name === undefined) return undefined;
  const type = header.type ?? "file";
  const out: EntryHeader = {
    ...header,
    type,
    name: type === "directory" ? `${name}/` : name,
    mode: (header.mode ?? 0) & 0o7777 ? (header.mode as number) : (header.mode ?? 0) | (TYPE_BITS[type] ?? 0o100000),
  };
  if (type === "link" && header.linkname) {
    const target = move(header.linkname);
    if (target === undefined)
      throw new PlatformError("backup.archive_invalid", `hard link ${JSON.stringify(header.name)} points outside ${from || "its root"}`);
    out.linkname = target;
  }
  const pax = header.pax as Record<string, string> | null | undefined;
  const kept = Object.entries(pax ?? {}).filter(([k]) => k !== "path" && k !== "linkpath" && k !== "size");
  out.pax = kept.length > 0 ? Object.fromEntries(kept) : null;
  return out;
}

/** Copies every entry of tar stream `source` into `pack` under `prefix/` (the stream's root becomes `prefix/`). */
async function copyRerooted(source: Readable, pack: Pack, prefix: string): Promise<void> {
  const extract = tar.extract();
  const fed = new Promise<void>((resolve, reject) => pipelineCb(source, extract, (err) => (err ? reject(err) : resolve())));
  fed.catch(() => undefined); // observed below; a failure also ends the iteration with the same error
  for await (const entry of extract) {
    const header = rerootHeader(entry.header, "", prefix) as EntryHeader;
    await addEntry(pack, header, entry);
  }
  await fed;
}

/** The invalid-archive error for `file`, with what is wrong. */
function invalid(file: string, problem: string, cause?: unknown): PlatformError {
  return new PlatformError("backup.archive_invalid", `${file} is not a platformctl backup archive: ${problem}`, {
    hint: "Pass a file `platformctl backup` wrote (a .tar.gz in PLATFORMCTL_BACKUP_DIR), or check it with `platformctl backup import`.",
    cause,
  });
}

/** Reads `file` as gzip then tar; a read or format failure becomes `backup.archive_invalid` naming the file. */
function openEntries(file: string): { extract: Extract; failure: (e: unknown) => PlatformError } {
  const extract = tar.extract();
  pipelineCb(readRegularStream(file), createGunzip(), extract, () => undefined); // errors surface in the iteration
  const failure = (e: unknown): PlatformError => {
    if (e instanceof PlatformError) return e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === "Z_DATA_ERROR" || err.code === "Z_BUF_ERROR") return invalid(file, `not a gzip stream (${err.message})`, e);
    if (err.code === "ENOENT" || err.code === "EACCES" || err.code === "EISDIR" || err.code === "EFTYPE")
      return invalid(file, `cannot read it (${readFailure(e)})`, e);
    return invalid(file, `not a complete tar archive (${err.message})`, e);
  };
  return { extract, failure };
}

async function readAll(stream: AsyncIterable<unknown>, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += (c as Buffer).length;
    if (size > max) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The archive's manifest: its first entry when that is `platformctl-backup.json` (zod-checked; only that entry is
 * read), else a legacy format-0 description found by reading every entry (`volumes/<name>/…`, `binds/<i>/…`).
 * Throws `backup.archive_invalid` for a file that is not a gzip tar, a bad or newer manifest, or a manifest-less
 * archive holding neither volumes nor binds.
 */
export async function readBackupManifest(file: string): Promise<BackupManifest> {
  const { extract, failure } = openEntries(file);
  const volumes = new Set<string>();
  const binds = new Set<string>();
  let first = true;
  try {
    for await (const entry of extract) {
      const name = normalizeEntryName(entry.header.name);
      if (first && name === MANIFEST_ENTRY) return parseManifest(file, await readAll(entry, MANIFEST_MAX_BYTES));
      first = false;
      const [top, sub] = name.split("/");
      if (top === "volumes" && sub) volumes.add(sub);
      if (top === "binds" && sub) binds.add(sub);
      entry.resume();
    }
  } catch (e) {
    throw failure(e);
  } finally {
    extract.destroy();
  }
  if (volumes.size === 0 && binds.size === 0) throw invalid(file, `it has no ${MANIFEST_ENTRY} entry and nothing under volumes/ or binds/`);
  return {
    format: 0,
    module: parseBackupName(file.split("/").at(-1) ?? "")?.module ?? null,
    method: null,
    consistent: false,
    volumes: [...volumes].sort(),
    binds: [],
    bindCount: binds.size,
    dump: null,
    spec_hash: null,
    created_at: null,
    platformctl_version: null,
  };
}

function parseManifest(file: string, body: Buffer | undefined): ArchiveManifest {
  if (body === undefined) throw invalid(file, `its ${MANIFEST_ENTRY} is larger than ${MANIFEST_MAX_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    throw invalid(file, `its ${MANIFEST_ENTRY} is not JSON`);
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === "number" && format > ARCHIVE_FORMAT) {
    throw new PlatformError(
      "backup.archive_invalid",
      `${file} is archive format ${format}; this platformctl reads up to ${ARCHIVE_FORMAT}`,
      {
        hint: "Use the platformctl version that wrote it (its manifest names it), or a newer one.",
      },
    );
  }
  const parsed = ArchiveManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(file, `its ${MANIFEST_ENTRY} field ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/**
 * Streams the entries of `file` under `prefix/` as a tar re-rooted at `prefix` (its root entry becomes `./`), for
 * example `volumes/pgdata` as exactly what `Runtime.writeVolume` takes. The stream fails with `backup.archive_invalid`
 * when the file cannot be read or holds no such entry.
 */
function subtreeTar(file: string, prefix: string, what: string): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  pipelineCb(pack, out, () => undefined); // a failure reaches the reader through `out`
  const { extract, failure } = openEntries(file);
  void (async () => {
    let found = 0;
    try {
      for await (const entry of extract) {
        const header = rerootHeader(entry.header, prefix, ".");
        if (header === undefined) {
          entry.resume();
          continue;
        }
        found += 1;
        await addEntry(pack, header, entry);
      }
      if (found === 0) throw invalid(file, `it holds no ${what}`);
      pack.finalize();
    } catch (e) {
      out.destroy(failure(e));
      pack.destroy();
    } finally {
      extract.destroy();
    }
  })();
  return out;
}

/** A tar of volume `name`'s content re-rooted at the volume root (entries `./…`): what `Runtime.writeVolume` takes. */
export function volumeTar(file: string, name: string): Readable {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw new PlatformError("backup.archive_invalid", `${JSON.stringify(name)} is not a volume name`);
  return subtreeTar(file, `volumes/${name}`, `volume ${name} (no volumes/${name}/ entry)`);
}

/**
 * The bytes of the archive's dump entry (method exec's stdout), as the command wrote them: the entry the manifest
 * names, else the first `dump/*.out`. Fails with `backup.archive_invalid` when there is none.
 */
export function dumpStream(file: string): Readable {
  const out = new PassThrough();
  const { extract, failure } = openEntries(file);
  void (async () => {
    let wanted: string | undefined;
    try {
      for await (const entry of extract) {
        const name = normalizeEntryName(entry.header.name);
        if (name === MANIFEST_ENTRY) {
          wanted = parseManifest(file, await readAll(entry, MANIFEST_MAX_BYTES)).dump?.entry;
          if (wanted === undefined) throw invalid(file, "its manifest names no dump (the backup was not taken with method exec)");
          continue;
        }
        if (entry.header.type === "file" && (wanted === undefined ? /^dump\/[^/]+\.out$/.test(name) : name === wanted)) {
          await pipeline(entry as AsyncIterable<unknown>, out);
          return;
        }
        entry.resume();
      }
      throw invalid(file, "it holds no dump/<service>.out entry");
    } catch (e) {
      out.destroy(failure(e));
    } finally {
      extract.destroy();
    }
  })();
  return out;
}
