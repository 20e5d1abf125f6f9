// A `stop` backup of a real PostgreSQL 15 while a client keeps inserting rows: the backup succeeds, the client carries
// on afterwards, and a restore of it holds every row committed before the backup began, without crash recovery.
import Docker from "dockerode";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { aCatalog } from "../helpers/platform.js";
import { countRows, createLoadTable, expectNoCrashRecovery, pgModule, query, startLoad } from "../helpers/postgres.js";
import { runCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";

const docker = new Docker();
const CONFIRM = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];

let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let env: Record<string, string>;
let project: string;
const container = () => `${project}_pg_pg`;
const cli = (args: string[]) => runCli([...args, "--project", project, "--modules-dir", catalog.dir], env);

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("pg", pgModule());
  root = await mkdtemp(path.join(tmpdir(), "platformctl-backup-pg-"));
  await mkdir(path.join(root, "backups"));
  project = testProject("backup-pg");
  env = { STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"), NO_COLOR: "1" };
  const boot = await cli(["apply", "--module", "pg", ...CONFIRM, "--bootstrap"]);
  expect(boot.code, boot.stdout + boot.stderr).toBe(0);
  await createLoadTable(docker, container());
}, 300_000);

afterAll(async () => {
  await catalog.remove();
  await rm(root, { recursive: true, force: true });
});

describe("backup of a busy PostgreSQL", () => {
  it("takes a stop backup while a client keeps inserting, and its restore holds every row committed before it, without crash recovery", async () => {
    const load = await startLoad(docker, { project });
    let stopped: number | undefined;
    try {
      await eventually(() => expect(load.committed()).toBeGreaterThan(20), { timeoutMs: 120_000 });
      const before = load.committed();
      const b = await cli(["backup", "pg", "--json"]);
      expect(b.code, b.stdout + b.stderr).toBe(0);
      const made = JSON.parse(b.stdout) as { file: string; method?: string; downtime_ms?: number };
      expect(made).toMatchObject({ method: "stop" });
      expect(made.downtime_ms).toBeGreaterThan(0);
      // The client rode out the downtime and keeps committing against the restarted server.
      const afterBackup = load.committed();
      await eventually(() => expect(load.committed()).toBeGreaterThan(afterBackup + 10), { timeoutMs: 120_000 });
      stopped = await load.stop();

      await query(docker, container(), "DELETE FROM load");
      const r = await cli(["restore", "pg", "--from", made.file, ...CONFIRM]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const restored = await countRows(docker, container(), "load");
      expect(restored).toBeGreaterThanOrEqual(before);
      expect(restored).toBeLessThan(stopped);
      // Rows 1..restored exactly: the copy was taken between two commits, never in the middle of one.
      expect(await countRows(docker, container(), "load", `n <= ${restored}`)).toBe(restored);
      await expectNoCrashRecovery(docker, container());
    } finally {
      if (stopped === undefined) await load.stop();
    }
  }, 600_000);
});
