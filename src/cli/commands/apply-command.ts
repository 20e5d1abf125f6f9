// `platformctl apply`: converge modules through the locked, gated, audited executor; signals end it with 128+n.
import type { Command } from "commander";
import { EXIT, exitForSignal, InterruptedError, PlatformError } from "../../errors.js";
import { addApplyOptions, parseApplyArguments, type ApplyArguments, type ApplyFlags } from "../arguments/apply-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerApplyCommand(program: Command, env: CommandEnv): void {
  addApplyOptions(
    program.command("apply").description("Converge modules: execute their plan (policy-gated, locked, audited); one-shots must exit 0"),
  ).action(async (flags: ApplyFlags) => {
    env.setExit(await runApply(env, parseApplyArguments(flags)));
  });
}

export async function runApply(env: CommandEnv, args: ApplyArguments): Promise<number> {
  const [
    { openRuntime },
    { applyModules },
    { PolicyBlockedError },
    { resolveStateDir },
    context,
    { makeLogger },
    { systemClock },
    { interruptible },
    { commandLine },
    { applyView },
  ] = await Promise.all([
    import("../../runtime/open-runtime.js"),
    import("../../apply/apply-modules.js"),
    import("../../gate/approve.js"),
    import("../../state/state-dir.js"),
    import("../context.js"),
    import("../make-logger.js"),
    import("../../clock.js"),
    import("../interruptible.js"),
    import("../command-line.js"),
    import("../views/apply-view.js"),
  ]);
  const { io } = env;
  const g = env.globals();
  const project = context.checkProject(g.project);
  const catalog = await context.loadCatalogOrFail(g.modulesDir, io.env);
  const modules = context.selectModules(catalog, args.modules);
  // Only `--plan` reads a saved plan (its loader brings the plan schema).
  const savedPlan =
    args.planFile === undefined ? undefined : await (await import("../../live-plan/load-saved-plan.js")).loadSavedPlan(args.planFile);
  const view = applyView(io, args.json);
  const { controller, signalNumber, dispose } = interruptible();
  try {
    const runtime = await openRuntime(io.env);
    view.warnings(runtime.admit(modules.length ? catalog.filter((m) => modules.includes(m.name)) : catalog));
    const result = await applyModules({
      runtime,
      project,
      catalog,
      modules,
      env: io.env,
      stateDir: resolveStateDir(io.env, io.cwd),
      inputs: args.gate.inputs,
      maxBackupAgeSeconds: args.gate.maxBackupAgeSeconds,
      timeoutSeconds: args.timeoutMs === undefined ? undefined : Math.ceil(args.timeoutMs / 1000),
      lockWaitMs: args.lockWaitMs,
      savedPlan,
      cwd: io.cwd,
      clock: systemClock,
      prune: args.prune,
      command: commandLine(env.argv),
      signal: controller.signal,
      log: makeLogger(io, g.verbose),
      progress: view.progress,
      actionDone: view.actionDone,
    });
    view.result(result);
    if (result.outcome === "interrupted") return exitForSignal(signalNumber() ?? 2);
    return result.outcome === "failed" || result.outcome === "rolled_back" ? EXIT.error : EXIT.ok;
  } catch (e) {
    const n = signalNumber();
    if (n !== undefined) {
      // Interrupted outside a module's actions (lock wait, planning): still 128+n, never a plain failure.
      const text = e instanceof Error ? e.message : String(e);
      throw new InterruptedError(n, text.startsWith("interrupted") ? `apply ${text}` : `apply interrupted: ${text}`, {
        detail: e instanceof PlatformError ? e.detail : undefined,
        hint: "Run `platformctl plan` to see the state it left, then apply again.",
      });
    }
    if (e instanceof PolicyBlockedError && args.json) {
      view.blocked(e.decision);
      return EXIT.blocked;
    }
    throw e;
  } finally {
    dispose();
  }
}
