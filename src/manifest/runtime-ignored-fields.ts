// What each runtime leaves unused of a manifest (the Docker runtime: Swarm's `replicas` and `spec.placement`), as warnings.
import type { Module } from "./module.js";
import { PROBLEM_CODES, type Problem } from "./problems.js";

/** The runtimes platformctl knows, by the name `--runtime`/PLATFORMCTL_RUNTIME selects (src/runtime/open-runtime.ts). */
export type RuntimeName = "docker" | "swarm";

/** The runtime PLATFORMCTL_RUNTIME names (default `docker`); undefined for a name platformctl does not know. */
export function runtimeNameOf(env: Readonly<Record<string, string | undefined>>): RuntimeName | undefined {
  const name = env.PLATFORMCTL_RUNTIME || "docker";
  return name === "docker" || name === "swarm" ? name : undefined;
}

const ignored = (m: Module, path: string, what: string): Problem => ({
  file: m.file,
  line: 0,
  column: 0,
  path,
  code: "runtime.ignored_field",
  message: `${what} ignored on the Docker runtime (one container per service on one engine); it applies with --runtime swarm`,
  hint: PROBLEM_CODES["runtime.ignored_field"].fix,
});

/**
 * The manifest fields `runtime` does not use, one warning per field and module, never an error: one catalog may
 * serve both runtimes. Docker: a service's `replicas` other than 1 and the module's placement constraints. Swarm uses
 * every field. Pure; reported by validate (from the selected runtime's name), plan and apply (by `Runtime.admit`).
 */
export function runtimeIgnoredFields(runtime: RuntimeName, modules: readonly Module[]): Problem[] {
  if (runtime !== "docker") return [];
  const out: Problem[] = [];
  for (const m of modules) {
    for (const s of m.services)
      if (s.replicas !== undefined && s.replicas !== 1)
        out.push(ignored(m, `spec.services.${s.name}.replicas`, `${s.replicas} replicas are`));
    if ((m.placementConstraints ?? []).length > 0) out.push(ignored(m, "spec.placement.constraints", "placement is"));
  }
  return out;
}
