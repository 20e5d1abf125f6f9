// The audit summary (STATE_DIR/cache/audit-summary.json): what apply needs from the audit log, read on from where the last read stopped.
import { createHash, randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { AUDIT_FILE, auditReadFailed, parseAuditLine, type AuditRecord } from "./audit.js";
import { onlyOurs, onlyOursToWrite } from "./only-ours-to-write.js";
import { openRegularFile, readRegularFile } from "./read-regular-file.js";

export const AUDIT_SUMMARY_FILE = path.join("cache", "audit-summary.json");
/** Never trusted across formats: a file of any other format is rebuilt from the log. */
const FORMAT = "platformctl/audit-summary@1";
/** The bytes at the start of the log and before the summarised offset that must still be what they were. */
const WINDOW = 64 * 1024;

/** An intent the log records no result for (yet): a crashed apply, or one still running (in another project). */
export interface PendingIntent {
  id: string;
  time: string;
  project: string;
  modules: string[];
  /** A `reconciled` record names it: no longer unfinished, but it still counts as an apply until a result says otherwise. */
  reconciled: boolean;
  /** How many intents the log holds before it. */
  seq: number;
}

/**
 * What the apply path reads from the audit log, derived from its records: the same answers as `unfinishedIntents` and
 * `auditRecordsApply` over every record (audit.ts holds those definitions; the tests compare both).
 *
 * Invariant: `applied` holds the (project, module) of every intent whose result was neither `blocked`, `no-op` nor
 * `refused`, and `pending` every intent without a result, in log order. Only an intent without a result can still
 * change its answer (its result arrives later, even after a reconciliation when its lock lease ran out), so those are
 * kept, and the others are reduced to `applied`. A reconciled intent whose modules are all in `applied` changes no
 * answer whatever its result; once SETTLED_AFTER intents followed it, it is dropped, so crashed applies do not make the
 * summary grow with history (should its result still come, that is a result for no pending intent, below).
 *
 * Exact for any log whose intents have unique ids, as `newAuditId` makes them; a result for no pending intent (a
 * second result, a result before its intent, one for a dropped intent) is noticed and the log read again in full. An
 * appended intent repeating an earlier, finished intent's id (only a hand-written line) is taken as a new one: it counts
 * as an apply and is reconciled, the cautious answer where a full read might not count it.
 */
export interface AuditSummary {
  pending: PendingIntent[];
  /** Intents in the summarised part of the log. */
  intents: number;
  /** `project` NUL `module`. */
  applied: Set<string>;
}

/** How far into the log a summary has read, and what the log held there (so a replaced or edited log is noticed). */
interface LogPosition {
  /** The log's device and inode: a log moved into place (a restore, a rotation) is read again. */
  dev: string;
  ino: string;
  /** Bytes summarised: always 0 or just after a newline (a torn last line is never summarised). */
  offset: number;
  /** SHA-256 (hex) of the first min(offset, WINDOW) bytes. */
  head: string;
  /** SHA-256 (hex) of the WINDOW bytes (or fewer) before offset. */
  tail: string;
}

/** The file: holds ids, times, project and module names, never a value (the log holds none either). */
interface SummaryFile {
  format: typeof FORMAT;
  log: LogPosition;
  pending: PendingIntent[];
  intents: number;
  applied: string[];
}

/** A summary read: its answers, and from which byte of the log records were parsed (0 when it was read in full). */
export interface AuditSummaryRead {
  summary: AuditSummary;
  parsedFrom: number;
  /** Settles when the summary is stored again (at once, unless `deferSave`); never rejects. */
  saved: Promise<void>;
}

/** Intents after which a reconciled intent no answer depends on is dropped (a result comes minutes after its intent). */
const SETTLED_AFTER = 1000;
const NOT_AN_APPLY: ReadonlySet<string> = new Set(["blocked", "no-op", "refused"]);
const key = (project: string, module: string): string => `${project}\0${module}`;

/** Intents with neither a result nor a reconciliation (as `unfinishedIntents`), in log order. */
export const summaryUnfinished = (s: AuditSummary): PendingIntent[] => s.pending.filter((p) => !p.reconciled);

/** Whether an earlier apply of `module` in `project` may have changed something (as `auditRecordsApply`). */
export const summaryRecordsApply = (s: AuditSummary, project: string, module: string): boolean =>
  s.applied.has(key(project, module)) || s.pending.some((p) => p.project === project && p.modules.includes(module));

/** The summary of every record, by the definitions: what a full read gives. */
export function summariseAudit(records: readonly AuditRecord[]): AuditSummary {
  const results = new Map(records.flatMap((r) => (r.type === "result" ? [[r.id, r.outcome] as const] : [])));
  const reconciled = new Set(records.flatMap((r) => (r.type === "reconciled" ? [r.intent_id] : [])));
  const s: AuditSummary = { pending: [], intents: 0, applied: new Set() };
  for (const r of records) {
    if (r.type !== "intent") continue;
    const outcome = results.get(r.id);
    if (outcome === undefined) s.pending.push(pendingOf(r, reconciled.has(r.id), s.intents));
    else if (!NOT_AN_APPLY.has(outcome)) for (const m of r.modules) s.applied.add(key(r.project, m));
    s.intents++;
  }
  settle(s);
  return s;
}

const pendingOf = (r: Extract<AuditRecord, { type: "intent" }>, reconciled: boolean, seq: number): PendingIntent => ({
  id: r.id,
  time: typeof r.time === "string" ? r.time : "",
  project: r.project,
  modules: [...r.modules],
  reconciled,
  seq,
});

/** Drops the reconciled intents no answer depends on any more (see AuditSummary). */
function settle(s: AuditSummary): void {
  s.pending = s.pending.filter(
    (p) => !p.reconciled || s.intents - p.seq <= SETTLED_AFTER || p.modules.some((m) => !s.applied.has(key(p.project, m))),
  );
}

/**
 * `s` advanced by `records` appended after what it summarises (in place), or false when a record does not fit the
 * invariant (an intent id already pending, a result for no pending intent): then only a full read gives the answer.
 */
function advance(s: AuditSummary, records: readonly AuditRecord[]): boolean {
  for (const r of records) {
    if (r.type === "intent") {
      if (s.pending.some((p) => p.id === r.id)) return false;
      s.pending.push(pendingOf(r, false, s.intents++));
    } else if (r.type === "result") {
      const i = s.pending.findIndex((p) => p.id === r.id);
      if (i < 0) return false;
      const [p] = s.pending.splice(i, 1) as [PendingIntent];
      if (s.pending.some((x) => x.id === r.id)) return false; // two pending intents of one id: only a full read knows
      if (!NOT_AN_APPLY.has(r.outcome)) for (const m of p.modules) s.applied.add(key(p.project, m));
    } else if (r.type === "reconciled") {
      // A reconciliation of no pending intent changes no answer (its intent has a result, was dropped, or is none).
      const p = s.pending.find((x) => x.id === r.intent_id);
      if (p) p.reconciled = true;
    }
  }
  settle(s);
  return true;
}

const copy = (s: AuditSummary): AuditSummary => ({
  pending: s.pending.map((p) => ({ ...p })),
  intents: s.intents,
  applied: new Set(s.applied),
});
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** The records of the complete lines in `bytes`, where they end, and the record of a last line without its newline yet. */
function parseLines(bytes: Buffer): { complete: AuditRecord[]; cut: number; torn: AuditRecord | undefined } {
  const cut = bytes.lastIndexOf(0x0a) + 1;
  const complete: AuditRecord[] = [];
  for (const line of bytes.subarray(0, cut).toString("utf8").split("\n")) {
    if (!line.trim()) continue;
    const r = parseAuditLine(line);
    if (r) complete.push(r);
  }
  const rest = bytes.subarray(cut).toString("utf8");
  return { complete, cut, torn: rest.trim() ? parseAuditLine(rest) : undefined };
}

/** `length` bytes of the log from `position` (fewer only if it shrank meanwhile). */
async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

interface Outcome {
  /** The answer: the complete lines' summary plus a torn last line's record, as a full read counts it. */
  summary: AuditSummary;
  parsedFrom: number;
  /** What to store: the summary of the complete lines only, up to `log.offset`; undefined when nothing changed. */
  store: SummaryFile | undefined;
}

const fileOf = (s: AuditSummary, log: LogPosition): SummaryFile => ({
  format: FORMAT,
  log,
  pending: s.pending,
  intents: s.intents,
  applied: [...s.applied].sort(),
});

/** The whole log read and summarised. */
async function readAll(fh: FileHandle, id: { dev: string; ino: string }, size: number): Promise<Outcome> {
  const bytes = await readAt(fh, 0, size);
  const { complete, cut, torn } = parseLines(bytes);
  const summary = summariseAudit(complete);
  const log = {
    ...id,
    offset: cut,
    head: sha256(bytes.subarray(0, Math.min(cut, WINDOW))),
    tail: sha256(bytes.subarray(Math.max(0, cut - WINDOW), cut)),
  };
  return { summary: torn ? summariseAudit([...complete, torn]) : summary, parsedFrom: 0, store: fileOf(summary, log) };
}

/**
 * The stored summary advanced by what was appended after it, or undefined when it does not describe this log's start
 * any more (another file, shorter, different bytes at its start or before the offset) or the new records do not fit.
 */
async function readOn(fh: FileHandle, stored: SummaryFile, id: { dev: string; ino: string }, size: number): Promise<Outcome | undefined> {
  const { log } = stored;
  if (log.dev !== id.dev || log.ino !== id.ino || size < log.offset) return undefined;
  if (sha256(await readAt(fh, 0, Math.min(log.offset, WINDOW))) !== log.head) return undefined;
  const from = Math.max(0, log.offset - WINDOW);
  const bytes = await readAt(fh, from, size - from);
  const before = log.offset - from;
  if (bytes.length < before || sha256(bytes.subarray(0, before)) !== log.tail) return undefined;
  const { complete, cut, torn } = parseLines(bytes.subarray(before));
  const summary = summaryOf(stored);
  if (!advance(summary, complete)) return undefined;
  const answer = torn ? copy(summary) : summary;
  if (torn && !advance(answer, [torn])) return undefined;
  if (cut === 0) return { summary: answer, parsedFrom: log.offset, store: undefined };
  const offset = log.offset + cut;
  // Below WINDOW the read started at byte 0 (from = 0), so the new head is in hand.
  const head = log.offset >= WINDOW ? log.head : sha256(bytes.subarray(0, Math.min(offset, WINDOW)));
  const end = before + cut;
  const next = { ...id, offset, head, tail: sha256(bytes.subarray(Math.max(0, end - WINDOW), end)) };
  return { summary: answer, parsedFrom: log.offset, store: fileOf(summary, next) };
}

const summaryOf = (f: SummaryFile): AuditSummary => ({
  pending: f.pending.map((p) => ({ ...p })),
  intents: f.intents,
  applied: new Set(f.applied),
});

/** The stored file when it has this format and shape; anything else (missing, corrupt, foreign, older) is no summary. */
async function loadSummaryFile(file: string): Promise<SummaryFile | undefined> {
  try {
    const v = JSON.parse((await readRegularFile(file)).toString("utf8")) as Partial<SummaryFile> | null;
    return isSummaryFile(v) ? v : undefined;
  } catch {
    // Safe: no summary (missing, unreadable, corrupt, a FIFO) means the log is read in full and the summary rebuilt.
    return undefined;
  }
}

const isString = (x: unknown): x is string => typeof x === "string";
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isHash = (x: unknown): boolean => isString(x) && /^[0-9a-f]{64}$/.test(x);

function isSummaryFile(v: unknown): v is SummaryFile {
  if (typeof v !== "object" || v === null) return false;
  const f = v as Partial<SummaryFile>;
  const log = f.log as Partial<LogPosition> | undefined;
  return (
    f.format === FORMAT &&
    typeof log === "object" &&
    log !== null &&
    isString(log.dev) &&
    isString(log.ino) &&
    isCount(log.offset) &&
    isHash(log.head) &&
    isHash(log.tail) &&
    isCount(f.intents) &&
    Array.isArray(f.applied) &&
    f.applied.every(isString) &&
    Array.isArray(f.pending) &&
    f.pending.every(
      (p) =>
        typeof p === "object" &&
        p !== null &&
        isString(p.id) &&
        isString(p.time) &&
        isString(p.project) &&
        Array.isArray(p.modules) &&
        p.modules.every(isString) &&
        typeof p.reconciled === "boolean" &&
        isCount(p.seq),
    )
  );
}

/** Writes the summary atomically (a temporary file renamed over it), mode 0600; never throws. */
async function saveSummaryFile(file: string, body: SummaryFile): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(path.dirname(file), { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
    });
    await writeFile(tmp, JSON.stringify(body), { mode: 0o600 });
    await rename(tmp, file);
  } catch {
    // Safe: a summary that cannot be written only means the next read parses more of the log.
    await rm(tmp, { force: true }).catch(() => undefined); // safe: best-effort removal of our own temporary file
  }
}

/**
 * What apply needs from the audit log, parsing only what was appended since the summary was last written, then
 * storing the summary again. The summary is a cache: missing, corrupt, of another format, or no longer describing the
 * log's start (the log truncated, replaced, rotated or edited where the fingerprint looks), the log is read in full
 * and the summary rebuilt. Lines that cannot be read are skipped as `readAudit` skips them.
 *
 * Safe with concurrent applies of other projects (each holds only its own lock): every stored summary describes a
 * prefix of the append-only log, so whichever rename wins leaves a valid one. A STATE_DIR or cache directory others can
 * write gets neither read nor written (every read is a full one). Not detected: an in-place rewrite of the middle of
 * the summarised part that keeps the file, its size and the bytes the fingerprint covers; whoever can do that can
 * write the summary too (delete it after editing the log by hand).
 */
export async function readAuditSummary(stateDir: string, opts: { deferSave?: boolean } = {}): Promise<AuditSummaryRead> {
  let fh: FileHandle;
  try {
    fh = await openRegularFile(path.join(stateDir, AUDIT_FILE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      return { summary: { pending: [], intents: 0, applied: new Set() }, parsedFrom: 0, saved: Promise.resolve() };
    throw auditReadFailed(stateDir, e as NodeJS.ErrnoException);
  }
  try {
    const file = path.join(stateDir, AUDIT_SUMMARY_FILE);
    // The checks at once (each is a file-system round trip). Safe: a STATE_DIR that cannot be stat'ed gets no summary;
    // the log itself was opened and is read in full.
    const [st, dir, dirOurs, fileOurs] = await Promise.all([
      fh.stat({ bigint: true }),
      stat(stateDir).catch(() => undefined),
      onlyOursToWrite([path.dirname(file)]),
      onlyOursToWrite([file]),
    ]);
    const id = { dev: String(st.dev), ino: String(st.ino) };
    const ours = dir !== undefined && onlyOurs(dir) && dirOurs;
    const stored = ours && fileOurs ? await loadSummaryFile(file) : undefined;
    const size = Number(st.size);
    const read = (stored && (await readOn(fh, stored, id, size))) ?? (await readAll(fh, id, size));
    // Deferred, the write overlaps the caller's next steps (apply: observing the engine); it awaits `saved` later.
    const saved = ours && read.store ? saveSummaryFile(file, read.store) : Promise.resolve();
    if (!opts.deferSave) await saved;
    return { summary: read.summary, parsedFrom: read.parsedFrom, saved };
  } catch (e) {
    throw auditReadFailed(stateDir, e as NodeJS.ErrnoException);
  } finally {
    await fh.close().catch(() => undefined); // safe: the log was only read; what was read is already in hand
  }
}
