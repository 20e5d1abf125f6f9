// The audit log and STATE_DIR on the real engine: a torn last line is tolerated and never merged, the audit summary
// answers as the whole log does, and an apply that cannot write its state or its intent record changes nothing.
import { execFile } from "node:child_process";
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { AUDIT_SUMMARY_FILE } from "../../src/state/audit-summary.js";
import { aScenario, expectAuditOutcomes, oneShot, type Scenario } from "./apply-scenario.js";

const run = promisify(execFile);
const JOB = oneShot("job", '["sh", "-c", "sleep 0.1"]');

const scenarios: Scenario[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
async function scenario(label: string): Promise<Scenario> {
  const s = await aScenario(label, { job: JOB });
  scenarios.push(s);
  return s;
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const s of scenarios.splice(0)) await s.remove();
});

describe("the audit log", () => {
  it("tolerates a torn last line: `audit` reports it, and the next apply's records start on their own lines", async () => {
    const s = await scenario("torn");
    await mkdir(s.stateDir, { recursive: true });
    const torn = '{"type":"intent","id":"20260101T000000Z-deadbeef","time":"2026-01-01T00:00:00.000Z","proj';
    await writeFile(path.join(s.stateDir, "audit.jsonl"), torn);

    const audit = await s.run("audit");
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stderr).toContain("skipped unreadable audit lines 1");
    const json = await s.run("audit", ["--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ records: [], skipped_lines: [1] });

    const r = await s.apply(["--module", "job"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = (await readFile(path.join(s.stateDir, "audit.jsonl"), "utf8")).split("\n");
    expect(lines[0]).toBe(torn);
    expect(JSON.parse(lines[1] as string)).toMatchObject({ type: "intent", modules: ["job"] });
    expect(JSON.parse(lines[2] as string)).toMatchObject({ type: "result", outcome: "applied" });
    expect(lines.slice(3)).toEqual([""]);
    const after = await s.run("audit", ["--json"]);
    expect(JSON.parse(after.stdout)).toMatchObject({
      skipped_lines: [1],
      records: [{ type: "intent" }, { type: "result", outcome: "applied" }],
    });
  });
});

describe("the audit summary", () => {
  const STORE = oneShot("store", '["sh", "-c", "sleep 0.1"]', { stateful: true });
  const BOOTSTRAP = ["--module", "store", "--allow-stateful", "--confirm", "BACKUP_DONE_F3", "--bootstrap", "--json"];

  it("answers apply and scope as the whole log does: a crash appended after it blocks --bootstrap and is reconciled once, summary or not", async () => {
    const s = await scenario("summary");
    await s.write("store", STORE);
    for (let i = 0; i < 2; i++) expect((await s.apply(["--module", "job"])).code).toBe(0);
    const summary = path.join(s.stateDir, AUDIT_SUMMARY_FILE);
    expect(JSON.parse(await readFile(summary, "utf8")).log.offset).toBeGreaterThan(0);
    const first = JSON.parse((await s.run("scope", BOOTSTRAP)).stdout);
    expect(first).toMatchObject({ module: "store", eligible: true, rule: "bootstrap" });

    // A crashed apply of store: its intent, and nothing after it.
    const [run] = expectAuditOutcomes(await s.audit(), ["applied", "no-op"]);
    const crashed = { ...run?.intent, id: "20260101T000000Z-0c0ffee0", modules: ["store"] };
    await appendFile(path.join(s.stateDir, "audit.jsonl"), `${JSON.stringify(crashed)}\n`);
    const blocked = (stdout: string) => JSON.parse(stdout).reasons.find((r: { code: string }) => r.code === "bootstrap.not_first_creation");
    const scope = await s.run("scope", BOOTSTRAP);
    expect(blocked(scope.stdout)?.message).toContain("the audit log records an earlier apply");

    for (let i = 0; i < 2; i++) {
      const r = await s.apply(["--module", "job"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.includes(crashed.id)).toBe(i === 0);
    }
    const reconciled = (await s.audit()).filter((r) => r.type === "reconciled" && r.intent_id === crashed.id);
    expect(reconciled).toHaveLength(1);

    // Another project's open intent may be an apply running now (the lock is per project): never reconciled from here.
    const elsewhere = { ...crashed, id: "20260101T000000Z-0e15e0e0", project: `${crashed.project}-other` };
    await appendFile(path.join(s.stateDir, "audit.jsonl"), `${JSON.stringify(elsewhere)}\n`);
    const mine = await s.apply(["--module", "job"]);
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stderr).not.toContain(elsewhere.id);
    expect((await s.audit()).filter((r) => r.type === "reconciled" && r.intent_id === elsewhere.id)).toEqual([]);

    await rm(summary);
    const again = await s.run("scope", BOOTSTRAP);
    expect(JSON.parse(again.stdout)).toEqual(JSON.parse(scope.stdout));
    expect((await stat(summary)).mode & 0o777).toBe(0o600);
  });
});

describe("an unusable STATE_DIR", () => {
  it("fails with exit 1 and touches nothing when a file stands where STATE_DIR should be", async () => {
    const s = await scenario("statefile");
    await mkdir(path.dirname(s.stateDir), { recursive: true });
    await writeFile(s.stateDir, "not a directory\n");
    const r = await s.apply(["--module", "job"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`STATE_DIR ${s.stateDir} is not a writable directory`);
    expect(await s.containers()).toEqual([]);
    expect(await readFile(s.stateDir, "utf8")).toBe("not a directory\n");
  });

  it("fails with exit 1, releases the lock and creates nothing when the intent record cannot be written", async () => {
    // The audit log lives on a read-only file system (a tmpfs remounted read-only): reading it works, appending fails.
    const s = await scenario("auditro");
    const ro = await mkdtemp(path.join(tmpdir(), "platformctl-ro-"));
    await run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", ro]);
    cleanups.push(() => rm(ro, { recursive: true, force: true }));
    cleanups.push(() => run("umount", [ro]));
    await writeFile(path.join(ro, "audit.jsonl"), "");
    await run("mount", ["-o", "remount,ro", ro]);
    await mkdir(s.stateDir, { recursive: true });
    await symlink(path.join(ro, "audit.jsonl"), path.join(s.stateDir, "audit.jsonl"));

    const r = await s.apply(["--module", "job"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain("cannot write the audit log");
    expect(r.stderr).toContain("nothing was changed on the engine");
    expect(await s.containers()).toEqual([]);
    expect(await s.lockExists()).toBe(false);
    expect(await s.audit()).toEqual([]);
  });

  it("flushes the intent record before the first engine change: the intent predates the container it created", async () => {
    const s = await scenario("pair");
    expect((await s.apply(["--module", "job"])).code).toBe(0);
    const [runRecord] = expectAuditOutcomes(await s.audit(), ["applied"]);
    const created = Date.parse((await s.container("job")).Created);
    expect(Date.parse(runRecord?.intent.time ?? "")).toBeLessThanOrEqual(created);
    expect(Date.parse(runRecord?.result.time ?? "")).toBeGreaterThanOrEqual(created);
  });
});
