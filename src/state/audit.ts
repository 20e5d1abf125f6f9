// The append-only audit log (STATE_DIR/audit.jsonl): an intent record flushed before any mutation, a result after.
import { type FileHandle, open } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { PlatformError } from "../errors.js";
import { readRegularFile } from "./read-regular-file.js";

export const AUDIT_FILE = "audit.jsonl";

/** Who ran the apply: user and host, plus the CI run when the environment names one. Never an environment value beyond these names. */
export interface Actor {
  user: string;
  host: string;
  ci: Record<string, string>;
}

export interface ActionRecord {
  type: string;
  service: string;
  container: string | null;
  outcome: "done" | "failed" | "skipped" | "interrupted";
  exit_code: number | null;
  oom_killed?: boolean;
  duration_ms: number;
  message?: string;
}

export type AuditRecord =
  | {
      type: "intent";
      id: string;
      time: string;
      project: string;
      command: string;
      modules: string[];
      actor: Actor;
      plan_fingerprint: string;
      inputs: {
        allow_stateful: boolean;
        backup_ref: string | null;
        confirm_given: boolean;
        bootstrap: boolean;
        rerun: boolean;
        maintenance?: boolean;
      };
      decisions: { module: string; eligible: boolean; rule: string; reasons: string[] }[];
    }
  | {
      type: "result";
      id: string;
      time: string;
      /** `refused`: stopped before any engine change (a stale saved plan). */
      outcome: "applied" | "no-op" | "failed" | "rolled_back" | "blocked" | "interrupted" | "refused";
      modules: { module: string; outcome: string; actions: ActionRecord[] }[];
      message?: string;
    }
  | {
      /** Written before an automatic rollback (maintenance lane) changes anything; `intent_id` is the apply's intent. */
      type: "rollback-intent";
      id: string;
      time: string;
      intent_id: string;
      module: string;
      services: string[];
      /** Why: the failure of the new container (masked). */
      reason: string;
    }
  | {
      type: "rollback-result";
      /** The id of its rollback-intent record. */
      id: string;
      time: string;
      intent_id: string;
      module: string;
      outcome: "rolled_back" | "rollback_failed";
      actions: ActionRecord[];
      message: string;
    }
  | {
      /** Written before a `backup` stops a module's services (method stop): a backup with downtime is a mutation. */
      type: "backup-intent";
      id: string;
      time: string;
      project: string;
      module: string;
      method: "stop";
      /** The services it stops, in stop order. */
      services: string[];
      actor: Actor;
    }
  | {
      /** The end of a backup-intent (same id): the services were started again or not, the archive written or not. */
      type: "backup-result";
      id: string;
      time: string;
      module: string;
      outcome: "done" | "failed";
      downtime_ms: number;
      file: string | null;
      actions: ActionRecord[];
      message?: string;
    }
  | { type: "reconciled"; id: string; time: string; intent_id: string; note: string }
  | { type: "unlock"; id: string; time: string; actor: Actor; holder: unknown };

export const newAuditId = (at: Date = new Date()): string =>
  `${at.toISOString().replace(/[-:.]/g, "").slice(0, 15)}Z-${randomBytes(4).toString("hex")}`;

/** CI context from GITHUB_*, FORGEJO_*, GITEA_* and CI_* variables: run ids, actors and URLs only (no tokens). */
export function actorFrom(env: Readonly<Record<string, string | undefined>>, user: string, host: string): Actor {
  const ci: Record<string, string> = {};
  const wanted = [
    "GITHUB_ACTOR",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_REPOSITORY",
    "GITHUB_WORKFLOW",
    "GITHUB_SHA",
    "GITHUB_REF",
    "GITHUB_SERVER_URL",
    "GITHUB_EVENT_NAME",
    "FORGEJO_ACTOR",
    "FORGEJO_RUN_NUMBER",
    "FORGEJO_REPOSITORY",
    "GITEA_ACTOR",
    "CI_PIPELINE_ID",
    "CI_JOB_URL",
    "CI_COMMIT_SHA",
    "CI_PROJECT_PATH",
  ];
  for (const k of wanted) {
    const v = env[k];
    if (v && v.length <= 512) ci[k] = v;
  }
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID)
    ci.run_url = `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
  return { user, host, ci };
}

/**
 * Appends one record as one line and fsyncs it. If the file does not end with a newline (a torn last line from a
 * full disk), a newline is written first so the torn line is never merged into this record.
 */
export async function appendAudit(stateDir: string, record: AuditRecord): Promise<void> {
  const file = path.join(stateDir, AUDIT_FILE);
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, "a+", 0o600);
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: "EFTYPE" });
    const { size } = st;
    let prefix = "";
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = "\n";
    }
    await fh.write(`${prefix}${JSON.stringify(record)}\n`);
    await fh.sync();
  } catch (e) {
    throw new PlatformError("audit.write_failed", `cannot write the audit log ${file}`, {
      detail: `(${(e as NodeJS.ErrnoException).code ?? "error"}) nothing was changed on the engine.`,
      hint: "Free space or fix permissions on STATE_DIR, then run again: no audit record, no apply.",
      cause: e,
    });
  } finally {
    await fh?.close().catch(() => undefined); // safe: the record was written and synced, or the write error is already thrown
  }
}

export interface AuditReadResult {
  records: AuditRecord[];
  /** Lines that could not be read (a torn write): reported, never merged. */
  skipped: number[];
}

/** The error for an audit log that exists but cannot be read (a FIFO where it belongs, no permission …). */
export function auditReadFailed(stateDir: string, e: NodeJS.ErrnoException): PlatformError {
  return new PlatformError("audit.read_failed", `cannot read the audit log in ${stateDir}`, {
    detail: e.code === "EFTYPE" ? `${path.join(stateDir, AUDIT_FILE)} is not a regular file.` : undefined,
    hint:
      e.code === "EFTYPE" ? "Nothing was changed. STATE_DIR must hold only platformctl's own files: move what is there aside." : undefined,
    cause: e,
  });
}

/** Reads every complete record; torn or foreign lines are skipped and their line numbers reported. */
export async function readAudit(stateDir: string): Promise<AuditReadResult> {
  const text = await readRegularFile(path.join(stateDir, AUDIT_FILE)).then(
    (b) => b.toString("utf8"),
    (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return "";
      throw auditReadFailed(stateDir, e);
    },
  );
  const records: AuditRecord[] = [];
  const skipped: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const record = parseAuditLine(line);
    if (record) records.push(record);
    else skipped.push(i + 1);
  });
  return { records, skipped };
}

/**
 * One line of the log as a record, or undefined for a torn or foreign line. Besides `type` and `id`, the fields the
 * readers of the log rely on must have their types (an intent's project and modules, a result's outcome and modules, a
 * reconciliation's intent), so a hand-written line cannot make a reader fail.
 */
export function parseAuditLine(line: string): AuditRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined; // a torn write: the caller reports or skips the line
  }
  if (typeof v !== "object" || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.type !== "string" || typeof r.id !== "string") return undefined;
  const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === "string");
  if (r.type === "intent" && (typeof r.project !== "string" || !strings(r.modules))) return undefined;
  if (r.type === "result" && (typeof r.outcome !== "string" || !Array.isArray(r.modules))) return undefined;
  if (r.type === "reconciled" && typeof r.intent_id !== "string") return undefined;
  return v as AuditRecord;
}

/**
 * Intent records with neither a result nor a reconciliation: applies that crashed or were killed mid-way. The
 * definition over the whole log; apply reads the same answer from the audit summary (audit-summary.ts).
 */
export function unfinishedIntents(records: readonly AuditRecord[]): Extract<AuditRecord, { type: "intent" }>[] {
  const closed = new Set(records.flatMap((r) => (r.type === "result" ? [r.id] : r.type === "reconciled" ? [r.intent_id] : [])));
  return records.filter((r): r is Extract<AuditRecord, { type: "intent" }> => r.type === "intent" && !closed.has(r.id));
}

/**
 * True when the audit log records an earlier apply of `module` in `project` that may have changed something: an intent
 * whose result was not `blocked`, `no-op` or `refused` (an unfinished intent counts: it may have acted before it crashed).
 * The definition over the whole log; the gate reads the same answer from the audit summary (audit-summary.ts).
 */
export function auditRecordsApply(records: readonly AuditRecord[], project: string, module: string): boolean {
  const results = new Map(records.flatMap((r) => (r.type === "result" ? [[r.id, r.outcome] as const] : [])));
  return records.some((r) => {
    if (r.type !== "intent" || r.project !== project || !r.modules.includes(module)) return false;
    const outcome = results.get(r.id);
    return outcome !== "blocked" && outcome !== "no-op" && outcome !== "refused";
  });
}
