// The audit summary on real files: the same answers as a full read of the log, only appended bytes parsed, any doubt a full read.
import { appendFile, chmod, readFile, rename, rm, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AUDIT_FILE, appendAudit, auditRecordsApply, readAudit, unfinishedIntents, type AuditRecord } from "../../src/state/audit.js";
import {
  AUDIT_SUMMARY_FILE,
  readAuditSummary,
  summaryRecordsApply,
  summaryUnfinished,
  type AuditSummary,
} from "../../src/state/audit-summary.js";
import { tempDirs } from "../manifest/a-manifest.js";
import { anAuditLog, auditLines } from "./an-audit-log.js";

const temp = tempDirs();
afterAll(() => temp.cleanup());

const PROJECTS = ["shop", "billing", "analytics", "elsewhere"];
const MODULES = ["postgres", "minio", "minio-init", "api", "worker", "web", "redis", "migrate", "cron", "metrics", "ghost"];

/** Every answer the apply path reads: the unfinished intents and the bootstrap fact for each project and module. */
function answers(
  unfinished: { id: string; time: string; project: string; modules: string[] }[],
  applies: (p: string, m: string) => boolean,
) {
  return {
    unfinished: unfinished.map((i) => ({ id: i.id, time: i.time, project: i.project, modules: i.modules })),
    applies: PROJECTS.flatMap((p) => MODULES.map((m) => `${p}/${m}: ${applies(p, m)}`)),
  };
}
const fromSummary = (s: AuditSummary) => answers(summaryUnfinished(s), (p, m) => summaryRecordsApply(s, p, m));
const fromRecords = (records: readonly AuditRecord[]) => answers(unfinishedIntents(records), (p, m) => auditRecordsApply(records, p, m));

/** The summary's answers next to a full read's (readAudit and the definitions in audit.ts). */
async function expectFullReadAnswers(dir: string): Promise<number> {
  const { summary, parsedFrom } = await readAuditSummary(dir);
  expect(fromSummary(summary)).toEqual(fromRecords((await readAudit(dir)).records));
  return parsedFrom;
}

const logFile = (dir: string) => path.join(dir, AUDIT_FILE);
const summaryFile = (dir: string) => path.join(dir, AUDIT_SUMMARY_FILE);
const storedOffset = async (dir: string): Promise<number> => JSON.parse(await readFile(summaryFile(dir), "utf8")).log.offset;
const size = async (file: string): Promise<number> => (await stat(file)).size;

async function aStateDir(label: string, records: readonly AuditRecord[]): Promise<string> {
  const dir = await temp.make(label);
  await writeFile(logFile(dir), auditLines(records), { mode: 0o600 });
  return dir;
}

/** Replaces `count` bytes at `at` with as many others, in place (same file, same size). */
async function overwrite(file: string, at: number, bytes: string): Promise<void> {
  const text = Buffer.from(await readFile(file));
  text.write(bytes, at);
  await writeFile(file, text);
}

describe("the audit summary", () => {
  it("is built on the first read, mode 0600, and answers as a full read does for a history with every kind of record", async () => {
    const records = anAuditLog({ applies: 400, seed: 3 });
    const dir = await aStateDir("first", records);
    // The generated history has what the answers depend on, so the comparison below is not vacuous.
    const outcomes = new Set(records.flatMap((r) => (r.type === "result" ? [r.outcome] : [])));
    for (const o of ["applied", "no-op", "blocked", "refused", "failed"]) expect(outcomes).toContain(o);
    expect(records.some((r) => r.type === "reconciled")).toBe(true);
    expect(unfinishedIntents(records).length).toBeGreaterThan(0);
    const full = fromRecords(records);
    expect(full.applies.some((a) => a.endsWith("true"))).toBe(true);
    expect(full.applies.some((a) => a.endsWith("false"))).toBe(true);

    expect(await expectFullReadAnswers(dir)).toBe(0);
    expect((await stat(summaryFile(dir))).mode & 0o777).toBe(0o600);
    expect(await storedOffset(dir)).toBe(await size(logFile(dir)));
  });

  it("answers as a full read does at every point of generated histories read on in pieces, also cut inside a line", async () => {
    for (const seed of [11, 12, 13, 14]) {
      const text = Buffer.from(auditLines(anAuditLog({ applies: 120, seed })));
      const dir = await temp.make(`pieces-${seed}`);
      await writeFile(logFile(dir), "", { mode: 0o600 });
      // Cut points anywhere: a cut inside a line is an append another process has only half written.
      const cuts = Array.from({ length: 25 }, (_, i) => Math.floor(((i + 1) * text.length) / 25) - (i % 3) * 17);
      let done = 0;
      for (const cut of [...cuts.slice(0, -1), text.length]) {
        await appendFile(logFile(dir), text.subarray(done, cut));
        done = cut;
        await expectFullReadAnswers(dir);
        const offset = await storedOffset(dir);
        expect(offset).toBe(text.subarray(0, cut).lastIndexOf(0x0a) + 1);
      }
    }
  });

  it("parses only what was appended since the last read, after two appends between runs", async () => {
    const records = anAuditLog({ applies: 200, seed: 5 });
    const dir = await aStateDir("two-appends", records.slice(0, 300));
    expect(await expectFullReadAnswers(dir)).toBe(0);
    const before = await size(logFile(dir));

    for (const r of records.slice(300, 302)) await appendAudit(dir, r);
    expect(await expectFullReadAnswers(dir)).toBe(before);
    expect(await storedOffset(dir)).toBe(await size(logFile(dir)));
    const next = await size(logFile(dir));
    for (const r of records.slice(302)) await appendAudit(dir, r);
    expect(await expectFullReadAnswers(dir)).toBe(next);
    // Nothing appended: nothing parsed, the summary stays.
    expect(await expectFullReadAnswers(dir)).toBe(await size(logFile(dir)));
  });

  it("reads a truncated log again from its start", async () => {
    const records = anAuditLog({ applies: 100, seed: 6 });
    const dir = await aStateDir("truncated", records);
    await expectFullReadAnswers(dir);
    const text = await readFile(logFile(dir));
    await truncate(logFile(dir), text.subarray(0, text.length / 2).lastIndexOf(0x0a) + 1);
    expect(await expectFullReadAnswers(dir)).toBe(0);
    await truncate(logFile(dir), 0);
    expect(await expectFullReadAnswers(dir)).toBe(0);
    expect(await storedOffset(dir)).toBe(0);
  });

  it("reads a log replaced by different bytes of the same size again from its start: at its end, at its start, or as a new file", async () => {
    const records = anAuditLog({ applies: 100, seed: 7 });
    const dir = await aStateDir("replaced", records);
    await expectFullReadAnswers(dir);
    const text = (await readFile(logFile(dir), "utf8")).trimEnd();
    const lastResult = records.findLast((r) => r.type === "result") as AuditRecord;
    const firstIntent = records.find((r) => r.type === "intent") as Extract<AuditRecord, { type: "intent" }>;
    const sizeBefore = await size(logFile(dir));

    // The last result now names no intent: that intent is unfinished again (a different answer, same size).
    const at = text.lastIndexOf(`"id":"${lastResult.id}"`) + 6;
    await overwrite(logFile(dir), at, "19991231T235959Z-00000000");
    expect(await size(logFile(dir))).toBe(sizeBefore);
    expect(await expectFullReadAnswers(dir)).toBe(0);

    // The first intent now names another project (same length).
    await expectFullReadAnswers(dir);
    const other = firstIntent.project.replace(/.$/, (c) => (c === "x" ? "y" : "x"));
    await overwrite(logFile(dir), text.indexOf(`"project":"${firstIntent.project}"`) + 11, other);
    expect(await expectFullReadAnswers(dir)).toBe(0);

    // The same bytes moved into place as a new file (a restore, a rotation): read again, same answers.
    await expectFullReadAnswers(dir);
    await writeFile(`${logFile(dir)}.new`, await readFile(logFile(dir)), { mode: 0o600 });
    await rename(`${logFile(dir)}.new`, logFile(dir));
    expect(await expectFullReadAnswers(dir)).toBe(0);
  });

  it("is rebuilt when deleted", async () => {
    const dir = await aStateDir("deleted", anAuditLog({ applies: 80, seed: 8 }));
    await expectFullReadAnswers(dir);
    await rm(summaryFile(dir));
    expect(await expectFullReadAnswers(dir)).toBe(0);
    expect(await storedOffset(dir)).toBe(await size(logFile(dir)));
  });

  it("ignores a corrupt summary, whatever is wrong with it, and rebuilds it", async () => {
    const records = anAuditLog({ applies: 80, seed: 9 });
    const dir = await aStateDir("corrupt", records);
    await expectFullReadAnswers(dir);
    const good = JSON.parse(await readFile(summaryFile(dir), "utf8"));
    const corruptions = [
      "",
      "{",
      "null",
      "[]",
      JSON.stringify({ ...good, log: { ...good.log, offset: -1 } }),
      JSON.stringify({ ...good, log: { ...good.log, offset: 1.5 } }),
      JSON.stringify({ ...good, log: { ...good.log, head: "not a hash" } }),
      JSON.stringify({ ...good, pending: [{ id: 1 }] }),
      JSON.stringify({ ...good, applied: "shop" }),
      JSON.stringify({ ...good, log: { ...good.log, offset: good.log.offset + 1 } }),
    ];
    for (const body of corruptions) {
      await writeFile(summaryFile(dir), body, { mode: 0o600 });
      expect(await expectFullReadAnswers(dir), body.slice(0, 80)).toBe(0);
      expect(JSON.parse(await readFile(summaryFile(dir), "utf8"))).toEqual(good);
    }
  });

  it("never trusts a summary of another format, even one whose fingerprint matches the log", async () => {
    const records = anAuditLog({ applies: 80, seed: 10 });
    const dir = await aStateDir("format", records);
    await expectFullReadAnswers(dir);
    const good = JSON.parse(await readFile(summaryFile(dir), "utf8"));
    // Answers that would be wrong: every intent of every project counted, nothing unfinished.
    const forged = { ...good, pending: [], applied: PROJECTS.flatMap((p) => MODULES.map((m) => `${p}\u0000${m}`)) };
    for (const format of ["platformctl/audit-summary@0", "platformctl/audit-summary@2", undefined]) {
      await writeFile(summaryFile(dir), JSON.stringify({ ...forged, format }), { mode: 0o600 });
      expect(await expectFullReadAnswers(dir)).toBe(0);
    }
    expect(JSON.parse(await readFile(summaryFile(dir), "utf8")).format).toBe(good.format);
  });

  it("answers as a full read does with a partial last line, and summarises a line only once its newline is written", async () => {
    const records = anAuditLog({ applies: 60, seed: 15 });
    const dir = await aStateDir("partial", records);
    await expectFullReadAnswers(dir);
    const whole = await size(logFile(dir));
    const crashed: AuditRecord = {
      type: "intent",
      id: "20270101T000000Z-0badf00d",
      time: "2027-01-01T00:00:00.000Z",
      project: "elsewhere",
      command: "platformctl apply",
      modules: ["ghost"],
      actor: { user: "u", host: "h", ci: {} },
      plan_fingerprint: "sha256:0",
      inputs: { allow_stateful: false, backup_ref: null, confirm_given: false, bootstrap: false, rerun: false },
      decisions: [],
    };

    // A torn write: skipped, as readAudit skips it; the summary stops before it.
    await appendFile(logFile(dir), JSON.stringify(crashed).slice(0, 40));
    expect(await expectFullReadAnswers(dir)).toBe(whole);
    expect(await storedOffset(dir)).toBe(whole);
    // The next append starts on its own line: the torn line stays unreadable, the new record counts.
    await appendAudit(dir, crashed);
    expect(await expectFullReadAnswers(dir)).toBe(whole);
    expect(summaryRecordsApply((await readAuditSummary(dir)).summary, "elsewhere", "ghost")).toBe(true);

    // A whole record without its newline counts, as readAudit counts it, but is not summarised until the newline.
    const complete = await size(logFile(dir));
    await appendFile(logFile(dir), JSON.stringify({ ...crashed, id: "20270101T000001Z-0badf00e", modules: ["lonely"], project: "shop" }));
    const { summary } = await readAuditSummary(dir);
    expect(summaryUnfinished(summary).map((p) => p.id)).toContain("20270101T000001Z-0badf00e");
    expect(fromSummary(summary)).toEqual(fromRecords((await readAudit(dir)).records));
    expect(await storedOffset(dir)).toBe(complete);
    await appendFile(logFile(dir), "\n");
    expect(await expectFullReadAnswers(dir)).toBe(complete);
    expect(await storedOffset(dir)).toBe(await size(logFile(dir)));
  });

  it("reads the log again in full when an appended result names no intent the summary holds, or two of one id", async () => {
    const records = anAuditLog({ applies: 80, seed: 16 });
    const dir = await aStateDir("irregular", records);
    await expectFullReadAnswers(dir);
    // A second result for an intent that already has one, changing what it counts as.
    const blocked = records.find((r) => r.type === "result" && r.outcome === "blocked") as AuditRecord;
    await appendAudit(dir, { ...blocked, outcome: "applied" } as AuditRecord);
    expect(await expectFullReadAnswers(dir)).toBe(0);

    // Two pending intents of one id (written by hand), then one result: it closes both.
    const twice = { ...(records.find((r) => r.type === "intent") as AuditRecord), id: "20270101T000000Z-00000002" } as AuditRecord;
    await appendAudit(dir, twice);
    expect(await expectFullReadAnswers(dir)).toBeGreaterThan(0);
    await appendAudit(dir, { ...twice, modules: ["ghost"] } as AuditRecord);
    expect(await expectFullReadAnswers(dir)).toBe(0);
    await appendAudit(dir, { type: "result", id: twice.id, time: "2027-01-01T00:00:01.000Z", outcome: "no-op", modules: [] });
    expect(await expectFullReadAnswers(dir)).toBe(0);
  });

  it("drops crashed intents long reconciled that no answer depends on, and reads in full if a result for one still comes", async () => {
    const generated = anAuditLog({ applies: 1300, seed: 19 });
    // A crash of a module nothing else ever applied: it must be kept however old, it alone answers for the module.
    const ghost = {
      ...(generated[0] as Extract<AuditRecord, { type: "intent" }>),
      id: "20251231T000000Z-00000001",
      project: "elsewhere",
      modules: ["ghost"],
    };
    const records: AuditRecord[] = [
      ghost,
      { type: "reconciled", id: "20251231T000000Z-00000002", time: ghost.time, intent_id: ghost.id, note: "found unfinished" },
      ...generated,
    ];
    const dir = await aStateDir("settled", records.slice(0, -60));
    await expectFullReadAnswers(dir);
    for (const r of records.slice(-60)) await appendAudit(dir, r);
    expect(await expectFullReadAnswers(dir)).toBeGreaterThan(0);
    const kept = new Set<string>(JSON.parse(await readFile(summaryFile(dir), "utf8")).pending.map((p: { id: string }) => p.id));
    const results = new Set(records.flatMap((r) => (r.type === "result" ? [r.id] : [])));
    const crashed = records.filter((r) => r.type === "intent" && !results.has(r.id));
    const dropped = crashed.filter((r) => !kept.has(r.id));
    expect(dropped.length).toBeGreaterThan(0);
    expect(kept.size).toBeLessThan(crashed.length);
    expect(kept).toContain(ghost.id);
    expect(summaryRecordsApply((await readAuditSummary(dir)).summary, "elsewhere", "ghost")).toBe(true);

    const late = dropped[0] as Extract<AuditRecord, { type: "intent" }>;
    await appendAudit(dir, { type: "result", id: late.id, time: "2030-01-01T00:00:00.000Z", outcome: "blocked", modules: [] });
    expect(await expectFullReadAnswers(dir)).toBe(0);
  });

  it("reads an absent log as empty and writes no summary", async () => {
    const dir = await temp.make("absent");
    const { summary, parsedFrom } = await readAuditSummary(dir);
    expect({ unfinished: summaryUnfinished(summary), parsedFrom }).toEqual({ unfinished: [], parsedFrom: 0 });
    await expect(stat(summaryFile(dir))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("is not trusted when others can write it, and not kept at all in a STATE_DIR others can write", async () => {
    const records = anAuditLog({ applies: 80, seed: 17 });
    const dir = await aStateDir("others", records);
    await expectFullReadAnswers(dir);
    const good = JSON.parse(await readFile(summaryFile(dir), "utf8"));
    await writeFile(summaryFile(dir), JSON.stringify({ ...good, pending: [], applied: [] }));
    await chmod(summaryFile(dir), 0o666);
    expect(await expectFullReadAnswers(dir)).toBe(0);
    expect((await stat(summaryFile(dir))).mode & 0o777).toBe(0o600);

    await rm(summaryFile(dir));
    await chmod(dir, 0o770);
    expect(await expectFullReadAnswers(dir)).toBe(0);
    await expect(stat(summaryFile(dir))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("holds ids, times, projects and module names only: no actor, command, inputs or backup path", async () => {
    const records = anAuditLog({ applies: 200, seed: 18 });
    const dir = await aStateDir("contents", records);
    await expectFullReadAnswers(dir);
    const text = await readFile(summaryFile(dir), "utf8");
    for (const word of ["actor", "GITHUB", "command", "backup_ref", "/backups/", "inputs", "decisions", "plan_fingerprint"])
      expect(text).not.toContain(word);
  });
});
