// Archive format 1 with plain data (no engine): the writer's layout entry by entry, the reader API, and legacy archives.
import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { createGunzip, gzipSync } from "node:zlib";
import tar, { type Header } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ArchiveManifest,
  dumpStream,
  MANIFEST_ENTRY,
  readBackupManifest,
  rerootHeader,
  volumeTar,
  writeBackupArchive,
} from "../../src/backup/archive-format.js";
import { verifyArchive } from "../../src/backup/verify-archive.js";
import { PlatformError } from "../../src/errors.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "platformctl-archive-format-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Entry = Partial<Header> & { name: string; body?: string | Buffer };
/** The facts of an entry a test compares (mode without its type bits). */
type Seen = { name: string; type: string; mode: number; uid: number; gid: number; linkname: string | null; body: string };

const mtime = new Date("2026-05-17T01:08:47Z");

/** A tar stream of `entries`, as the engine's archive endpoint would send it. */
function tarStream(entries: Entry[]): Readable {
  const pack = tar.pack();
  for (const { body, ...h } of entries) pack.entry({ mtime, uid: 0, gid: 0, ...h }, body ?? "");
  pack.finalize();
  return Readable.from(pack as AsyncIterable<Buffer>);
}

async function entriesOf(stream: AsyncIterable<unknown>): Promise<Seen[]> {
  const extract = tar.extract();
  const fed = (async () => {
    for await (const c of stream) if (!extract.write(c as Buffer)) await new Promise<void>((r) => extract.once("drain", () => r()));
    extract.end(undefined);
  })().catch((e: unknown) => {
    extract.destroy(e as Error);
    throw e;
  });
  fed.catch(() => undefined); // the iteration below fails with the same error
  const out: Seen[] = [];
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const h = e.header;
    out.push({
      name: h.name,
      type: h.type,
      mode: h.mode & 0o7777,
      uid: h.uid,
      gid: h.gid,
      linkname: h.linkname || null,
      body: Buffer.concat(chunks).toString("latin1"),
    });
  }
  await fed;
  return out;
}

const archiveEntries = (file: string) => entriesOf(createReadStream(file).pipe(createGunzip()));

const LONG = `${"deep/".repeat(30)}file.txt`;
/** A volume's content as the engine sends it: root `./`, a file with mode 000 owned by 70, a symlink, a hard link, a long name. */
const PGDATA: Entry[] = [
  { name: "./", type: "directory", mode: 0o700, uid: 70, gid: 70 },
  { name: "./PG_VERSION", type: "file", mode: 0o600, uid: 70, gid: 70, body: "15\n" },
  { name: "./locked", type: "file", mode: 0o100000, body: "x" }, // `chmod 000`: the engine sends the type bits
  { name: "./link", type: "symlink", mode: 0o777, linkname: "PG_VERSION" },
  { name: "./hard", type: "link", mode: 0o600, linkname: "./PG_VERSION" },
  { name: `./${LONG}`, type: "file", mode: 0o644, body: "long" },
];
const BIND: Entry[] = [
  { name: "./", type: "directory", mode: 0o755 },
  { name: "./conf", type: "file", mode: 0o644, body: "listen=1\n" },
];
const BINARY = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));

const manifestOf = (over: Partial<ArchiveManifest> = {}): ArchiveManifest => ({
  format: 1,
  module: "pg",
  method: "stop",
  consistent: true,
  volumes: ["pgdata"],
  binds: ["/srv/pg/conf"],
  dump: null,
  spec_hash: "v1:abc",
  created_at: mtime.toISOString(),
  platformctl_version: "0.1.0",
  ...over,
});

async function written(name: string, manifest: ArchiveManifest): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, "", { mode: 0o600 });
  const dumpFile = path.join(dir, `${name}.dump`);
  await writeFile(dumpFile, BINARY);
  await writeBackupArchive(file, manifest, {
    readVolume: (v, consume) => consume(tarStream(v === "pgdata" ? PGDATA : [{ name: "./", type: "directory", mode: 0o755 }])),
    readBind: (_i, _source, consume) => consume(tarStream(BIND)),
    dumpFile,
  });
  return file;
}

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    (e: unknown) => (e instanceof PlatformError ? e.code : String(e)),
  );

describe("writing an archive", () => {
  it("puts the manifest first, then each volume and bind re-rooted, keeping modes, owners and links", async () => {
    const file = await written("pg-stop.tar.gz", manifestOf());
    const entries = await archiveEntries(file);
    expect(entries[0]?.name).toBe(MANIFEST_ENTRY);
    expect(JSON.parse(entries[0]?.body ?? "")).toEqual(manifestOf());
    expect(entries.slice(1)).toEqual([
      { name: "volumes/pgdata/", type: "directory", mode: 0o700, uid: 70, gid: 70, linkname: null, body: "" },
      { name: "volumes/pgdata/PG_VERSION", type: "file", mode: 0o600, uid: 70, gid: 70, linkname: null, body: "15\n" },
      { name: "volumes/pgdata/locked", type: "file", mode: 0, uid: 0, gid: 0, linkname: null, body: "x" },
      { name: "volumes/pgdata/link", type: "symlink", mode: 0o777, uid: 0, gid: 0, linkname: "PG_VERSION", body: "" },
      { name: "volumes/pgdata/hard", type: "link", mode: 0o600, uid: 0, gid: 0, linkname: "volumes/pgdata/PG_VERSION", body: "" },
      { name: `volumes/pgdata/${LONG}`, type: "file", mode: 0o644, uid: 0, gid: 0, linkname: null, body: "long" },
      { name: "binds/0/", type: "directory", mode: 0o755, uid: 0, gid: 0, linkname: null, body: "" },
      { name: "binds/0/conf", type: "file", mode: 0o644, uid: 0, gid: 0, linkname: null, body: "listen=1\n" },
    ]);
  });

  it("writes method exec's dump byte for byte as dump/<service>.out, with no volume", async () => {
    const m = manifestOf({ method: "exec", volumes: [], binds: [], dump: { service: "pg", entry: "dump/pg.out" } });
    const entries = await archiveEntries(await written("pg-exec.tar.gz", m));
    expect(entries.map((e) => e.name)).toEqual([MANIFEST_ENTRY, "dump/pg.out"]);
    expect(Buffer.from(entries[1]?.body ?? "", "latin1").equals(BINARY)).toBe(true);
  });

  it("fails with the source's error when a volume's stream breaks mid-copy", async () => {
    const file = path.join(dir, "broken.tar.gz");
    await writeFile(file, "");
    const broken = new Readable({ read() {} });
    const head = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const s = tarStream(PGDATA);
      s.on("data", (c: Buffer) => chunks.push(c)).on("end", () => resolve(Buffer.concat(chunks)));
    });
    broken.push(head.subarray(0, 1536)); // the root, one header and part of a body
    setImmediate(() => broken.destroy(new Error("engine: stream cut")));
    const e = await writeBackupArchive(file, manifestOf({ binds: [] }), {
      readVolume: (_v, consume) => consume(broken),
      readBind: () => Promise.resolve(),
    }).then(
      () => undefined,
      (x: unknown) => x as Error,
    );
    expect(e?.message).toMatch(/stream cut|premature|Unexpected end/i);
  });

  it("refuses an entry whose name leaves its root", () => {
    expect(() => rerootHeader({ name: "./../etc/passwd", type: "file" }, "", "volumes/x")).toThrow(PlatformError);
    expect(() => rerootHeader({ name: "./h", type: "link", linkname: "../../x" }, "", "volumes/x")).toThrow(PlatformError);
  });
});

describe("reading an archive", () => {
  it("reads the manifest of a format-1 archive", async () => {
    expect(await readBackupManifest(await written("pg-m.tar.gz", manifestOf()))).toEqual(manifestOf());
  });

  it("gives back a volume's tar re-rooted at the volume root, exactly as it was read", async () => {
    const file = await written("pg-v.tar.gz", manifestOf());
    expect(await entriesOf(volumeTar(file, "pgdata"))).toEqual(await entriesOf(tarStream(PGDATA)));
  });

  it("gives back the dump byte for byte", async () => {
    const m = manifestOf({ method: "exec", volumes: [], binds: [], dump: { service: "pg", entry: "dump/pg.out" } });
    const file = await written("pg-d.tar.gz", m);
    const chunks: Buffer[] = [];
    for await (const c of dumpStream(file)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(BINARY)).toBe(true);
  });

  it("fails the stream of a volume the archive does not hold, and of a dump a stop backup does not have", async () => {
    const file = await written("pg-x.tar.gz", manifestOf());
    expect(await codeOf(entriesOf(volumeTar(file, "other")))).toBe("backup.archive_invalid");
    expect(await codeOf(entriesOf(dumpStream(file)))).toBe("backup.archive_invalid");
  });

  it("reads an archive without a manifest (the old helper's `tar czf -C /backup .`) as legacy format 0", async () => {
    const legacy = tarStream([
      { name: "./", type: "directory", mode: 0o755 },
      { name: "./volumes/", type: "directory", mode: 0o755 },
      { name: "./volumes/store-data/", type: "directory", mode: 0o755 },
      { name: "./volumes/store-data/users", type: "file", mode: 0o600, body: "admin:$2y$hash\n" },
      { name: "./binds/", type: "directory", mode: 0o755 },
      { name: "./binds/0/", type: "directory", mode: 0o755 },
      { name: "./binds/0/conf", type: "file", mode: 0o644, body: "c" },
    ]);
    const chunks: Buffer[] = [];
    for await (const c of legacy) chunks.push(c as Buffer);
    const file = path.join(dir, "store-20260517T010847Z.tar.gz");
    await writeFile(file, gzipSync(Buffer.concat(chunks)));
    expect(await readBackupManifest(file)).toMatchObject({
      format: 0,
      module: "store",
      method: null,
      consistent: false,
      volumes: ["store-data"],
      binds: [],
      bindCount: 1,
      dump: null,
    });
    expect(await entriesOf(volumeTar(file, "store-data"))).toEqual([
      { name: "./", type: "directory", mode: 0o755, uid: 0, gid: 0, linkname: null, body: "" },
      { name: "./users", type: "file", mode: 0o600, uid: 0, gid: 0, linkname: null, body: "admin:$2y$hash\n" },
    ]);
  });

  it("refuses a FIFO where an archive belongs as not a regular file, without blocking on its open (manifest, volume, dump, verify)", async () => {
    const fifo = path.join(dir, "fifo-20260517T010847Z.tar.gz");
    execFileSync("mkfifo", [fifo]);
    const e = await readBackupManifest(fifo).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PlatformError);
    expect((e as PlatformError).code).toBe("backup.archive_invalid");
    expect((e as PlatformError).message).toBe(`${fifo} is not a platformctl backup archive: cannot read it (not a regular file)`);
    expect(await codeOf(entriesOf(volumeTar(fifo, "store-data")))).toBe("backup.archive_invalid");
    expect(await codeOf(entriesOf(dumpStream(fifo)))).toBe("backup.archive_invalid");
    expect(await verifyArchive(fifo)).toMatchObject({ complete: false, problem: "cannot read it (not a regular file)" });
  });

  it("refuses, with backup.archive_invalid, a file that is not gzip, a gzip that is not tar, and a tar holding no backup", async () => {
    const notGzip = path.join(dir, "a.tar.gz");
    await writeFile(notGzip, "plain text\n");
    const notTar = path.join(dir, "b.tar.gz");
    await writeFile(notTar, gzipSync(Buffer.from("x".repeat(2000))));
    const chunks: Buffer[] = [];
    for await (const c of tarStream([{ name: "README", type: "file", body: "hi" }])) chunks.push(c as Buffer);
    const empty = path.join(dir, "c.tar.gz");
    await writeFile(empty, gzipSync(Buffer.concat(chunks)));
    for (const f of [notGzip, notTar, empty, path.join(dir, "absent.tar.gz")])
      expect(await codeOf(readBackupManifest(f))).toBe("backup.archive_invalid");
  });

  it("names the bad field of a manifest, and refuses a newer format", async () => {
    const withManifest = async (name: string, json: unknown) => {
      const chunks: Buffer[] = [];
      for await (const c of tarStream([{ name: MANIFEST_ENTRY, type: "file", body: JSON.stringify(json) }])) chunks.push(c as Buffer);
      const file = path.join(dir, name);
      await writeFile(file, gzipSync(Buffer.concat(chunks)));
      return readBackupManifest(file).then(
        () => "resolved",
        (e: PlatformError) => `${e.code}: ${e.message}`,
      );
    };
    expect(await withManifest("bad.tar.gz", { ...manifestOf(), method: "snapshot" })).toMatch(/^backup\.archive_invalid: .*field method/);
    expect(await withManifest("new.tar.gz", { ...manifestOf(), format: 2 })).toMatch(/^backup\.archive_invalid: .*format 2/);
  });
});
