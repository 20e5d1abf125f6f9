// `platformctl scope` (the policy decision, without acting) and `platformctl backup` (a verified backup ref to pass on).
import { openRuntime } from "../runtime/open-runtime.js";
import path from "node:path";
import { decide, parseMaxAge, type PolicyContext } from "../gate/decide.js";
import { readAudit } from "../state/audit.js";
import { createBackup } from "../backup/create-backup.js";
import type { ModulePlan } from "../plan/plan.js";
import { loadSavedPlan } from "../live-plan/load-saved-plan.js";
import type { Decision } from "../policy/policy.js";
import { resolveStateDir } from "../state/state-dir.js";
import { EXIT, UsageError } from "../errors.js";
import { checkProject, loadCatalogOrFail, selectModules } from "./context.js";
import { dispatchInputs, type DispatchFlags } from "./apply-command.js";
import { makePlan } from "./plan-command.js";
import { styler, writeLine, type CliIO } from "./io.js";
import type { GlobalFlags } from "./main.js";

export interface ScopeFlags extends DispatchFlags {
  plan?: string;
  failOnBlocked?: boolean;
  json?: boolean;
  rerun?: boolean;
}

/** The `--json` shape of one decision. */
export function scopeJson(d: Decision) {
  return {
    module: d.module,
    stateful: d.stateful,
    eligible: d.eligible,
    rule: d.rule,
    reasons: d.reasons.map((r) => ({ code: r.code, message: r.message })),
    drift_kinds: d.drift_kinds,
    allowed_drift: d.allowed_drift,
  };
}

export async function runScope(io: CliIO, g: GlobalFlags, flags: ScopeFlags): Promise<number> {
  const project = checkProject(g.project);
  if (!flags.module || flags.module.length === 0) throw new UsageError("usage.module_required", "scope needs --module", { hint: "e.g. platformctl scope --module minio-init" });
  const inputs = dispatchInputs(flags, Boolean(flags.rerun));
  const maxAge = parseMaxAge(flags.backupMaxAge);
  const catalog = await loadCatalogOrFail(g.modulesDir, io.env);
  const names = selectModules(catalog, flags.module);
  const { plan, observed } = await makePlan(io, g, names, { rerun: Boolean(flags.rerun) });
  let planned: ModulePlan[] = plan.modules;
  if (flags.plan) {
    const saved = await loadSavedPlan(flags.plan);
    if (saved.project !== project) throw new UsageError("plan.project_mismatch", `${flags.plan} was made for project ${saved.project}, not ${project}`, { hint: "Pass the same --project as the plan." });
    planned = saved.modules;
  }
  const stateDir = resolveStateDir(io.env, io.cwd);
  const ctx: PolicyContext = { env: io.env, stateDir, project, inputs, maxBackupAgeSeconds: maxAge, audit: (await readAudit(stateDir)).records, now: new Date(), catalog };
  const decisions: Decision[] = [];
  for (const name of names) {
    const mp = planned.find((p) => p.name === name);
    if (!mp) throw new UsageError("usage.module_not_in_plan", `module ${name} is not in the plan file`, { hint: "Make the plan with the same --module flags." });
    decisions.push(await decide(ctx, catalog.find((m) => m.name === name)!, mp, observed));
  }
  if (flags.json) writeLine(io.stdout, JSON.stringify(decisions.length === 1 ? scopeJson(decisions[0] as Decision) : decisions.map(scopeJson), null, 2));
  else {
    const s = styler(io);
    for (const d of decisions) {
      const head = d.eligible ? s.green("eligible") : s.red("blocked");
      writeLine(io.stdout, `${d.module}${d.stateful ? " (stateful)" : ""}: ${head} — rule ${d.rule}; drift: ${d.drift_kinds.length ? d.drift_kinds.join(", ") : "none"}`);
      for (const r of d.reasons) writeLine(io.stdout, `  - ${r.code}: ${r.message}`);
    }
  }
  const blocked = decisions.some((d) => !d.eligible);
  return blocked && flags.failOnBlocked ? EXIT.blocked : EXIT.ok;
}

export async function runBackup(io: CliIO, g: GlobalFlags, moduleName: string, flags: { json?: boolean }): Promise<number> {
  const project = checkProject(g.project);
  const catalog = await loadCatalogOrFail(g.modulesDir, io.env);
  const [name] = selectModules(catalog, [moduleName]);
  const module = catalog.find((m) => m.name === name)!;
  const result = await createBackup({ runtime: openRuntime(io.env), project, module, env: io.env, stateDir: resolveStateDir(io.env, io.cwd), now: new Date() });
  if (flags.json) writeLine(io.stdout, JSON.stringify(result, null, 2));
  else {
    writeLine(io.stderr, `backed up ${[...result.volumes, ...result.binds].join(", ")}: ${result.size} bytes, sha256 ${result.sha256}`);
    writeLine(io.stdout, result.file);
  }
  return EXIT.ok;
}

export async function runBackupImport(io: CliIO, g: GlobalFlags, file: string, flags: { json?: boolean }): Promise<number> {
  const catalog = await loadCatalogOrFail(g.modulesDir, io.env);
  const { importBackup } = await import("../backup/import-backup.js");
  const r = await importBackup({ file: path.resolve(io.cwd, file), catalog, env: io.env, stateDir: resolveStateDir(io.env, io.cwd), now: new Date() });
  if (flags.json) writeLine(io.stdout, JSON.stringify(r, null, 2));
  else {
    writeLine(io.stderr, `${r.recorded ? "verified and recorded" : "already recorded"}: a backup of ${r.module} holding ${r.volumes.join(", ") || "no named volume"}, ${r.size} bytes, sha256 ${r.sha256}`);
    writeLine(io.stdout, r.file);
  }
  return EXIT.ok;
}
