// `platformctl plan`: observe the engine (read-only), compute drift, show it, optionally save it for apply.
import type { Command } from "commander";
import { EXIT } from "../../errors.js";
import { addPlanOptions, parsePlanArguments, type PlanArguments, type PlanFlags } from "../arguments/plan-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerPlanCommand(program: Command, env: CommandEnv): void {
  addPlanOptions(program.command("plan").description("Observe the engine (read-only) and show the drift of each module as data")).action(
    async (flags: PlanFlags) => {
      env.setExit(await runPlan(env, parsePlanArguments(flags)));
    },
  );
}

export async function runPlan(env: CommandEnv, args: PlanArguments): Promise<number> {
  const [{ makePlan }, { checkPlanTarget, savePlan }, { planView }] = await Promise.all([
    import("../live-plan.js"),
    import("../save-plan.js"),
    import("../views/plan-view.js"),
  ]);
  if (args.out) await checkPlanTarget(args.out); // before observing: a refused target changes nothing
  const { plan } = await makePlan(env.io, env.globals(), args.modules, { prune: args.prune });
  if (args.out) await savePlan(args.out, plan, env.io);
  // With `--out -` the saved plan is the whole of stdout (a second rendering would make it unreadable for apply --plan).
  if (args.out !== "-") planView(env.io, args.view).plan(plan);
  return args.detailedExitcode && plan.summary.drifted > 0 ? EXIT.drift : EXIT.ok;
}
