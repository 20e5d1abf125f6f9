// What each runtime leaves unused of a manifest in a way that changes the outcome (the Docker runtime: Swarm's `replicas`), as warnings.
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
 * The manifest fields `runtime` does not use where that changes the outcome, one warning per field and module, never
 * an error: one catalog may serve both runtimes. Docker: a service's `replicas` other than 1 (it runs one container).
 * Placement constraints are not warned about: on one engine every service already shares one node, which is what a
 * pin asks for, so a catalog pinned for Swarm (the quick start's stateful store) runs on Docker without noise. Swarm
 * uses every field. Pure; reported by validate (from the selected runtime's name), plan and apply (`Runtime.admit`).
 */
export function runtimeIgnoredFields(runtime: RuntimeName, modules: readonly Module[]): Problem[] {
  if (runtime !== "docker") return [];
  const out: Problem[] = [];
  for (const m of modules) {
    for (const s of m.services)
      if (s.replicas !== undefined && s.replicas !== 1)
        out.push(ignored(m, `spec.services.${s.name}.replicas`, `${s.replicas} replicas are`));
  }
  return out;
}
