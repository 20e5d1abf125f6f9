// `platformctl plan`: observe the engine (read-only), compute drift, print it, optionally save it for apply.
import { writeFile, rename } from "node:fs/promises";
import path from "node:path";
import { connectEngine } from "../engine/connect.js";
import type { Plan } from "../plan/plan.js";
import type { Module } from "../manifest/module.js";
import type { ObservedState } from "../plan/observed-state.js";
import { readDigestKey, resolveStateDir } from "../state/state-dir.js";
import { EXIT, PlatformError } from "../errors.js";
import { systemClock } from "../clock.js";
import { computeLivePlan } from "../live-plan/compute-live-plan.js";
import { checkProject, loadCatalogOrFail, makeLogger, selectModules } from "./context.js";
import { renderPlanMarkdown, renderPlanText } from "./render-plan.js";
import { styler, type CliIO } from "./io.js";
import type { GlobalFlags } from "./main.js";

export interface PlanFlags {
  module?: string[];
  json?: boolean;
  markdown?: boolean;
  out?: string;
  detailedExitcode?: boolean;
  prune?: boolean;
}

/** Observes and plans through the one live-plan path, so plan, scope and apply see the same plan for the same state. */
export async function makePlan(
  io: CliIO,
  g: GlobalFlags,
  requested: readonly string[],
  options: { prune?: boolean; rerun?: boolean } = {},
): Promise<{ plan: Plan; catalog: Module[]; observed: ObservedState }> {
  const project = checkProject(g.project);
  const catalog = await loadCatalogOrFail(g.modulesDir);
  const selected = selectModules(catalog, requested);
  const log = makeLogger(io, g.verbose);
  const started = Date.now();
  const { plan, observed } = await computeLivePlan({
    engine: connectEngine(io.env),
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
  log.debug({ containers: observed.containers.length, ms: Date.now() - started }, "observed engine state and planned");
  return { plan, catalog, observed };
}

/** Writes a plan file atomically (a temp file renamed into place). */
export async function savePlan(file: string, plan: Plan): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o644 });
    await rename(tmp, file);
  } catch (e) {
    throw new PlatformError("plan.write_failed", `cannot write the plan to ${file}`, { hint: "Check that the directory exists and is writable.", cause: e });
  }
}

export async function runPlan(io: CliIO, g: GlobalFlags, flags: PlanFlags): Promise<number> {
  const { plan } = await makePlan(io, g, flags.module ?? [], { prune: flags.prune });
  if (flags.out) await savePlan(flags.out, plan);
  if (flags.json) io.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
  else if (flags.markdown) io.stdout.write(renderPlanMarkdown(plan));
  else io.stdout.write(renderPlanText(plan, styler(io)));
  if (flags.detailedExitcode && plan.summary.drifted > 0) return EXIT.drift;
  return EXIT.ok;
}
