// `platformctl restore <module> --from <ref> [--verify]`: restore a module's data from a backup (gated, locked, audited),
// or prove a backup restores by restoring it into a throwaway project; signals end it with 128+n.
import type { Command } from "commander";
import path from "node:path";
import { EXIT, exitForSignal, InterruptedError, PlatformError } from "../../errors.js";
import { addRestoreOptions, parseRestoreArguments, type RestoreArguments, type RestoreFlags } from "../arguments/restore-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerRestoreCommand(program: Command, env: CommandEnv): void {
  addRestoreOptions(
    program
      .command("restore")
      .description(
        "Restore a module's data from a backup (policy-gated, locked, audited); --verify proves a backup restores, touching nothing live",
      ),
  ).action(async (module: string, flags: RestoreFlags) => {
    env.setExit(await runRestore(env, parseRestoreArguments(module, flags)));
  });
}

export async function runRestore(env: CommandEnv, args: RestoreArguments): Promise<number> {
  const [
    { openRuntime },
    { restoreModule },
    { verifyRestore },
    { PolicyBlockedError },
    { resolveStateDir },
    context,
    { makeLogger },
    { systemClock },
    { interruptible },
    { commandLine },
    { restoreView },
  ] = await Promise.all([
    import("../../runtime/open-runtime.js"),
    import("../../restore/restore-module.js"),
    import("../../restore/verify-restore.js"),
    import("../../gate/approve.js"),
    import("../../state/state-dir.js"),
    import("../context.js"),
    import("../make-logger.js"),
    import("../../clock.js"),
    import("../interruptible.js"),
    import("../command-line.js"),
    import("../views/restore-view.js"),
  ]);
  const { io } = env;
  const g = env.globals();
  const project = context.checkProject(g.project);
  const catalog = await context.loadCatalogOrFail(g.modulesDir, io.env);
  const [name] = context.selectModules(catalog, [args.module]);
  const module = catalog.find((m) => m.name === name)!;
  const view = restoreView(io, args.json);
  const ref = path.resolve(io.cwd, args.from);
  const timeoutSeconds = args.timeoutMs === undefined ? undefined : Math.ceil(args.timeoutMs / 1000);
  const { controller, signalNumber, dispose } = interruptible();
  try {
    const common = {
      runtime: await openRuntime(io.env),
      project,
      catalog,
      module,
      ref,
      env: io.env,
      stateDir: resolveStateDir(io.env, io.cwd),
      cwd: io.cwd,
      timeoutSeconds,
      signal: controller.signal,
      progress: view.progress,
    };
    if (args.verify) {
      const r = await verifyRestore({ ...common, now: () => systemClock.now() });
      view.verified(r);
      return r.outcome === "passed" && r.left_behind.length === 0 ? EXIT.ok : EXIT.error;
    }
    const r = await restoreModule({
      ...common,
      inputs: { allowStateful: args.allowStateful, confirm: args.confirm },
      lockWaitMs: args.lockWaitMs,
      clock: systemClock,
      command: commandLine(env.argv),
      log: makeLogger(io, g.verbose),
    });
    view.restored(r);
    if (r.outcome === "interrupted") return exitForSignal(signalNumber() ?? 2);
    return r.outcome === "restored" ? EXIT.ok : EXIT.error;
  } catch (e) {
    const n = signalNumber();
    if (n !== undefined) {
      const text = e instanceof Error ? e.message : String(e);
      throw new InterruptedError(n, `restore interrupted: ${text}`, {
        detail: e instanceof PlatformError ? e.detail : undefined,
        hint: args.verify
          ? "Run the verification again; the detail says whether anything of the scratch project is left."
          : "Run `platformctl plan --module <m>` and `platformctl audit` to see the state it left, then restore again.",
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
