// Which modules a change touches: a pure mapping from changed file paths to module names, dependents included.

/** One module of the catalog as the mapping needs it. */
export interface CatalogEntry {
  name: string;
  /** The module's directory relative to the repository root, POSIX separators, no trailing slash. */
  dir: string;
  dependsOn: readonly string[];
}

export interface ChangedModulesInput {
  /** Changed paths relative to the repository root (as `git diff --name-only` prints them). */
  files: readonly string[];
  /** The modules directory relative to the repository root ("" when the modules are at the root). */
  modulesDir: string;
  /** The catalog at HEAD, in dependency order (the order of the result). */
  catalog: readonly CatalogEntry[];
}

export interface ChangedModules {
  /** Every module to plan: changed ones and their dependents, in catalog order. */
  modules: string[];
  /** Modules with a changed file in their own directory, in catalog order. */
  direct: string[];
  /** Modules that depend (transitively, through depends_on) on a changed module and did not change themselves. */
  dependents: string[];
  /**
   * Directories under the modules directory that were touched but hold no module at HEAD (a module deleted or
   * renamed away, or a directory that is not a module), sorted. They cannot be planned by name; a full plan shows
   * what is left of them as `container.orphaned`.
   */
  unknownDirs: string[];
}

const trimSlashes = (p: string): string => p.replace(/^\.\/+/, "").replace(/\/+$/, "");

/**
 * Maps changed files to modules. A file counts for a module when it lies inside the module's directory
 * (`<modulesDir>/<dir>/...`); files directly in the modules directory or outside it touch no module. A module is
 * also included when any module it depends on, directly or through others, is included: changing `minio` re-plans
 * `minio-init`. Pure: no file system, no git.
 */
export function computeChangedModules(input: ChangedModulesInput): ChangedModules {
  const base = trimSlashes(input.modulesDir);
  const prefix = base === "" || base === "." ? "" : `${base}/`;
  const byDir = new Map(input.catalog.map((m) => [trimSlashes(m.dir), m.name]));
  const touched = new Set<string>();
  const unknown = new Set<string>();
  for (const raw of input.files) {
    const file = trimSlashes(raw);
    if (!file.startsWith(prefix)) continue;
    const rest = file.slice(prefix.length).split("/");
    if (rest.length < 2 || !rest[0]) continue;
    const dir = `${prefix}${rest[0]}`;
    const name = byDir.get(dir);
    if (name === undefined) unknown.add(rest[0]);
    else touched.add(name);
  }

  const dependentsOf = new Map<string, string[]>();
  for (const m of input.catalog) {
    for (const d of m.dependsOn) dependentsOf.set(d, [...(dependentsOf.get(d) ?? []), m.name]);
  }
  const included = new Set(touched);
  const queue = [...touched];
  while (queue.length) {
    const next = queue.shift() as string;
    for (const dep of dependentsOf.get(next) ?? []) {
      if (included.has(dep)) continue;
      included.add(dep);
      queue.push(dep);
    }
  }

  const order = input.catalog.map((m) => m.name);
  return {
    modules: order.filter((n) => included.has(n)),
    direct: order.filter((n) => touched.has(n)),
    dependents: order.filter((n) => included.has(n) && !touched.has(n)),
    unknownDirs: [...unknown].sort(),
  };
}
