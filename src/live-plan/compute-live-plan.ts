// The one live-plan path shared by plan, scope and apply: observe -> secret digests -> computePlan (+ dependency readiness) -> mount warnings.
import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import { adoptionOf, desiredDigests, type DesiredDigests } from "../plan/adoption.js";
import { gatherMountFacts } from "../health/gather-mount-facts.js";
import { mountWarnings } from "../health/mount-sanity.js";
import type { Module } from "../manifest/module.js";
import { computePlan, type PlanInputs } from "../plan/compute-plan.js";
import { secretDigests } from "../plan/desired-spec.js";
import { moduleEnv } from "../secrets/env-files.js";
import { maskFailure } from "../secrets/mask-failure.js";
import { readModuleSecrets } from "../secrets/module-secrets.js";
import { dependencyReadiness, type DependencyReadiness } from "../plan/dependency-readiness.js";
import type { ObservedState } from "../plan/observed-state.js";
import type { Plan } from "../plan/plan.js";
import { unitName } from "../plan/unit-name.js";
import type { ObserveOpts, Runtime } from "../runtime/runtime.js";

export interface LivePlanRequest {
  runtime: Runtime;
  project: string;
  /** The whole catalog, in dependency order. */
  catalog: readonly Module[];
  /** Modules to plan; empty means all. */
  selected: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** STATE_DIR's digest key, when there is one (`plan` never creates it; `apply` does). */
  digestKey: Uint8Array | undefined;
  prune: boolean;
  rerun: boolean;
  clock: Clock;
  signal?: AbortSignal | undefined;
  /** Receives each observed unit's held values from the read that observed it (see `Runtime.observe`). */
  onHeld?: ObserveOpts["onHeld"];
  /**
   * Read only the units of the selected modules and of the dependencies they wait for (apply: its plan, fingerprint
   * and gate look at nothing else; one module of a large project then costs one module's reads). Default: every unit
   * of the project, for callers that look further (restore refuses while another module's unit mounts the volume).
   */
  onlyPlanned?: boolean | undefined;
}

/** A plan of the live state, with what it was computed from. */
export interface LivePlan {
  plan: Plan;
  observed: ObservedState;
  /** Readiness of every planned module's dependencies (by module name), judged from the same observation. */
  dependencies: ReadonlyMap<string, DependencyReadiness[]>;
  /** The inputs `computePlan` was given (for re-computing variants, e.g. without digests). */
  inputs: PlanInputs;
}

/**
 * Observes the runtime (read-only: GETs only on Docker), computes the plan, and adds the host-side mount findings as warnings
 * (missing bind sources, two writers, STATE_DIR inside a bind). The shadowed-mount check needs an exec in each
 * container, so it stays in `health`.
 */
export async function computeLivePlan(req: LivePlanRequest): Promise<LivePlan> {
  const selected = new Set(req.selected);
  const chosen = selected.size ? req.catalog.filter((m) => selected.has(m.name)) : [...req.catalog];
  const run = new Set(chosen.map((m) => m.name));
  // Dependencies outside the run are planned from the same observation: they must be observed ready.
  const outsideNames = new Set(chosen.flatMap((m) => m.dependsOn).filter((d) => !run.has(d)));
  const outside = req.catalog.filter((m) => outsideNames.has(m.name));
  const refs = [...new Set([...chosen, ...outside].flatMap((m) => m.services.map((s) => s.image)))].sort();
  const adoption = adoptionOf(req.catalog, req.project);
  // Adopted containers' config is digested with a key that lives for this plan only: digests are compared, never kept.
  const configKey = adoption.rules.length ? randomBytes(32) : undefined;
  const ignoredFields = req.runtime.admit(chosen);
  // Their own services' units are read while the engine lists (Compose-named ones after).
  const planned = req.onlyPlanned && selected.size ? [...chosen, ...outside] : undefined;
  const scope = planned && {
    modules: planned.map((m) => m.name),
    expect: planned.flatMap((m) => (m.compose ? [] : m.services.map((s) => unitName(req.project, m.name, s.name)))),
  };
  const observed = await req.runtime
    .observe(req.project, refs, { signal: req.signal, adoption, configKey, onHeld: req.onHeld, ...scope })
    .catch(async (e: unknown) => {
      throw maskFailure(e, (await Promise.all(req.catalog.map((m) => readModuleSecrets(m, req.env)))).flat());
    });
  const digests: Record<string, Record<string, string> | undefined> = {};
  const adoptionDigests: Record<string, DesiredDigests | undefined> = {};
  const adoptedValueDigests: Record<string, DesiredDigests | undefined> = {};
  const key = req.digestKey;
  for (const m of [...chosen, ...outside]) {
    if (!key && !(configKey && m.compose)) continue;
    // Safe: an unreadable Compose env_file leaves references compared as written (as without secrets); apply fails loudly on it.
    const env = await moduleEnv(m, req.env).catch(() => undefined);
    for (const s of m.services) {
      if (key) digests[`${m.name}/${s.name}`] = env && secretDigests(s, env, key);
      if (configKey && m.compose && env) adoptionDigests[`${m.name}/${s.name}`] = desiredDigests(s, env, configKey);
      if (key && m.compose && env) adoptedValueDigests[`${m.name}/${s.name}`] = desiredDigests(s, env, key);
    }
  }
  const inputs: PlanInputs = {
    project: req.project,
    catalog: req.catalog,
    selected: req.selected,
    observed,
    now: req.clock.now().toISOString(),
    prune: req.prune,
    rerun: req.rerun,
    secretDigests: digests,
    adoptionDigests,
    adoptedValueDigests,
    containerName: (module, service) => unitName(req.project, module, service),
  };
  const plan = computePlan(inputs);
  for (const p of ignoredFields) {
    const name = chosen.find((m) => m.file === p.file)?.name;
    plan.modules.find((m) => m.name === name)?.warnings.push(`${p.path}: ${p.message} (${p.code})`);
  }
  const outsidePlans = outside.length
    ? computePlan({ ...inputs, selected: outside.map((m) => m.name), prune: false, rerun: false }).modules
    : [];
  const dependencies = new Map(
    chosen.map((m) => [m.name, dependencyReadiness({ module: m, run, outside: outsidePlans, observed, catalog: req.catalog })]),
  );
  const facts = await gatherMountFacts({
    runtime: req.runtime,
    catalog: req.catalog,
    selected: plan.modules.map((m) => m.name),
    containers: [],
    env: req.env,
    cwd: req.cwd,
    signal: req.signal,
  });
  const byName = new Map(plan.modules.map((m) => [m.name, m]));
  for (const f of mountWarnings(facts)) {
    const mp = f.module === null ? undefined : byName.get(f.module);
    if (mp && f.code !== "mount.not_checked") mp.warnings.push(`${f.message} (${f.code}; ${f.remedy})`);
  }
  return { plan, observed, dependencies, inputs };
}
