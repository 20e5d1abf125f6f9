// restore on real PostgreSQL 15: --verify touches nothing live; a live restore after rows were deleted brings them back, without crash recovery.
import Docker from "dockerode";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog } from "../helpers/platform.js";
import { countRows, expectNoCrashRecovery, pgModule, query } from "../helpers/postgres.js";
import { testProject } from "../helpers/run-id.js";
import { runCli } from "../helpers/run-cli.js";
import { eventually } from "../helpers/eventually.js";

const docker = new Docker();
const CONFIRM = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];

let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let env: Record<string, string>;
let project: string;
let backup: string;
const container = () => `${project}_pg_pg`;
const cli = (args: string[]) => runCli([...args, "--project", project, "--modules-dir", catalog.dir], env);

async function live(): Promise<{ id: string; startedAt: string; status: string }> {
  const i = await docker.getContainer(container()).inspect();
  return { id: i.Id, startedAt: i.State.StartedAt, status: i.State.Status };
}

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("pg", pgModule());
  root = await mkdtemp(path.join(tmpdir(), "platformctl-restore-pg-"));
  await mkdir(path.join(root, "backups"));
  project = testProject("restore-pg");
  env = { STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"), NO_COLOR: "1" };
  const boot = await cli(["apply", "--module", "pg", ...CONFIRM, "--bootstrap"]);
  expect(boot.code, boot.stdout + boot.stderr).toBe(0);
  await query(docker, container(), "CREATE TABLE t (n int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000)");
  // A cold copy: the server stopped cleanly first (what method stop does), so the backup is consistent.
  await docker.getContainer(container()).stop({ t: 30 });
  const b = await cli(["backup", "pg"]);
  await docker.getContainer(container()).start();
  expect(b.code, b.stderr).toBe(0);
  backup = b.stdout.trim();
  await eventually(async () => expect(await countRows(docker, container(), "t")).toBe(1000), { timeoutMs: 120_000 });
  await query(docker, container(), "DELETE FROM t WHERE n > 10");
}, 300_000);

afterAll(async () => {
  await catalog.remove();
  await rm(root, { recursive: true, force: true });
});

describe("restore on PostgreSQL", () => {
  it("verifies the backup in a scratch project while the live cluster keeps its container and its rows", async () => {
    const before = await live();
    const r = await cli(["restore", "pg", "--from", backup, "--verify", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: "passed", left_behind: [] });
    expect(await live()).toEqual(before);
    expect(await countRows(docker, container(), "t")).toBe(10);
  }, 300_000);

  it("brings the deleted rows back with a live restore, and the cluster starts without crash recovery", async () => {
    const r = await cli(["restore", "pg", "--from", backup, ...CONFIRM]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await countRows(docker, container(), "t")).toBe(1000);
    await expectNoCrashRecovery(docker, container());
    const plan = await cli(["plan", "--module", "pg", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  }, 300_000);
});
