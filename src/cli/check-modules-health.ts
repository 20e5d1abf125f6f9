// The health check health and smoke share: catalog, selection, runtime, then checkHealth.
import type { Runtime } from "../runtime/runtime.js";
import type { HealthResult } from "../health/check-health.js";
import type { Module } from "../manifest/module.js";
import type { GlobalArguments } from "./arguments/global-arguments.js";
import type { CliIO } from "./io.js";

export interface CheckedHealth {
  result: HealthResult;
  catalog: Module[];
  project: string;
  runtime: Runtime;
}

/** `requested` empty means the whole catalog; `mounts` adds the mount checks (health does, smoke does not). */
export async function checkModulesHealth(
  io: CliIO,
  g: GlobalArguments,
  requested: readonly string[],
  opts: { wait: boolean; mounts: boolean; strict?: boolean },
): Promise<CheckedHealth> {
  const [{ checkProject, loadCatalogOrFail, selectModules }, { openRuntime }, { checkHealth }] = await Promise.all([
    import("./context.js"),
    import("../runtime/open-runtime.js"),
    import("../health/check-health.js"),
  ]);
  const project = checkProject(g.project);
  const catalog = await loadCatalogOrFail(g.modulesDir, io.env);
  const selected = requested.length ? selectModules(catalog, requested) : catalog.map((m) => m.name);
  const runtime = await openRuntime(io.env);
  const result = await checkHealth({
    runtime,
    project,
    catalog,
    selected,
    wait: opts.wait,
    mounts: opts.mounts,
    strict: opts.strict,
    env: io.env,
    cwd: io.cwd,
  });
  return { result, catalog, project, runtime };
}
