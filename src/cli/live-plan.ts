// The CLI's entry to the one live-plan path (src/live-plan): catalog, selection, engine and digest key from the CLI's world.
import { openRuntime } from "../runtime/open-runtime.js";
import type { Plan } from "../plan/plan.js";
import type { Module } from "../manifest/module.js";
import type { ObservedState } from "../plan/observed-state.js";
import { readDigestKey, resolveStateDir } from "../state/state-dir.js";
import { systemClock } from "../clock.js";
import { computeLivePlan, type LivePlan } from "../live-plan/compute-live-plan.js";
import type { GlobalArguments } from "./arguments/global-arguments.js";
import { checkProject, loadCatalogOrFail, selectModules } from "./context.js";
import type { CliIO } from "./io.js";

/** Observes and plans through the one live-plan path, so plan, scope and apply see the same plan for the same state. */
export async function makePlan(
  io: CliIO,
  g: GlobalArguments,
  requested: readonly string[],
  options: { prune?: boolean; rerun?: boolean } = {},
): Promise<{ plan: Plan; catalog: Module[]; observed: ObservedState; dependencies: LivePlan["dependencies"] }> {
  const project = checkProject(g.project);
  const catalog = await loadCatalogOrFail(g.modulesDir, io.env);
  const selected = selectModules(catalog, requested);
  const started = Date.now();
  const { plan, observed, dependencies } = await computeLivePlan({
    runtime: await openRuntime(io.env),
    project,
    catalog,
    selected,
    env: io.env,
    cwd: io.cwd,
    digestKey: await readDigestKey(resolveStateDir(io.env, io.cwd)),
    prune: Boolean(options.prune),
    rerun: Boolean(options.rerun),
    clock: systemClock,
  });
  // The one log line here is debug: at the default level (warn) pino is not even loaded.
  if (g.verbose || io.env.PLATFORMCTL_LOG_LEVEL !== undefined)
    (await import("./make-logger.js"))
      .makeLogger(io, g.verbose)
      .debug({ containers: observed.containers.length, ms: Date.now() - started }, "observed engine state and planned");
  return { plan, catalog, observed, dependencies };
}
