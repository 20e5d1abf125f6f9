// Test data builder for audit logs: the records real applies, crashes, rollbacks, backups and unlocks write, seeded.
import type { ActionRecord, Actor, AuditRecord } from "../../src/state/audit.js";

type Intent = Extract<AuditRecord, { type: "intent" }>;
type Outcome = Extract<AuditRecord, { type: "result" }>["outcome"];

/** What the generated history looks like; every field has a default. */
export interface AuditLogShape {
  seed?: number;
  /** Apply runs to generate (each writes an intent and usually a result, sometimes more). */
  applies?: number;
  projects?: readonly string[];
  modules?: readonly string[];
  /** The time of the first record; each run is a few minutes after the one before. */
  start?: Date;
}

/** A small deterministic random source (mulberry32), so a failing comparison can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A history of `applies` runs as platformctl writes it: results of every outcome (blocked, no-op and refused
 * included), crashed intents left open and later reconciled (sometimes by an apply of another project), a result
 * arriving after its intent was reconciled (a run whose lock lease ran out), maintenance rollbacks, backups with
 * downtime, unlocks, CI actors, and a last run that crashed. Ids are unique, as newAuditId's are.
 */
export function anAuditLog(shape: AuditLogShape = {}): AuditRecord[] {
  const rnd = random(shape.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const projects = shape.projects ?? ["shop", "billing", "analytics"];
  const modules = shape.modules ?? ["postgres", "minio", "minio-init", "api", "worker", "web", "redis", "migrate", "cron", "metrics"];
  let clock = (shape.start ?? new Date("2026-01-01T00:00:00Z")).getTime();
  const ids = new Set<string>();
  const tick = (ms: number): string => {
    clock += ms;
    return new Date(clock).toISOString();
  };
  const id = (): string => {
    for (;;) {
      const hex = Math.floor(rnd() * 2 ** 32)
        .toString(16)
        .padStart(8, "0");
      const made = `${new Date(clock).toISOString().replace(/[-:.]/g, "").slice(0, 15)}Z-${hex}`;
      if (!ids.has(made)) {
        ids.add(made);
        return made;
      }
    }
  };
  const actor = (): Actor =>
    rnd() < 0.8
      ? {
          user: "runner",
          host: `ci-${Math.floor(rnd() * 4)}`,
          ci: {
            GITHUB_ACTOR: pick(["alice", "bob", "deploy-bot"]),
            GITHUB_RUN_ID: String(Math.floor(rnd() * 1e10)),
            GITHUB_RUN_ATTEMPT: "1",
            GITHUB_REPOSITORY: "acme/platform",
            GITHUB_WORKFLOW: "deploy",
            GITHUB_SHA: Math.floor(rnd() * 2 ** 52)
              .toString(16)
              .padStart(40, "0"),
            GITHUB_REF: "refs/heads/main",
            GITHUB_SERVER_URL: "https://github.com",
            GITHUB_EVENT_NAME: "push",
            run_url: "https://github.com/acme/platform/actions/runs/1",
          },
        }
      : { user: pick(["alice", "bob"]), host: "ops-1", ci: {} };
  const action = (project: string, module: string, outcome: ActionRecord["outcome"]): ActionRecord => ({
    type: pick(["create", "recreate", "start", "run-once", "remove"]),
    service: module,
    container: `${project}_${module}_${module}`,
    outcome,
    exit_code: outcome === "done" ? 0 : 1,
    duration_ms: Math.floor(rnd() * 3000),
    ...(rnd() < 0.5 ? { oom_killed: false } : {}),
  });
  const out: AuditRecord[] = [];
  const open: Intent[] = [];
  const late: Intent[] = [];
  for (let n = 0; n < (shape.applies ?? 200); n++) {
    const project = pick(projects);
    const count = 1 + Math.floor(rnd() * 4);
    const chosen = [...new Set(Array.from({ length: count }, () => pick(modules)))];
    tick(60_000 + Math.floor(rnd() * 600_000));
    // An apply first reconciles what a crashed one left open (unfinishedIntents is not per project).
    for (const o of open.splice(0))
      out.push({ type: "reconciled", id: id(), time: tick(5), intent_id: o.id, note: `found unfinished by ${project}` });
    for (const l of late.splice(0))
      out.push({
        type: "result",
        id: l.id,
        time: tick(10),
        outcome: "applied",
        modules: l.modules.map((m) => ({ module: m, outcome: "applied", actions: [] })),
      });
    const a = actor();
    const intent: Intent = {
      type: "intent",
      id: id(),
      time: tick(300),
      project,
      command: `platformctl apply --project ${project} ${chosen.map((m) => `--module ${m}`).join(" ")}`,
      modules: chosen,
      actor: a,
      plan_fingerprint: `sha256:${Math.floor(rnd() * 2 ** 52)
        .toString(16)
        .padStart(64, "0")}`,
      inputs: {
        allow_stateful: rnd() < 0.2,
        backup_ref: rnd() < 0.2 ? `/backups/${project}-${n}.tar.gz` : null,
        confirm_given: rnd() < 0.1,
        bootstrap: rnd() < 0.05,
        rerun: rnd() < 0.3,
        maintenance: rnd() < 0.05,
      },
      decisions: chosen.map((m) => ({ module: m, eligible: rnd() < 0.9, rule: pick(["stateless", "stateful", "bootstrap"]), reasons: [] })),
    };
    out.push(intent);
    const roll = rnd();
    if (roll < 0.04) {
      open.push(intent); // crashed: no result; the next run reconciles it
      continue;
    }
    if (roll < 0.06) {
      late.push(intent); // reconciled by the next run, then its own result arrives (its lock lease ran out)
      open.push(intent);
      continue;
    }
    const outcome: Outcome = pick([
      "applied",
      "applied",
      "applied",
      "no-op",
      "no-op",
      "failed",
      "blocked",
      "refused",
      "interrupted",
      "rolled_back",
    ]);
    if (outcome === "rolled_back") {
      const rid = id();
      const m = chosen[0] as string;
      out.push({ type: "rollback-intent", id: rid, time: tick(200), intent_id: intent.id, module: m, services: [m], reason: "exited 1" });
      out.push({
        type: "rollback-result",
        id: rid,
        time: tick(900),
        intent_id: intent.id,
        module: m,
        outcome: "rolled_back",
        actions: [action(project, m, "done")],
        message: "the previous container runs again",
      });
    }
    const moduleOutcome = outcome === "refused" ? undefined : outcome;
    out.push({
      type: "result",
      id: intent.id,
      time: tick(500 + Math.floor(rnd() * 5000)),
      outcome,
      modules:
        moduleOutcome === undefined
          ? []
          : chosen.map((m) => ({
              module: m,
              outcome: moduleOutcome,
              actions: moduleOutcome === "applied" ? [action(project, m, "done"), action(project, m, "done")] : [],
            })),
      ...(outcome === "failed" ? { message: "action failed: run-once exited 1" } : {}),
    });
    if (rnd() < 0.05) {
      const bid = id();
      const m = pick(modules);
      out.push({ type: "backup-intent", id: bid, time: tick(1000), project, module: m, method: "stop", services: [m], actor: a });
      out.push({
        type: "backup-result",
        id: bid,
        time: tick(4000),
        module: m,
        outcome: "done",
        downtime_ms: 3900,
        file: `/backups/${m}.tar.gz`,
        actions: [action(project, m, "done")],
      });
    }
    if (rnd() < 0.01)
      out.push({ type: "unlock", id: id(), time: tick(100), actor: a, holder: { user: "runner", command: "platformctl apply" } });
  }
  // The last run crashed: its intent is still unfinished.
  const project = pick(projects);
  out.push({ ...(out.findLast((r) => r.type === "intent") as Intent), id: id(), time: tick(60_000), project, modules: [pick(modules)] });
  return out;
}

/** Records as audit.jsonl lines (each ending with a newline). */
export const auditLines = (records: readonly AuditRecord[]): string => records.map((r) => `${JSON.stringify(r)}\n`).join("");
