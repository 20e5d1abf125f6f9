// Backup evidence on the real engine: a backup ref the catalog does not record must read as a complete gzip tar holding the
// covering module's volumes; `backup import` checks another tool's archive in; an unreadable catalog blocks.
import { execFile } from "node:child_process";
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatBackupName } from "../../src/policy/parse-backup-name.js";
import { aCatalog, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const run = promisify(execFile);
let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let backups: string;
let env: Record<string, string>;
let project: string;
let seq = 0;

const STORE = manifest("store", {
  stateful: true,
  services: `    store:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100000"]\n      restart: "no"\n      volumes: ["store-data:/data"]\n`,
});

/** A fresh, unique backup file name of `module` dated now (the gate checks age by name). */
const freshName = (module = "store") => formatBackupName(module, new Date(), ++seq);

/** An archive made by another tool (GNU tar on the host) in the layout `platformctl backup` writes. */
async function foreignArchive(volumes: string[], name = freshName()): Promise<string> {
  const src = await mkdtemp(path.join(root, "src-"));
  for (const v of volumes) {
    await mkdir(path.join(src, "volumes", v), { recursive: true });
    await writeFile(path.join(src, "volumes", v, "users"), "admin:$2y$hash\n");
  }
  if (volumes.length === 0) await writeFile(path.join(src, "README"), "nothing\n");
  const file = path.join(backups, name);
  await run("tar", ["czf", file, "-C", src, "."]);
  return file;
}

async function backupCodes(ref: string): Promise<string[]> {
  const r = await runCli(
    [
      "scope",
      "--module",
      "store",
      "--allow-stateful",
      "--backup-ref",
      ref,
      "--confirm",
      "BACKUP_DONE_F3",
      "--json",
      "--project",
      project,
      "--modules-dir",
      catalog.dir,
    ],
    env,
  );
  if (!r.stdout) throw new Error(`scope printed nothing: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { reasons: { code: string }[] }).reasons.map((x) => x.code).filter((c) => c.startsWith("backup."));
}

const importIt = (file: string) => runCli(["backup", "import", file, "--json", "--project", project, "--modules-dir", catalog.dir], env);
const catalogText = () => readFile(path.join(env.STATE_DIR as string, "backup-catalog.jsonl"), "utf8").catch(() => "");

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("store", STORE);
  root = await mkdtemp(path.join(tmpdir(), "platformctl-verify-"));
  backups = path.join(root, "backups");
  await mkdir(backups);
  env = { STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: backups };
  project = testProject("verify");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await catalog.remove();
});

describe("backup evidence is the content, not the file name", () => {
  it("refuses junk named like a fresh backup with backup.unverified", async () => {
    const junk = path.join(backups, freshName());
    await writeFile(junk, randomBytes(4096));
    expect(await backupCodes(junk)).toEqual(["backup.unverified"]);
  });

  it("refuses a truncated archive, and an archive without the module's volume, with backup.unverified", async () => {
    const cut = await foreignArchive(["store-data"]);
    await truncate(cut, Math.floor((await stat(cut)).size / 2));
    expect(await backupCodes(cut)).toEqual(["backup.unverified"]);
    const other = await foreignArchive(["other-data"]);
    expect(await backupCodes(other)).toEqual(["backup.unverified"]);
  });

  it("accepts another tool's complete archive holding the module's volume (no backup reason)", async () => {
    expect(await backupCodes(await foreignArchive(["store-data"]))).toEqual([]);
  });

  it("backup import verifies and records another tool's archive; a later change is then a checksum mismatch", async () => {
    const file = await foreignArchive(["store-data"]);
    const r = await importIt(file);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ file, module: "store", volumes: ["store-data"], recorded: true });
    expect(await catalogText()).toContain(JSON.stringify(file));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await backupCodes(file)).toEqual([]);
    await appendFile(file, "tampered");
    expect(await backupCodes(file)).toEqual(["backup.checksum_mismatch"]);
  });

  it("backup import refuses junk with backup.unverified, exit 1, recording nothing", async () => {
    const junk = path.join(backups, freshName());
    await writeFile(junk, "not an archive at all\n");
    const before = await catalogText();
    const r = await importIt(junk);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("backup.unverified");
    expect(r.stderr).toContain("not a readable gzip stream");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await catalogText()).toBe(before);
  });

  it("blocks with backup.catalog_unreadable when the catalog holds a corrupt line, instead of skipping the checksum", async () => {
    const file = await foreignArchive(["store-data"]);
    await mkdir(env.STATE_DIR as string, { recursive: true });
    await appendFile(path.join(env.STATE_DIR as string, "backup-catalog.jsonl"), "{not json\n");
    expect(await backupCodes(file)).toEqual(["backup.catalog_unreadable"]);
  });
});
