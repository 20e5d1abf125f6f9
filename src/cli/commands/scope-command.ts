// `platformctl scope`: the policy decision for modules, without acting (the CI pre-check before apply).
import type { Command } from "commander";
import { EXIT, UsageError } from "../../errors.js";
import type { ModulePlan } from "../../plan/plan.js";
import type { Decision } from "../../policy/policy.js";
import { addScopeOptions, parseScopeArguments, type ScopeArguments, type ScopeFlags } from "../arguments/scope-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerScopeCommand(program: Command, env: CommandEnv): void {
  addScopeOptions(
    program.command("scope").description("Print the policy decision for a module without acting (the CI pre-check before apply)"),
  ).action(async (flags: ScopeFlags) => {
    env.setExit(await runScope(env, parseScopeArguments(flags)));
  });
}

export async function runScope(env: CommandEnv, args: ScopeArguments): Promise<number> {
  const [{ decide }, { readAuditSummary }, { resolveStateDir }, context, { makePlan }, { loadSavedPlan }, { scopeView }, { systemClock }] =
    await Promise.all([
      import("../../gate/decide.js"),
      import("../../state/audit-summary.js"),
      import("../../state/state-dir.js"),
      import("../context.js"),
      import("../live-plan.js"),
      import("../../live-plan/load-saved-plan.js"),
      import("../views/scope-view.js"),
      import("../../clock.js"),
    ]);
  const { io } = env;
  const g = env.globals();
  const project = context.checkProject(g.project);
  const catalog = await context.loadCatalogOrFail(g.modulesDir, io.env);
  const names = context.selectModules(catalog, args.modules);
  const { plan, observed, dependencies } = await makePlan(io, g, names, { rerun: args.gate.inputs.rerun });
  let planned: ModulePlan[] = plan.modules;
  let savedPlan: { generatedAt: string } | undefined;
  if (args.planFile !== undefined) {
    const saved = await loadSavedPlan(args.planFile);
    savedPlan = { generatedAt: saved.generated_at };
    if (saved.project !== project)
      throw new UsageError("plan.project_mismatch", `${args.planFile} was made for project ${saved.project}, not ${project}`, {
        hint: "Pass the same --project as the plan.",
      });
    planned = saved.modules;
  }
  const stateDir = resolveStateDir(io.env, io.cwd);
  const ctx = {
    env: io.env,
    stateDir,
    project,
    inputs: args.gate.inputs,
    maxBackupAgeSeconds: args.gate.maxBackupAgeSeconds,
    audit: (await readAuditSummary(stateDir)).summary,
    now: systemClock.now(),
    catalog,
    savedPlan,
  };
  const decisions: Decision[] = [];
  for (const name of names) {
    const mp = planned.find((p) => p.name === name);
    if (!mp)
      throw new UsageError("usage.module_not_in_plan", `module ${name} is not in the plan file`, {
        hint: "Make the plan with the same --module flags.",
      });
    decisions.push(await decide(ctx, catalog.find((m) => m.name === name)!, mp, observed, dependencies.get(name) ?? []));
  }
  scopeView(io, args.json).decisions(decisions);
  return decisions.some((d) => !d.eligible) && args.failOnBlocked ? EXIT.blocked : EXIT.ok;
}
