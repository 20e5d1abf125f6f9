// The apply command's run: everything it needs imported statically, so one dynamic import loads apply's code in a few chunks.
import { EXIT, exitForSignal, InterruptedError, PlatformError } from "../errors.js";
import { openRuntime } from "../runtime/open-runtime.js";
import { applyModules } from "../apply/apply-modules.js";
import { PolicyBlockedError } from "../gate/approve.js";
import { resolveStateDir } from "../state/state-dir.js";
import { checkProject, loadCatalogOrFail, selectModules } from "./context.js";
import { deferredLogger } from "./deferred-logger.js";
import { systemClock } from "../clock.js";
import { interruptible } from "./interruptible.js";
import { commandLine } from "./command-line.js";
import { applyView } from "./views/apply-view.js";
import type { ApplyArguments } from "./arguments/apply-arguments.js";
import type { CommandEnv } from "./commands/command-env.js";

export async function runApply(env: CommandEnv, args: ApplyArguments): Promise<number> {
  const { io } = env;
  const g = env.globals();
  const project = checkProject(g.project);
  const catalog = await loadCatalogOrFail(g.modulesDir, io.env);
  const modules = selectModules(catalog, args.modules);
  // Only `--plan` reads a saved plan (its loader brings the plan schema).
  const savedPlan =
    args.planFile === undefined ? undefined : await (await import("../live-plan/load-saved-plan.js")).loadSavedPlan(args.planFile);
  const view = applyView(io, args.json);
  const logger = await deferredLogger(io, g.verbose);
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
      log: logger.log,
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
    await logger.settled();
  }
}
