// The length Swarm allows a service name, checked before anything is created instead of an engine 400 half-way.
import { PlatformError } from "../../errors.js";
import type { Module } from "../../manifest/module.js";
import { scratchOf, unitName } from "../../plan/unit-name.js";

/** Swarm's limit on a service name (a DNS label). */
export const SERVICE_NAME_MAX = 63;

/**
 * Refuses `module` under `project` when the service name (`unitName`) of one of its services is longer than Swarm allows.
 * That is the longest name a service is created under: a recreate's `-next` replacement (5 characters more) is staged
 * in memory and created under the canonical name (swarm-runtime.ts), and the maintenance lane updates in place (no
 * `-previous` service).
 */
export function assertServiceNames(project: string, module: Module): void {
  const long = module.services.map((s) => unitName(project, module.name, s.name)).find((n) => n.length > SERVICE_NAME_MAX);
  if (long === undefined) return;
  const over = long.length - SERVICE_NAME_MAX;
  const real = scratchOf(project);
  throw new PlatformError(
    "swarm.name_too_long",
    `the Swarm service name ${long} is ${long.length} characters; Swarm allows at most ${SERVICE_NAME_MAX}`,
    {
      detail:
        real === undefined
          ? "Service names are <project>_<module>_<service>. Nothing was created."
          : `It is ${module.name}'s in the scratch project of restore --verify, which adds ${project.length - real.length} characters to the project name ${real}. Nothing was created.`,
      hint: `Shorten the project, module or service name by at least ${over} characters.`,
    },
  );
}
