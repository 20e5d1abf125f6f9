// Shared glue for commands: project and module selection, catalog loading with a clear failure (the logger is make-logger.ts).
import { catalogCache } from "../catalog/catalog-cache.js";
import { loadModules } from "../catalog/load-modules.js";
import { resolveStateDir } from "../state/state-dir.js";
import { envFileDirs } from "../secrets/env-files.js";
import { formatProblem } from "../manifest/problems.js";
import type { Module } from "../manifest/module.js";
import { UsageError, PlatformError } from "../errors.js";

export const PROJECT_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

export function checkProject(project: string): string {
  if (!PROJECT_PATTERN.test(project)) {
    throw new UsageError("usage.project", `invalid project name "${project.slice(0, 60)}"`, {
      hint: "A project name is lower-case ASCII letters, digits and '-', starting with a letter, at most 40 characters.",
    });
  }
  return project;
}

/**
 * Loads the catalog (through the manifest cache under STATE_DIR when it exists); invalid manifests stop every command
 * except validate, with the problems listed.
 */
export async function loadCatalogOrFail(
  modulesDir: string,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): Promise<Module[]> {
  const result = await loadModules(modulesDir, { envFileDirs: envFileDirs(env), env }, await catalogCache(resolveStateDir(env, cwd), env));
  if (!result.valid) {
    const shown = result.problems.slice(0, 20).map(formatProblem);
    throw new PlatformError(
      "catalog.invalid",
      `the manifests in ${modulesDir} are invalid (${result.problems.length} problem${result.problems.length === 1 ? "" : "s"})`,
      {
        detail: shown.join("\n") + (result.problems.length > shown.length ? `\n… and ${result.problems.length - shown.length} more` : ""),
        hint: `Run: platformctl validate ${modulesDir}`,
      },
    );
  }
  return result.modules;
}

/** Checks that every requested module exists; returns the names in the catalog's dependency order. */
export function selectModules(catalog: readonly Module[], requested: readonly string[]): string[] {
  const known = new Set(catalog.map((m) => m.name));
  const unknown = requested.filter((r) => !known.has(r));
  if (unknown.length) {
    throw new UsageError(
      "usage.unknown_module",
      `unknown module${unknown.length === 1 ? "" : "s"}: ${unknown.map((u) => u.slice(0, 64)).join(", ")}`,
      {
        hint: `Modules in the catalog: ${[...known].join(", ")}.`,
      },
    );
  }
  const wanted = new Set(requested);
  return catalog.filter((m) => wanted.has(m.name)).map((m) => m.name);
}
