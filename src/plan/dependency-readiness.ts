// Dependency readiness: for each module of a run, whether every module it depends on is ready, as closed codes.
import type { Module } from "../manifest/module.js";
import type { ObservedState } from "./observed-state.js";
import type { ModulePlan } from "./plan.js";

/**
 * The closed set of readiness verdicts for one dependency. Adding a verdict is a contract change: the policy gate
 * (`dependency.not_ready`) and docs/policy.md match on these strings.
 */
export const READINESS = {
  "in-this-run":
    "The dependency is applied earlier in the same run: its own successful apply establishes its readiness (apply stops at the first failure, so nothing after a failed module runs).",
  ready: "The dependency is outside the run and observed ready: its plan has no drift and every `healthy` service reports healthy.",
  "not-ready":
    "The dependency is outside the run and not ready: it has drift (missing, stopped, failed, changed) or a `healthy` service that is not healthy yet.",
} as const;

export type Readiness = keyof typeof READINESS;

/** The verdict for one declared dependency of one module. `problems` says why it is not ready (empty otherwise). */
export interface DependencyReadiness {
  module: string;
  readiness: Readiness;
  /** e.g. `db: container.state.not_running (exited 137)`, `service db is not healthy (starting)`; sorted, unique. */
  problems: string[];
}

export interface ReadinessInputs {
  /** The module whose dependencies are judged. */
  module: Module;
  /** The modules applied in this run (the plan's selection); a set, built once per plan rather than once per module. */
  run: ReadonlySet<string>;
  /** Plans of the dependencies outside the run, computed from the same observation. */
  outside: readonly ModulePlan[];
  observed: ObservedState;
  catalog: readonly Module[];
}

function driftProblems(dep: ModulePlan): string[] {
  return dep.drift.map((d) => {
    const o = d.observed as { status?: unknown; exit_code?: unknown };
    const exit = o.status === "exited" && typeof o.exit_code === "number" ? ` ${o.exit_code}` : "";
    const state = typeof o.status === "string" ? ` (${o.status}${exit})` : "";
    return `${d.service}: ${d.kind}${state}`;
  });
}

/**
 * Judges every dependency of `module`, in declaration order. Pure: the shell observed the engine and planned the
 * dependencies outside the run from that one observation. A dependency in the run is `in-this-run` whatever its
 * current state, because apply carries modules out in dependency order and stops at the first failure; one outside
 * the run must be observed ready now.
 */
export function dependencyReadiness(inputs: ReadinessInputs): DependencyReadiness[] {
  return inputs.module.dependsOn.map((name): DependencyReadiness => {
    if (inputs.run.has(name)) return { module: name, readiness: "in-this-run", problems: [] };
    const plan = inputs.outside.find((p) => p.name === name);
    if (!plan) return { module: name, readiness: "not-ready", problems: [`${name} was not planned`] };
    const problems = driftProblems(plan);
    const declared = inputs.catalog.find((m) => m.name === name);
    for (const s of declared?.services ?? []) {
      if (s.expectedState !== "healthy") continue;
      const c = inputs.observed.containers.find((x) => x.module === name && x.service === s.name);
      if (c && c.health !== "healthy" && plan.drift.every((d) => d.service !== s.name))
        problems.push(`service ${s.name} is not healthy (${c.health ?? "no health"})`);
    }
    const unique = [...new Set(problems)].sort();
    return { module: name, readiness: unique.length ? "not-ready" : "ready", problems: unique };
  });
}
