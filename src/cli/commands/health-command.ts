// `platformctl health`: judge each module's health and check its mounts; exit 1 when any module is unhealthy.
import type { Command } from "commander";
import { EXIT } from "../../errors.js";
import { addHealthOptions, parseHealthArguments, type HealthArguments } from "../arguments/health-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerHealthCommand(program: Command, env: CommandEnv): void {
  addHealthOptions(
    program
      .command("health")
      .description("Judge each module's health (running, healthy, one-shots exited 0, restart loops) and check its mounts"),
  ).action(async (flags: { module?: string[]; wait?: boolean; strict?: boolean; json?: boolean }) => {
    env.setExit(await runHealth(env, parseHealthArguments(flags)));
  });
}

export async function runHealth(env: CommandEnv, args: HealthArguments): Promise<number> {
  const [{ checkModulesHealth }, { healthView }] = await Promise.all([
    import("../check-modules-health.js"),
    import("../views/health-view.js"),
  ]);
  const { result } = await checkModulesHealth(env.io, env.globals(), args.modules, { wait: args.wait, mounts: true, strict: args.strict });
  healthView(env.io, args.json, args.strict).report(result);
  return result.report.healthy ? EXIT.ok : EXIT.error;
}
