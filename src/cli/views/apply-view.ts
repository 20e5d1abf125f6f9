// apply as it runs and when it ends: human (live progress, one line per action, a summary) or JSON (one document at the end).
import type { ApplyResult } from "../../apply/apply-modules.js";
import type { Decision } from "../../policy/policy.js";
import type { ActionRecord } from "../../state/audit.js";
import { formatProblem, type Problem } from "../../manifest/problems.js";
import { styler, writeLine, type CliIO } from "../io.js";

export interface ApplyView {
  /** A wait in progress; the human view redraws one line on a TTY and writes to stderr at most every 10 s otherwise. */
  progress(module: string, service: string, text: string): void;
  actionDone(module: string, record: ActionRecord): void;
  result(result: ApplyResult): void;
  /** Only the JSON view is told: the human view lets the error handler print the blocked error. */
  blocked(decision: Decision): void;
  /** Fields of the applied modules the runtime does not use (`runtime.ignored_field`), told once before anything runs. */
  warnings(problems: readonly Problem[]): void;
}

export function applyView(io: CliIO, json: boolean): ApplyView {
  return json ? jsonView(io) : humanView(io);
}

/** The `--json` shape for one module: {module, outcome, actions, audit_id}; several modules: {outcome, audit_id, results}. */
export function applyJson(result: ApplyResult, warnings: readonly Problem[] = []): unknown {
  const told = warnings.length ? { warnings: warnings.map(({ file, path, code, message }) => ({ file, path, code, message })) } : {};
  const one = (m: ApplyResult["modules"][number]) => ({
    module: m.module,
    outcome: m.outcome,
    actions: m.actions.map((a) => ({
      type: a.type,
      service: a.service,
      outcome: a.outcome,
      exit_code: a.exit_code,
      duration_ms: a.duration_ms,
    })),
    audit_id: result.audit_id,
    ...(m.message ? { message: m.message } : {}),
    ...told,
  });
  return result.modules.length === 1
    ? one(result.modules[0] as ApplyResult["modules"][number])
    : { outcome: result.outcome, audit_id: result.audit_id, results: result.modules.map(one), ...told };
}

function jsonView(io: CliIO): ApplyView {
  let told: readonly Problem[] = [];
  return {
    progress: () => {},
    actionDone: () => {},
    warnings: (problems) => {
      told = problems;
    },
    result: (r) => writeLine(io.stdout, JSON.stringify(applyJson(r, told), null, 2)),
    blocked: (d) =>
      writeLine(
        io.stdout,
        JSON.stringify(
          { module: d.module, outcome: "blocked", actions: [], reasons: d.reasons.map((r) => ({ code: r.code, message: r.message })) },
          null,
          2,
        ),
      ),
  };
}

function actionLine(module: string, r: ActionRecord): string {
  const mark = r.outcome === "done" ? "✓" : r.outcome === "interrupted" ? "⏹" : "✗";
  const code =
    r.exit_code !== null && (r.type === "run-once" || r.type === "wait") ? ` exit ${r.exit_code}${r.oom_killed ? " (OOM)" : ""}` : "";
  return `${mark} ${module}: ${r.type} ${r.container ?? r.service}${code} (${(r.duration_ms / 1000).toFixed(1)}s)`;
}

function humanView(io: CliIO): ApplyView {
  const s = styler(io);
  const tty = Boolean(io.stdout.isTTY);
  const startedAt = Date.now();
  let lastProgress = 0;
  return {
    progress(module, service, text) {
      const now = Date.now();
      const line = `… ${module}/${service}: ${text} (${((now - startedAt) / 1000).toFixed(0)}s)`;
      if (tty) io.stdout.write(`\r\u001b[2K${line}`);
      else if (now - lastProgress >= 10_000) {
        lastProgress = now;
        writeLine(io.stderr, line);
      }
    },
    actionDone(module, r) {
      if (tty) io.stdout.write("\r\u001b[2K");
      writeLine(io.stdout, actionLine(module, r));
    },
    result(result) {
      if (tty) io.stdout.write("\r\u001b[2K");
      for (const m of result.modules) {
        if (m.outcome === "no-op") writeLine(io.stdout, `${s.green("✓")} ${m.module}: no changes`);
        if (m.outcome === "failed" || m.outcome === "interrupted" || m.outcome === "rolled_back") {
          writeLine(io.stdout, `${s.red("✗")} ${m.module}: ${m.message ?? m.outcome}`);
          if (m.detail) writeLine(io.stdout, m.detail);
        }
      }
      writeLine(io.stdout, `apply ${result.outcome} (audit ${result.audit_id})`);
    },
    blocked: () => {},
    warnings(problems) {
      for (const p of problems) writeLine(io.stdout, `${s.yellow("warning:")} ${formatProblem(p)}`);
    },
  };
}
