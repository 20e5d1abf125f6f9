// An `exec` backup (pg_dumpall) of a real PostgreSQL 15 while a client keeps inserting rows: no downtime (the same
// container, never restarted), the client never stops committing, --verify restores the dump into a fresh server in a
// throwaway project, and the dump restored live with psql holds rows 1..k.
import Docker from "dockerode";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBackupManifest } from "../../src/backup/archive-format.js";
import { eventually } from "../helpers/eventually.js";
import { aCatalog } from "../helpers/platform.js";
import { countRows, createLoadTable, expectNoCrashRecovery, PG_USER, pgModule, query, startLoad } from "../helpers/postgres.js";
import { runCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";

const docker = new Docker();
const CONFIRM = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];
const EXEC_BACKUP = [
  "  backup:",
  "    method: exec",
  "    exec:",
  "      service: pg",
  `      command: ["pg_dumpall", "-U", "${PG_USER}", "--clean", "--if-exists"]`,
  `      restore_command: ["psql", "-U", "${PG_USER}", "-d", "postgres", "-q"]`,
].join("\n");

let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let env: Record<string, string>;
let project: string;
const container = () => `${project}_pg_pg`;
const cli = (args: string[]) => runCli([...args, "--project", project, "--modules-dir", catalog.dir], env);

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("pg", pgModule({ spec: EXEC_BACKUP }));
  root = await mkdtemp(path.join(tmpdir(), "platformctl-backup-exec-pg-"));
  await mkdir(path.join(root, "backups"));
  project = testProject("backup-exec-pg");
  env = { STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"), NO_COLOR: "1" };
  const boot = await cli(["apply", "--module", "pg", ...CONFIRM, "--bootstrap"]);
  expect(boot.code, boot.stdout + boot.stderr).toBe(0);
  await createLoadTable(docker, container());
}, 300_000);

afterAll(async () => {
  await catalog.remove();
  await rm(root, { recursive: true, force: true });
});

describe("exec backup of a busy PostgreSQL", () => {
  it("dumps with pg_dumpall while a client keeps inserting, without restarting the server, and the dump restores rows 1..k", async () => {
    const load = await startLoad(docker, { project });
    let stopped: number | undefined;
    try {
      await eventually(() => expect(load.committed()).toBeGreaterThan(20), { timeoutMs: 120_000 });
      const server = await docker.getContainer(container()).inspect();
      const before = load.committed();
      const b = await cli(["backup", "pg", "--json"]);
      expect(b.code, b.stdout + b.stderr).toBe(0);
      const made = JSON.parse(b.stdout) as { file: string; method: string; consistent: boolean; downtime_ms: number | null };
      expect(made).toMatchObject({ method: "exec", consistent: true, downtime_ms: null });
      expect(await readBackupManifest(made.file)).toMatchObject({ method: "exec", volumes: [], dump: { entry: "dump/pg.out" } });
      // No downtime: the same server process, never stopped, and the client keeps committing.
      const after = await docker.getContainer(container()).inspect();
      expect([after.Id, after.State.StartedAt, after.State.Running]).toEqual([server.Id, server.State.StartedAt, true]);
      const afterBackup = load.committed();
      await eventually(() => expect(load.committed()).toBeGreaterThan(afterBackup + 10), { timeoutMs: 120_000 });
      stopped = await load.stop();

      // --verify: a fresh server in a throwaway project, the dump piped into it there, the live one untouched.
      const v = await cli(["restore", "pg", "--from", made.file, "--verify", "--json"]);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      expect(JSON.parse(v.stdout)).toMatchObject({ outcome: "passed", left_behind: [] });
      expect(v.stdout).toContain("restore-dump");
      expect((await docker.getContainer(container()).inspect()).State.StartedAt).toBe(server.State.StartedAt);

      await query(docker, container(), "DELETE FROM load");
      const r = await cli(["restore", "pg", "--from", made.file, ...CONFIRM, "--json"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ outcome: "restored", downtime_ms: 0 });
      const restored = await countRows(docker, container(), "load");
      expect(restored).toBeGreaterThanOrEqual(before);
      expect(restored).toBeLessThan(stopped);
      // Rows 1..restored exactly: pg_dumpall read one snapshot, between two commits.
      expect(await countRows(docker, container(), "load", `n <= ${restored}`)).toBe(restored);
      expect((await docker.getContainer(container()).inspect()).State.StartedAt).toBe(server.State.StartedAt);
      await expectNoCrashRecovery(docker, container());
    } finally {
      if (stopped === undefined) await load.stop();
    }
  }, 600_000);
});
