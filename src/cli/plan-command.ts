// `platformctl plan`: observe the engine (read-only), compute drift, print it, optionally save it for apply.
import { writeFile, rename } from "node:fs/promises";
import path from "node:path";
import { connectEngine } from "../engine/connect.js";
import { observe } from "../engine/observe.js";
import { containerName } from "../engine/labels.js";
import { computePlan } from "../plan/compute-plan.js";
import { secretDigests } from "../plan/desired-spec.js";
import type { Plan } from "../plan/plan.js";
import type { Module } from "../manifest/module.js";
import type { ObservedState } from "../plan/observed-state.js";
import { readDigestKey, resolveStateDir } from "../state/state-dir.js";
import { EXIT, PlatformError } from "../errors.js";
import { gatherMountFacts } from "../health/gather-mount-facts.js";
import { mountWarnings } from "../health/mount-sanity.js";
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

/** Observes and plans; shared by plan, apply and scope so all three see the same plan for the same state. */
export async function makePlan(
  io: CliIO,
  g: GlobalFlags,
  requested: readonly string[],
  options: { prune?: boolean } = {},
): Promise<{ plan: Plan; catalog: Module[]; observed: ObservedState }> {
  const project = checkProject(g.project);
  const catalog = await loadCatalogOrFail(g.modulesDir);
  const selected = selectModules(catalog, requested);
  const log = makeLogger(io, g.verbose);
  const engine = connectEngine(io.env);
  const chosen = selected.length ? catalog.filter((m) => selected.includes(m.name)) : catalog;
  const refs = [...new Set(chosen.flatMap((m) => m.services.map((s) => s.image)))].sort();
  const started = Date.now();
  const observed = await observe(engine, project, refs);
  log.debug({ containers: observed.containers.length, ms: Date.now() - started }, "observed engine state");
  const key = await readDigestKey(resolveStateDir(io.env, io.cwd));
  const digests: Record<string, Record<string, string> | undefined> = {};
  if (key) for (const m of chosen) for (const s of m.services) digests[`${m.name}/${s.name}`] = secretDigests(s, io.env, key);
  const plan = computePlan({
    project,
    catalog,
    selected,
    observed,
    now: new Date().toISOString(),
    prune: Boolean(options.prune),
    secretDigests: digests,
    containerName: (module, service) => containerName(project, module, service),
  });
  // Mount sanity as warnings: host-side checks only (missing bind sources, two writers, STATE_DIR inside a bind).
  // The shadowed-mount check needs an exec in each container, so it stays in `health`: plan issues only GETs.
  const facts = await gatherMountFacts({ engine, catalog, selected: plan.modules.map((m) => m.name), containers: [], env: io.env, cwd: io.cwd });
  for (const f of mountWarnings(facts)) {
    const mp = plan.modules.find((m) => m.name === f.module);
    if (mp && f.code !== "mount.not_checked") mp.warnings.push(`${f.message} (${f.code}; ${f.remedy})`);
  }
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
