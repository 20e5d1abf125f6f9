// The backup catalog on disk: entries and verification lines, read back by today's reader and by one that knows only entries.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  appendBackupCatalog,
  appendBackupVerification,
  BACKUP_CATALOG_FILE,
  latestVerification,
  readBackupCatalog,
  sha256File,
  type BackupVerification,
} from "../../src/state/backup-catalog.js";
import { PlatformError } from "../../src/errors.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "platformctl-catalog-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const FILE = "/srv/backups/minio-20260517T010847Z.tar.gz";
const entry = { file: FILE, module: "minio", size: 10, sha256: "a".repeat(64), created_at: "2026-05-17T01:08:47.000Z" };
const verification = (over: Partial<BackupVerification> = {}): BackupVerification => ({
  type: "verification",
  file: FILE,
  module: "minio",
  size: 10,
  sha256: "a".repeat(64),
  verified_at: "2026-05-17T02:00:00.000Z",
  outcome: "passed",
  scratch_project: "0verify-1xab12cd-p",
  ...over,
});

describe("a FIFO in the backup catalog's place, or hashed as a backup", () => {
  it("appends neither an entry nor a verification to a FIFO: backup.catalog_write_failed naming it as not a regular file, never blocking", async () => {
    const catalog = path.join(dir, BACKUP_CATALOG_FILE);
    execFileSync("mkfifo", [catalog]);
    for (const append of [() => appendBackupCatalog(dir, entry), () => appendBackupVerification(dir, verification())]) {
      const e = await append().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PlatformError);
      expect(e).toMatchObject({
        code: "backup.catalog_write_failed",
        message: `cannot append to the backup catalog ${catalog} (not a regular file)`,
      });
    }
    expect((await appendBackupCatalog(dir, entry).catch((x: PlatformError) => x))?.hint).toContain(`platformctl backup import ${FILE}`);
  });

  it("refuses to hash a FIFO (sha256File) with EFTYPE instead of waiting for a writer", async () => {
    const fifo = path.join(dir, "minio-20260517T010847Z.tar.gz");
    execFileSync("mkfifo", [fifo]);
    await expect(sha256File(fifo)).rejects.toMatchObject({ code: "EFTYPE", message: `${fifo} is not a regular file` });
  });
});

describe("backup catalog", () => {
  it("reads catalog lines written before verification lines existed", async () => {
    await writeFile(path.join(dir, BACKUP_CATALOG_FILE), `${JSON.stringify(entry)}\n`);
    expect(await readBackupCatalog(dir)).toEqual({ ok: true, entries: [entry], verifications: [] });
  });

  it("keeps verification lines apart from backup entries, and the latest one for the same content counts", async () => {
    await appendBackupCatalog(dir, entry);
    await appendBackupVerification(dir, verification({ outcome: "failed", problem: "minio exited (code 1)" }));
    await appendBackupVerification(dir, verification({ verified_at: "2026-05-17T03:00:00.000Z" }));
    await appendBackupVerification(dir, verification({ sha256: "b".repeat(64), verified_at: "2026-05-17T04:00:00.000Z" }));
    const read = await readBackupCatalog(dir);
    if (!read.ok) throw new Error(read.problem);
    expect(read.entries).toEqual([entry]);
    expect(read.verifications).toHaveLength(3);
    expect(latestVerification(read.verifications, FILE, "a".repeat(64))).toMatchObject({
      outcome: "passed",
      verified_at: "2026-05-17T03:00:00.000Z",
    });
    expect(latestVerification(read.verifications, FILE, "c".repeat(64))).toBeUndefined();
  });

  it("writes verification lines that a reader knowing only entries takes for the same backup, never for corruption", async () => {
    await appendBackupCatalog(dir, entry);
    await appendBackupVerification(dir, verification());
    const lines = (await readFile(path.join(dir, BACKUP_CATALOG_FILE), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // The check readers used before verification lines existed: file and sha256 strings, size a number.
    const oldIsEntry = (e: { file?: unknown; sha256?: unknown; size?: unknown }) =>
      typeof e.file === "string" && typeof e.sha256 === "string" && typeof e.size === "number";
    expect(lines.every(oldIsEntry)).toBe(true);
    expect(lines.map((l) => [l.file, l.size, l.sha256])).toEqual([
      [FILE, 10, "a".repeat(64)],
      [FILE, 10, "a".repeat(64)],
    ]);
  });

  it("reports a line that is neither an entry nor a verification as unreadable", async () => {
    await writeFile(
      path.join(dir, BACKUP_CATALOG_FILE),
      `${JSON.stringify(entry)}\n${JSON.stringify({ type: "verification", file: FILE })}\n`,
    );
    const read = await readBackupCatalog(dir);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.problem).toContain(":2: not a backup entry");
  });
});
