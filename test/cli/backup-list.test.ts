// `platformctl backup list`: every recorded backup with module, method, size, age, consistency and verification.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";

let root: string;
let env: Record<string, string>;
const day = 86_400_000;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "platformctl-backup-list-"));
  const file = (n: string) => path.join(root, n);
  await writeFile(file("minio-20260517T010847Z.tar.gz"), "x");
  const now = Date.now();
  const lines = [
    // An entry from before backups recorded method and consistency.
    {
      file: file("minio-20260517T010847Z.tar.gz"),
      module: "minio",
      size: 1,
      sha256: "a".repeat(64),
      created_at: new Date(now - 2 * day).toISOString(),
    },
    {
      file: file("pg-20260518T010847Z.tar.gz"),
      module: "pg",
      size: 3 * 1024 * 1024,
      sha256: "b".repeat(64),
      created_at: new Date(now - 3600_000).toISOString(),
      method: "stop",
      consistent: true,
    },
    {
      type: "verification",
      file: file("minio-20260517T010847Z.tar.gz"),
      module: "minio",
      size: 1,
      sha256: "a".repeat(64),
      verified_at: new Date(now - day).toISOString(),
      outcome: "passed",
      scratch_project: "0verify-1xab12cd-p",
    },
  ];
  await writeFile(path.join(root, "backup-catalog.jsonl"), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
  env = { STATE_DIR: root, NO_COLOR: "1" };
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("backup list", () => {
  it("lists each backup newest first with method, size, age, consistency and verification", async () => {
    const r = await runCli(["backup", "list"], env);
    expect(r.code, r.stderr).toBe(0);
    const [head, pg, minio] = r.stdout.trim().split("\n");
    expect(head).toMatch(/^MODULE\s+METHOD\s+SIZE\s+AGE\s+CONSISTENT\s+VERIFICATION\s+FILE$/);
    expect(pg).toMatch(/^pg\s+stop\s+3\.0 MiB\s+1h\s+consistent\s+never\s+\S+pg-20260518T010847Z\.tar\.gz \(missing\)$/);
    expect(minio).toMatch(/^minio\s+unknown\s+1 B\s+2d\s+unknown\s+verified \S+\s+\S+minio-20260517T010847Z\.tar\.gz$/);
  });

  it("filters by module and prints JSON for machines", async () => {
    const r = await runCli(["backup", "list", "--module", "minio", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const { backups } = JSON.parse(r.stdout);
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatchObject({
      module: "minio",
      method: "unknown",
      consistent: null,
      present: true,
      verification: { outcome: "passed" },
    });
    expect(backups[0].age_seconds).toBeGreaterThanOrEqual(2 * 86_400);
  });

  it("fails with backup.catalog_unreadable rather than list nothing when the catalog is corrupt", async () => {
    const bad = await mkdtemp(path.join(tmpdir(), "platformctl-backup-list-bad-"));
    try {
      await writeFile(path.join(bad, "backup-catalog.jsonl"), "not json\n");
      const r = await runCli(["backup", "list"], { STATE_DIR: bad });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("backup catalog cannot be read");
      expect(r.stdout).toBe("");
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
