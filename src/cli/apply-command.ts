// `platformctl apply`, `unlock` and `audit`: flags, signals, live progress, and the result as text or JSON.
import os from "node:os";
import { openRuntime } from "../runtime/open-runtime.js";
import { applyModules, type ApplyResult } from "../apply/apply-modules.js";
import { loadSavedPlan } from "../live-plan/load-saved-plan.js";
import { systemClock } from "../clock.js";
import { PolicyBlockedError } from "../gate/approve.js";
import { checkBackupRefSyntax, parseMaxAge } from "../gate/decide.js";
import { forceUnlock, describeHolder } from "../state/lock.js";
import { actorFrom, appendAudit, newAuditId, readAudit } from "../state/audit.js";
import type { ActionRecord } from "../state/audit.js";
import { ensureStateDir, resolveStateDir } from "../state/state-dir.js";
import { EXIT, exitForSignal, PlatformError, UsageError } from "../errors.js";
import { checkProject, loadCatalogOrFail, makeLogger, selectModules } from "./context.js";
import { styler, writeLine, type CliIO } from "./io.js";
import type { GlobalFlags } from "./main.js";

export interface DispatchFlags {
  module?: string[];
  allowStateful?: boolean;
  backupRef?: string[];
  confirm?: string[];
  bootstrap?: boolean;
  backupMaxAge?: string;
}

export interface ApplyFlags extends DispatchFlags {
  plan?: string;
  timeout?: string;
  json?: boolean;
  rerun?: boolean;
  lockWait?: string;
  prune?: boolean;
}

/** One value for a flag that must be given at most once (`--backup-ref a --backup-ref b` is refused, not "last wins"). */
export function single(flag: string, values: string[] | undefined): string | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw new UsageError("usage.repeated_flag", `${flag} was given ${values.length} times; give it once`, { hint: "Pass exactly one value." });
  return values[0];
}

/** `30s`, `5m`, `1h` or seconds -> milliseconds. */
export function parseDurationMs(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^([0-9]{1,6})(ms|s|m|h)?$/.exec(text);
  if (!m) throw new UsageError("usage.duration", `invalid ${flag} "${text.slice(0, 40)}"`, { hint: "Write a duration such as 30s, 5m or 1h." });
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"] ?? 1000);
}

/** The command line for the audit log and the lock file, with the confirmation value withheld. */
export function commandLine(argv: readonly string[]): string {
  const args = argv.slice(2).map((a, i, all) => (all[i - 1] === "--confirm" ? "***" : a.startsWith("--confirm=") ? "--confirm=***" : a));
  return ["platformctl", ...args].join(" ").slice(0, 500);
}

export function dispatchInputs(flags: DispatchFlags, rerun = false) {
  const backupRef = single("--backup-ref", flags.backupRef);
  checkBackupRefSyntax(backupRef);
  return { allowStateful: Boolean(flags.allowStateful), backupRef, confirm: single("--confirm", flags.confirm), bootstrap: Boolean(flags.bootstrap), rerun };
}

/** Installs SIGINT/SIGTERM/SIGHUP handlers that abort the apply; returns the controller and the signal number seen. */
function interruptible(): { controller: AbortController; signalNumber: () => number | undefined; dispose: () => void } {
  const controller = new AbortController();
  let seen: number | undefined;
  const numbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
  const handler = (sig: NodeJS.Signals) => {
    if (seen === undefined) {
      seen = numbers[sig];
      controller.abort(new PlatformError("interrupted", `interrupted by ${sig}`));
    }
  };
  for (const s of Object.keys(numbers)) process.on(s, handler);
  const dispose = () => {
    for (const s of Object.keys(numbers)) process.off(s, handler);
  };
  return { controller, signalNumber: () => seen, dispose };
}

function actionLine(module: string, r: ActionRecord): string {
  const mark = r.outcome === "done" ? "✓" : r.outcome === "interrupted" ? "⏹" : "✗";
  const code = r.exit_code !== null && (r.type === "run-once" || r.type === "wait") ? ` exit ${r.exit_code}${r.oom_killed ? " (OOM)" : ""}` : "";
  return `${mark} ${module}: ${r.type} ${r.container ?? r.service}${code} (${(r.duration_ms / 1000).toFixed(1)}s)`;
}

/** The `--json` shape for one module: {module, outcome, actions, audit_id}; several modules: {outcome, audit_id, results}. */
export function applyJson(result: ApplyResult): unknown {
  const one = (m: ApplyResult["modules"][number]) => ({
    module: m.module,
    outcome: m.outcome,
    actions: m.actions.map((a) => ({ type: a.type, service: a.service, outcome: a.outcome, exit_code: a.exit_code, duration_ms: a.duration_ms })),
    audit_id: result.audit_id,
    ...(m.message ? { message: m.message } : {}),
  });
  return result.modules.length === 1 ? one(result.modules[0] as ApplyResult["modules"][number]) : { outcome: result.outcome, audit_id: result.audit_id, results: result.modules.map(one) };
}

export async function runApply(io: CliIO, g: GlobalFlags, flags: ApplyFlags, argv: readonly string[]): Promise<number> {
  const project = checkProject(g.project);
  if (!flags.module || flags.module.length === 0) throw new UsageError("usage.module_required", "apply needs at least one --module", { hint: "e.g. platformctl apply --module minio-init" });
  const catalog = await loadCatalogOrFail(g.modulesDir, io.env);
  const modules = selectModules(catalog, flags.module);
  const inputs = dispatchInputs(flags, Boolean(flags.rerun));
  const maxAge = parseMaxAge(flags.backupMaxAge);
  const timeoutMs = flags.timeout === undefined ? undefined : parseDurationMs("--timeout", flags.timeout, 0);
  if (timeoutMs !== undefined && (timeoutMs < 1000 || timeoutMs > 86_400_000)) throw new UsageError("usage.timeout", "--timeout must be between 1s and 24h", { hint: "e.g. --timeout 300 or --timeout 5m" });
  const lockWaitMs = parseDurationMs("--lock-wait", flags.lockWait, 0);
  const savedPlan = flags.plan ? await loadSavedPlan(flags.plan) : undefined;
  const log = makeLogger(io, g.verbose);
  const s = styler(io);
  const tty = Boolean(io.stdout.isTTY) && !flags.json;
  let lastProgress = 0;
  const startedAt = Date.now();
  const { controller, signalNumber, dispose } = interruptible();
  try {
    const result = await applyModules({
      runtime: openRuntime(io.env),
      project,
      catalog,
      modules,
      env: io.env,
      stateDir: resolveStateDir(io.env, io.cwd),
      inputs,
      maxBackupAgeSeconds: maxAge,
      timeoutSeconds: timeoutMs === undefined ? undefined : Math.ceil(timeoutMs / 1000),
      lockWaitMs,
      savedPlan,
      cwd: io.cwd,
      clock: systemClock,
      prune: Boolean(flags.prune),
      command: commandLine(argv),
      signal: controller.signal,
      log,
      progress: (module, service, text) => {
        const now = Date.now();
        const line = `… ${module}/${service}: ${text} (${((now - startedAt) / 1000).toFixed(0)}s)`;
        if (tty) io.stdout.write(`\r\u001b[2K${line}`);
        else if (!flags.json && now - lastProgress >= 10_000) {
          lastProgress = now;
          writeLine(io.stderr, line);
        }
      },
      actionDone: (module, r) => {
        if (flags.json) return;
        if (tty) io.stdout.write("\r\u001b[2K");
        writeLine(io.stdout, actionLine(module, r));
      },
      interruptedBy: signalNumber,
    });
    if (flags.json) writeLine(io.stdout, JSON.stringify(applyJson(result), null, 2));
    else {
      if (tty) io.stdout.write("\r\u001b[2K");
      for (const m of result.modules) {
        if (m.outcome === "no-op") writeLine(io.stdout, `${s.green("✓")} ${m.module}: no changes`);
        if (m.outcome === "failed" || m.outcome === "interrupted") {
          writeLine(io.stdout, `${s.red("✗")} ${m.module}: ${m.message ?? m.outcome}`);
          if (m.detail) writeLine(io.stdout, m.detail);
        }
      }
      writeLine(io.stdout, `apply ${result.outcome} (audit ${result.audit_id})`);
    }
    return result.exitCode;
  } catch (e) {
    const n = signalNumber();
    if (n !== undefined) {
      // Interrupted outside a module's actions (lock wait, planning): still 128+n, never a plain failure.
      const text = e instanceof Error ? e.message : String(e);
      throw new PlatformError("interrupted", text.startsWith("interrupted") ? `apply ${text}` : `apply interrupted: ${text}`, {
        exitCode: exitForSignal(n),
        detail: e instanceof PlatformError ? e.detail : undefined,
        hint: "Run `platformctl plan` to see the state it left, then apply again.",
      });
    }
    if (e instanceof PolicyBlockedError && flags.json) {
      writeLine(io.stdout, JSON.stringify({ module: e.decision.module, outcome: "blocked", actions: [], reasons: e.decision.reasons.map((r) => ({ code: r.code, message: r.message })) }, null, 2));
      return EXIT.blocked;
    }
    throw e;
  } finally {
    dispose();
  }
}

export async function runUnlock(io: CliIO, g: GlobalFlags, flags: { force?: boolean; pid?: string }): Promise<number> {
  const project = checkProject(g.project);
  if (!flags.force) throw new UsageError("usage.unlock_force", "unlock removes another apply's lock and needs --force", { hint: "Check first that no apply runs (runbooks/held-lock.md), then: platformctl unlock --force" });
  const pid = flags.pid === undefined ? undefined : Number(flags.pid);
  if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) throw new UsageError("usage.unlock_pid", `--pid must be a process id (a whole number above 0), got ${JSON.stringify(flags.pid)}`, { hint: "Take it from the error that named the holder, or from the lock file: runbooks/held-lock.md" });
  const stateDir = await ensureStateDir(resolveStateDir(io.env, io.cwd));
  const r = await forceUnlock(stateDir, project, { pid });
  if (!r.removed) {
    writeLine(io.stdout, `no apply lock held for project ${project}`);
    return EXIT.ok;
  }
  await appendAudit(stateDir, { type: "unlock", id: newAuditId(), time: new Date().toISOString(), actor: actorFrom(io.env, os.userInfo().username, os.hostname()), holder: r.holder });
  const whose = r.holder === "corrupt" ? " (it was unreadable)" : ` held by ${describeHolder(r.holder)}`;
  const state = r.verdict?.kind === "alive" ? " (its holder was still running)" : r.verdict?.kind === "leased" ? ` (its pid could not be checked here: ${r.verdict.why})` : "";
  writeLine(io.stdout, `removed the apply lock of project ${project}${whose}${state}`);
  return EXIT.ok;
}

export async function runAudit(io: CliIO, _g: GlobalFlags, flags: { module?: string[]; json?: boolean; limit?: string }): Promise<number> {
  const stateDir = resolveStateDir(io.env, io.cwd);
  const { records, skipped } = await readAudit(stateDir);
  const limit = flags.limit === undefined ? 20 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError("usage.limit", "--limit must be a whole number from 1 to 100000", { hint: "e.g. --limit 50" });
  const wanted = flags.module?.length ? new Set(flags.module) : undefined;
  const intents = new Map(records.flatMap((r) => (r.type === "intent" ? [[r.id, r] as const] : [])));
  const matches = records.filter((r) => {
    if (!wanted) return true;
    if (r.type === "intent") return r.modules.some((m) => wanted.has(m));
    if (r.type === "result") return r.modules.some((m) => wanted.has(m.module)) || (intents.get(r.id)?.modules.some((m) => wanted.has(m)) ?? false);
    return false;
  });
  const shown = matches.slice(-limit);
  if (flags.json) {
    writeLine(io.stdout, JSON.stringify({ records: shown, skipped_lines: skipped }, null, 2));
    return EXIT.ok;
  }
  if (skipped.length) writeLine(io.stderr, `warning: skipped unreadable audit lines ${skipped.join(", ")} (torn writes)`);
  for (const r of shown) {
    if (r.type === "intent") writeLine(io.stdout, `${r.time} ${r.id} intent   ${r.modules.join(",")} by ${r.actor.user}@${r.actor.host} plan ${r.plan_fingerprint.slice(0, 19)}…`);
    else if (r.type === "result") writeLine(io.stdout, `${r.time} ${r.id} ${r.outcome.padEnd(8)} ${r.modules.map((m) => `${m.module}:${m.outcome}`).join(" ")}`);
    else if (r.type === "reconciled") writeLine(io.stdout, `${r.time} ${r.id} reconciled intent ${r.intent_id}: ${r.note}`);
    else writeLine(io.stdout, `${r.time} ${r.id} unlock by ${r.actor.user}@${r.actor.host}`);
  }
  if (shown.length === 0) writeLine(io.stdout, "no audit records");
  return EXIT.ok;
}
