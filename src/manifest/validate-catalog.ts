// Cross-module checks of a catalog (names, depends_on, backup_ref_modules, cycles, shared volumes, Compose depends_on)
// over manifests already validated one by one; loads neither the YAML parser nor the schema, so a catalog whose
// manifests all come from the manifest cache is checked without them.
import type { Module } from "./module.js";
import { PROBLEM_CODES, sortProblems, type Problem, type ProblemCode } from "./problems.js";
import type { CatalogResult, ManifestResult, ManifestSource, ValidateOptions } from "./validate.js";

/** Validates a whole catalog: every manifest, then names, `depends_on` and `backup_ref_modules` across modules. */
export function checkCatalog(
  sources: readonly ManifestSource[],
  options: ValidateOptions = {},
  context: {
    problems?: readonly Problem[];
    /** names of modules beside the validated ones (validating one module of a catalog) */
    knownNames?: readonly string[];
    /** `validateManifest` of each source, in order */
    results: readonly ManifestResult[];
  },
  /** Fills in line/column of a catalog-level problem from its file (see `locateProblem`); without it they stay 0. */
  locate?: (p: Problem, source: ManifestSource) => Problem,
): CatalogResult {
  const results = context.results;
  const problems: Problem[] = [...(context.problems ?? []), ...results.flatMap((r) => r.problems)];
  const warnings = sortProblems(dedupe(results.flatMap((r) => r.warnings)));
  const modules = results.flatMap((r) => (r.module ? [r.module] : []));
  // Names of every manifest that at least parsed far enough to know its name count as "in the catalog",
  // so one broken module does not cascade into unknown-dependency errors in the others.
  const known = new Set([...sources.map((s) => s.dirName), ...(context.knownNames ?? [])]);
  const byName = new Map<string, Module>();
  for (const m of modules) {
    const other = byName.get(m.name);
    if (other)
      problems.push(at(m.file, 0, 0, "metadata.name", "module.duplicate_name", `module "${m.name}" is also declared in ${other.file}`));
    byName.set(m.name, m);
    known.add(m.name);
  }
  for (const m of modules) {
    m.dependsOn.forEach((d, i) => {
      if (!known.has(d))
        problems.push(at(m.file, 0, 0, `spec.depends_on[${i}]`, "depends_on.unknown", `module "${d}" is not in the catalog`));
    });
    m.backupRefModules.forEach((d, i) => {
      if (!known.has(d))
        problems.push(at(m.file, 0, 0, `spec.backup_ref_modules[${i}]`, "backup_ref.unknown", `module "${d}" is not in the catalog`));
    });
  }
  if (options.strict) problems.push(...volumeTwoWriters(modules));
  problems.push(...composeDependsOn(modules));
  for (const cycle of findCycles(modules)) {
    const first = byName.get(cycle[0] as string) as Module;
    problems.push(at(first.file, 0, 0, "spec.depends_on", "depends_on.cycle", `depends_on cycle: ${[...cycle, cycle[0]].join(" -> ")}`));
  }
  const located = problems.map((p) => {
    const source = p.line === 0 && p.path && locate ? sources.find((s) => s.file === p.file) : undefined;
    return source && locate ? locate(p, source) : p;
  });
  const sorted = sortProblems(dedupe(located));
  return { valid: sorted.length === 0, modules: dependencyOrder(modules), problems: sorted, warnings };
}

/**
 * A Compose `depends_on` must be carried by the module graph: platformctl starts a module only when the modules in its
 * `spec.depends_on` are in sync and healthy (exited 0 for one-shots), which covers every Compose condition; it does
 * not order the services inside one module. So the service waited for must belong to a module listed there.
 */
function composeDependsOn(modules: readonly Module[]): Problem[] {
  const byName = new Map(modules.map((m) => [m.name, m]));
  const out: Problem[] = [];
  for (const m of modules) {
    if (!m.compose) continue;
    m.compose.services.forEach((svc, i) => {
      for (const dep of Object.keys(m.compose?.dependsOn[svc] ?? {})) {
        const path = `spec.compose.services[${i}]`;
        if (m.services.some((s) => s.name === dep)) {
          out.push(
            at(
              m.file,
              0,
              0,
              path,
              "compose.depends_on",
              `"${svc}" depends on "${dep}" of the same module; platformctl does not order a module's services: give "${dep}" its own module and list it in spec.depends_on`,
            ),
          );
          continue;
        }
        const owners = m.dependsOn.filter((d) => byName.get(d)?.services.some((s) => s.name === dep));
        if (owners.length === 0)
          out.push(
            at(
              m.file,
              0,
              0,
              path,
              "compose.depends_on",
              `"${svc}" depends on Compose service "${dep}", which no module in spec.depends_on owns`,
            ),
          );
      }
    });
  }
  return out;
}

/**
 * Strict: a named volume mounted read-write by two modules, reported at each later module's mount (like
 * bind.two_writers), unless the later module declares the first one in backup_ref_modules (a sidecar of its data).
 */
function volumeTwoWriters(modules: readonly Module[]): Problem[] {
  const first = new Map<string, string>();
  const out: Problem[] = [];
  for (const m of [...modules].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    for (const s of m.services) {
      s.volumes.forEach((v, i) => {
        if (v.type !== "volume" || !v.source || v.readOnly) return;
        const owner = first.get(v.source);
        if (owner === undefined) first.set(v.source, m.name);
        // A declared sidecar (its backup_ref_modules names the first writer, as minio-init names minio) is intended.
        else if (owner !== m.name && !m.backupRefModules.includes(owner)) {
          out.push(
            at(
              m.file,
              0,
              0,
              `spec.services.${s.name}.volumes[${i}]`,
              "strict.volume_two_writers",
              `volume "${v.source}" is mounted read-write by module "${owner}" and by module "${m.name}": two modules write one tree`,
            ),
          );
        }
      });
    }
  }
  return out;
}

/** Orders modules so every module comes after the modules it depends on; ties by name. Cycles are broken by name. */
export function dependencyOrder(modules: readonly Module[]): Module[] {
  const byName = new Map(modules.map((m) => [m.name, m]));
  const done = new Set<string>();
  const out: Module[] = [];
  const visit = (m: Module, stack: Set<string>) => {
    if (done.has(m.name) || stack.has(m.name)) return;
    stack.add(m.name);
    for (const d of [...m.dependsOn].sort()) {
      const dep = byName.get(d);
      if (dep) visit(dep, stack);
    }
    stack.delete(m.name);
    done.add(m.name);
    out.push(m);
  };
  for (const m of [...modules].sort((a, b) => (a.name < b.name ? -1 : 1))) visit(m, new Set());
  return out;
}

/**
 * One cycle per strongly connected component that has one (Tarjan), rotated to start at its smallest name.
 * Listing every elementary cycle instead is exponential: eight modules that all depend on each other have
 * thousands, which made validation hang; one cycle per component is enough to act on, and linear.
 */
function findCycles(modules: readonly Module[]): string[][] {
  const names = modules.map((m) => m.name).sort();
  const known = new Set(names);
  const edges = new Map(modules.map((m) => [m.name, [...new Set(m.dependsOn)].filter((d) => known.has(d)).sort()]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  // Iterative Tarjan, so a long dependency chain cannot overflow the call stack.
  for (const root of names) {
    if (index.has(root)) continue;
    const work: { name: string; i: number }[] = [{ name: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const top = work[work.length - 1] as { name: string; i: number };
      const out = edges.get(top.name) ?? [];
      if (top.i < out.length) {
        const d = out[top.i++] as string;
        if (!index.has(d)) {
          index.set(d, next);
          low.set(d, next++);
          stack.push(d);
          onStack.add(d);
          work.push({ name: d, i: 0 });
        } else if (onStack.has(d)) low.set(top.name, Math.min(low.get(top.name) as number, index.get(d) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.name, Math.min(low.get(parent.name) as number, low.get(top.name) as number));
      if (low.get(top.name) === index.get(top.name)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop() as string;
          onStack.delete(n);
          component.push(n);
        } while (n !== top.name);
        components.push(component);
      }
    }
  }
  const cycles: string[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const start = [...component].sort()[0] as string;
    if (component.length === 1 && !(edges.get(start) ?? []).includes(start)) continue;
    cycles.push(cycleThrough(start, members, edges));
  }
  return cycles.sort((a, b) => a.join().localeCompare(b.join()));
}

/** A shortest cycle from `start` back to itself inside one strongly connected component (breadth-first, ties by name). */
function cycleThrough(start: string, members: ReadonlySet<string>, edges: ReadonlyMap<string, readonly string[]>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const name = queue[q] as string;
    for (const d of edges.get(name) ?? []) {
      if (!members.has(d)) continue;
      if (d === start) {
        const path = [name];
        while (path[0] !== start) path.unshift(previous.get(path[0] as string) as string);
        return path;
      }
      if (!previous.has(d)) {
        previous.set(d, name);
        queue.push(d);
      }
    }
  }
  return [start];
}

export function at(file: string, line: number, column: number, path: string, code: ProblemCode, message: string): Problem {
  return { file, line, column, path, code, message, hint: PROBLEM_CODES[code].fix };
}

export function dedupe(ps: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.file}|${p.line}|${p.column}|${p.path}|${p.code}|${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
