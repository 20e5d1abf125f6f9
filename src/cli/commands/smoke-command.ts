// `platformctl smoke <module>`: check the module's health, then run its smoke probes in order; exit 1 when either fails.
import type { Command } from "commander";
import { EXIT, InternalError } from "../../errors.js";
import { addSmokeOptions, parseSmokeArguments, type SmokeArguments } from "../arguments/smoke-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerSmokeCommand(program: Command, env: CommandEnv): void {
  addSmokeOptions(
    program.command("smoke").description("Check a module's health, then run its smoke probes in order (exec, http, tcp, command)"),
  ).action(async (module: string, flags: { wait?: boolean; json?: boolean }) => {
    env.setExit(await runSmoke(env, parseSmokeArguments(module, flags, env.io.env)));
  });
}

export async function runSmoke(env: CommandEnv, args: SmokeArguments): Promise<number> {
  const [{ checkModulesHealth }, { runProbes }, { smokeView }] = await Promise.all([
    import("../check-modules-health.js"),
    import("../../health/run-probes.js"),
    import("../views/smoke-view.js"),
  ]);
  const { io } = env;
  const {
    result: r,
    catalog,
    project,
    runtime,
  } = await checkModulesHealth(io, env.globals(), [args.module], { wait: args.wait, mounts: false });
  const verdict = r.report.modules[0];
  const module = catalog.find((x) => x.name === args.module);
  if (!verdict || !module) throw new InternalError(`module ${args.module} was selected but not judged`);
  const probes = await runProbes({
    runtime,
    project,
    module,
    containers: r.observed.containers,
    env: io.env,
    cwd: io.cwd,
    secrets: r.secrets,
    remoteMode: args.remoteMode,
  });
  // A probe that could not run here (skipCause unavailable) did not pass; only a skip on purpose may.
  const passed = verdict.healthy && probes.every((p) => p.status === "passed" || p.skipCause === "chosen");
  smokeView(io, args.json).result(verdict, probes, passed);
  return passed ? EXIT.ok : EXIT.error;
}
