// The maintenance lane and the stateful ratchet on the real engine: an upgrade that succeeds, one rolled back, the refusals, the ratchet.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/state/audit.js";
import { eventually } from "../helpers/eventually.js";
import { manifest } from "../helpers/platform.js";
import { countRows, expectNoCrashRecovery, pgModule, query } from "../helpers/postgres.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";
import { aScenario, docker, type Scenario } from "./apply-scenario.js";

const GATE = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];

/**
 * The upgrade images, named after a test project so they belong to this run: `good` is the test image under another
 * reference (image.changed, healthy), `broken` holds /broken, which fails the module's healthcheck.
 */
const images = (() => {
  const repo = `platformctl-test/${testProject("maint-img")}`;
  return { good: `${repo}:good`, broken: `${repo}:broken` };
})();

beforeAll(async () => {
  const [repo, tag] = images.good.split(":") as [string, string];
  await docker.getImage(TEST_IMAGE).tag({ repo, tag });
  const c = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ["touch", "/broken"], Labels: { "dev.platformctl.test": "1" } });
  try {
    await c.start();
    await c.wait();
    await c.commit({ repo, tag: "broken" });
  } finally {
    await c.remove({ force: true });
  }
}, 60_000);

afterAll(async () => {
  for (const ref of [images.good, images.broken]) await docker.getImage(ref).remove({ force: true });
});

/** A stateful, healthy module with a named volume; its healthcheck fails while /broken exists. */
const db = (image: string, stateful = true) =>
  manifest("db", {
    stateful,
    expected: "healthy",
    services: [
      "    db:",
      `      image: ${image}`,
      '      command: ["sleep", "100000"]',
      '      restart: "no"',
      "      stop_grace_period: 1s",
      '      volumes: ["dbdata:/data"]',
      "      healthcheck:",
      '        test: ["CMD-SHELL", "test ! -f /broken"]',
      "        interval: 1s",
      "        retries: 1",
      "",
    ].join("\n"),
  }).replace("timeout_seconds: 30", "timeout_seconds: 10");

let s: Scenario;
let backupDir: string;
const env = () => ({ PLATFORMCTL_BACKUP_DIR: backupDir });

async function scenario(label: string): Promise<void> {
  s = await aScenario(label, { db: db(TEST_IMAGE) });
  backupDir = path.join(s.stateDir, "..", "backups");
  await mkdir(backupDir, { recursive: true });
  const r = await s.apply(["--module", "db", ...GATE, "--bootstrap"], env());
  expect(r.code, r.stdout + r.stderr).toBe(0);
  await exec(["sh", "-c", "echo precious > /data/keep"]);
}

async function exec(cmd: string[]): Promise<string> {
  const c = docker.getContainer(`${s.project}_db_db`);
  const e = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (b: Buffer) => chunks.push(b));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  // Multiplexed frames: an 8-byte header per frame; the payload is plain text here.
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/[\u0000-\u0008]/g, "");
}

async function planOut(): Promise<string> {
  const file = path.join(s.stateDir, "..", "plan.json");
  const r = await s.run("plan", ["--module", "db", "--out", file]);
  expect(r.code, r.stdout + r.stderr).toBeLessThanOrEqual(2);
  return file;
}

async function backup(): Promise<string> {
  const r = await s.run("backup", ["db"], env());
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout.trim().split("\n").at(-1) as string;
}

const maintenance = (plan: string, ref: string, more: string[] = []) =>
  s.apply(["--module", "db", "--plan", plan, "--maintenance", ...GATE, "--backup-ref", ref, "--json", ...more], env());

const names = async () => (await s.containers()).map((c) => c.Name.replace(/^\//, "")).sort();

afterEach(async () => {
  await s?.remove();
});

describe("apply --maintenance (real engine)", () => {
  it("upgrades a stateful module from a saved plan and a backup made after it, keeping the volume's data", async () => {
    await scenario("maint-ok");
    await s.write("db", db(images.good));
    const plan = await planOut();
    const ref = await backup();
    const r = await maintenance(plan, ref);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const c = await s.container("db");
    expect(c.Config.Image).toBe(images.good);
    expect(c.State.Health?.Status).toBe("healthy");
    expect(c.Config.Labels["dev.platformctl.stateful"]).toBe("true");
    expect(await names()).toEqual([`${s.project}_db_db`]);
    expect(await exec(["cat", "/data/keep"])).toContain("precious");
    const intents = (await s.audit()).filter((x): x is Extract<AuditRecord, { type: "intent" }> => x.type === "intent");
    expect(intents.at(-1)?.decisions).toEqual([{ module: "db", eligible: true, rule: "stateful-maintenance", reasons: [] }]);
  }, 120_000);

  it("rolls back automatically when the new image fails its healthcheck: the previous container runs again with its data", async () => {
    await scenario("maint-rollback");
    const before = await s.container("db");
    await s.write("db", db(images.broken));
    const plan = await planOut();
    const ref = await backup();
    const r = await maintenance(plan, ref);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { outcome: string; message: string };
    expect(out.outcome).toBe("rolled_back");
    expect(out.message).toContain(`platformctl restore db --from ${ref}`);
    const after = await s.container("db");
    expect(after.Id).toBe(before.Id);
    expect(after.Config.Image).toBe(TEST_IMAGE);
    expect(after.State.Running).toBe(true);
    expect(after.State.Health?.Status).toBe("healthy");
    expect(await names()).toEqual([`${s.project}_db_db`]);
    expect(await exec(["cat", "/data/keep"])).toContain("precious");
    // Audited: the apply's intent, then the rollback's own intent before the rollback, then its result and the run's.
    const types = (await s.audit()).map((x) => x.type);
    expect(types.slice(-4)).toEqual(["intent", "rollback-intent", "rollback-result", "result"]);
    const result = (await s.audit()).at(-2) as Extract<AuditRecord, { type: "rollback-result" }>;
    expect(result.outcome).toBe("rolled_back");
  }, 120_000);

  it("masks a rotated secret's old value on rollback: the new version prints what the old one stored, and neither value shows in stdout, stderr or the audit log", async () => {
    const [old, rotated] = [`old-token-${randomBytes(6).toString("hex")}`, `new-token-${randomBytes(6).toString("hex")}`];
    // v1 stores the value it was given in its volume; v2 prints what is stored (the old value), then its own, then fails.
    const versioned = (command: string) =>
      db(TEST_IMAGE)
        .replace('["sleep", "100000"]', () => command)
        .replace('      restart: "no"', '      restart: "no"\n      environment:\n        TOKEN: ${ROTATED_TOKEN}');
    s = await aScenario("maint-rotated", { db: versioned('["sh", "-c", "echo token=$$TOKEN > /data/seen; exec sleep 100000"]') });
    backupDir = path.join(s.stateDir, "..", "backups");
    await mkdir(backupDir, { recursive: true });
    const withToken = (value: string) => ({ ...env(), ROTATED_TOKEN: value });
    const boot = await s.apply(["--module", "db", ...GATE, "--bootstrap"], withToken(old));
    expect(boot.code, boot.stdout + boot.stderr).toBe(0);
    expect(await exec(["cat", "/data/seen"])).toContain(`token=${old}`);
    await s.write("db", versioned('["sh", "-c", "cat /data/seen; echo new=$$TOKEN; exit 3"]'));
    const file = path.join(s.stateDir, "..", "plan.json");
    const p = await s.run("plan", ["--module", "db", "--out", file], withToken(rotated));
    expect(p.code, p.stdout + p.stderr).toBeLessThanOrEqual(2);
    const b = await s.run("backup", ["db"], withToken(rotated));
    expect(b.code, b.stdout + b.stderr).toBe(0);
    const ref = b.stdout.trim().split("\n").at(-1) as string;
    const args = ["--module", "db", "--plan", file, "--maintenance", ...GATE, "--backup-ref", ref];
    const r = await s.apply(args, withToken(rotated));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toContain("rolled back");
    // The new container's last lines are shown, masked: the stored old value and the new one.
    expect(r.stdout + r.stderr).toContain("token=***");
    expect(r.stdout + r.stderr).toContain("new=***");
    const audit = await s.auditText();
    expect(audit).toContain("rollback-result");
    for (const text of [r.stdout, r.stderr, audit]) {
      expect(text).not.toContain(old);
      expect(text).not.toContain(rotated);
    }
    // The previous container runs again, holding the old value.
    const after = await s.container("db");
    expect(after.State.Running).toBe(true);
    expect(after.Config.Env).toContain(`TOKEN=${old}`);
  }, 120_000);

  it("interrupted (SIGINT) while it waits for the new container to become healthy, exits 130, releases the lock, audits the run as interrupted and names the previous container it kept", async () => {
    await scenario("maint-sigint");
    // A healthcheck whose first probe outlasts the apply: the new container stays `starting` until the signal.
    const slow = db(images.good)
      .replace('["CMD-SHELL", "test ! -f /broken"]', '["CMD", "sleep", "600"]')
      .replace("        interval: 1s", "        interval: 1s\n        timeout: 300s")
      .replace("timeout_seconds: 10", "timeout_seconds: 120");
    await s.write("db", slow);
    const plan = await planOut();
    const ref = await backup();
    const p = s.spawnApply(["--module", "db", "--plan", plan, "--maintenance", ...GATE, "--backup-ref", ref, "--json"], env());
    const name = `${s.project}_db_db`;
    await eventually(
      async () => {
        expect(await names()).toEqual([name, `${name}-previous`]);
        const c = await s.container("db");
        expect([c.Config.Image, c.State.Health?.Status]).toEqual([images.good, "starting"]);
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    process.kill(p.pid, "SIGINT");
    const r = await p.done;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    const out = JSON.parse(r.stdout) as { outcome: string; message: string };
    expect(out.outcome).toBe("interrupted");
    expect(out.message).toContain(`the previous container of ${name} is kept, stopped, as ${name}-previous`);
    expect(out.message).toContain("runbooks/upgrade-stateful-module.md");
    expect(await s.lockExists()).toBe(false);
    expect((await s.audit()).at(-1)).toMatchObject({ type: "result", outcome: "interrupted" });
    // Nothing rolled back behind the operator's back: both containers are left as they are.
    expect(await names()).toEqual([name, `${name}-previous`]);
  }, 120_000);

  it("refuses --maintenance without --plan, with a backup older than the plan, and an upgrade without --maintenance", async () => {
    await scenario("maint-refused");
    const before = await s.container("db");
    const early = await backup();
    await s.write("db", db(images.good));
    // A backup file name has whole seconds: wait until the plan is in a later second than the early backup.
    await new Promise((r) => setTimeout(r, 1100));
    const plan = await planOut();
    const a = await s.apply(["--module", "db", "--maintenance", ...GATE, "--backup-ref", early, "--json"], env());
    const b = await maintenance(plan, early);
    expect(a.code, a.stdout + a.stderr).toBe(3);
    expect(a.stdout).toContain("maintenance.plan_required");
    expect(b.code, b.stdout + b.stderr).toBe(3);
    expect(b.stdout).toContain("maintenance.backup_before_plan");
    const ref = await backup();
    const c = await s.apply(["--module", "db", "--plan", plan, ...GATE, "--backup-ref", ref, "--json"], env());
    expect(c.code, c.stdout + c.stderr).toBe(3);
    expect(c.stdout).toContain("drift.not_allowed");
    const after = await s.container("db");
    expect(after.Id).toBe(before.Id);
    expect(after.Config.Image).toBe(TEST_IMAGE);
  }, 120_000);

  it("keeps a saved plan fresh across a stop backup that restarted the same container, and still applies it", async () => {
    await scenario("maint-restart");
    await s.write("db", db(images.good));
    const plan = await planOut();
    await docker.getContainer(`${s.project}_db_db`).restart({ t: 1 });
    // The plan saw it healthy; a restarted container is healthy again after its first probe.
    await eventually(async () => expect((await s.container("db")).State.Health?.Status).toBe("healthy"));
    const ref = await backup();
    const r = await maintenance(plan, ref);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await s.container("db")).Config.Image).toBe(images.good);
  }, 120_000);
});

describe("the stateful ratchet (real engine)", () => {
  it("labels a stateful module's container and volume, and blocks a flip to stateful: false as module.stateful_removed", async () => {
    await scenario("ratchet");
    const vol = await docker.getVolume(`${s.project}_dbdata`).inspect();
    expect(vol.Labels?.["dev.platformctl.stateful"]).toBe("true");
    await s.write("db", db(images.good, false));
    const plan = await s.plan(["--module", "db"]);
    const entry = plan.modules.find((m) => m.name === "db");
    expect(entry?.stateful).toBe(true);
    expect(entry?.drift.map((d) => d.kind)).toContain("module.stateful_removed");
    const md = await s.run("plan", ["--module", "db", "--markdown"]);
    expect(md.stdout).toContain("stateful flag removed");
    const r = await s.apply(["--module", "db", "--json"], env());
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(await s.auditText()).not.toContain('"rule":"stateless"');
    expect((await s.container("db")).Config.Image).toBe(TEST_IMAGE);
  }, 120_000);
});

describe("a maintenance upgrade of a real PostgreSQL 15 (real engine)", () => {
  it("recreates pg with a changed configuration through the maintenance lane: every row kept, no crash recovery", async () => {
    s = await aScenario("maint-pg", { pg: pgModule({ stopGrace: "20s" }) });
    backupDir = path.join(s.stateDir, "..", "backups");
    await mkdir(backupDir, { recursive: true });
    const boot = await s.apply(["--module", "pg", ...GATE, "--bootstrap"], env());
    expect(boot.code, boot.stdout + boot.stderr).toBe(0);
    const name = `${s.project}_pg_pg`;
    await query(docker, name, "CREATE TABLE t (n int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 500)");
    const before = await s.container("pg");

    await s.write("pg", pgModule({ stopGrace: "20s", environment: { PGTZ: "UTC" } }));
    const file = path.join(s.stateDir, "..", "plan.json");
    expect((await s.run("plan", ["--module", "pg", "--out", file])).code).toBe(0);
    const backedUp = await s.run("backup", ["pg"], env());
    expect(backedUp.code, backedUp.stdout + backedUp.stderr).toBe(0);
    const ref = backedUp.stdout.trim().split("\n").at(-1) as string;
    const r = await s.apply(["--module", "pg", "--plan", file, "--maintenance", ...GATE, "--backup-ref", ref, "--json"], env());
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const after = await s.container("pg");
    expect(after.Id).not.toBe(before.Id);
    expect(after.Config.Env).toContain("PGTZ=UTC");
    expect(after.State.Health?.Status).toBe("healthy");
    expect(await countRows(docker, name, "t")).toBe(500);
    await expectNoCrashRecovery(docker, name);
  }, 300_000);
});
