// Infers platformctl modules from a merged Compose model (pure): grouping, expected state, stateful marks, dependencies, backup refs.
import type { ExpectedState } from "../schema.js";
import { PATTERNS } from "../vocabulary.js";
import type { ComposeService, ComposeServiceLayer, SourceLocation } from "./compose-service.js";

/** `--group svc1,svc2=name`: these services become one module called `name`. */
export interface ImportGroup {
  name: string;
  services: string[];
}

/** Why an import is refused (nothing is written). Closed: the CLI maps each to an error code. */
export type ImportRefusalCode = "group.unknown_service" | "group.service_twice" | "group.name" | "module.name" | "group.depends_inside";

export interface ImportRefusal {
  code: ImportRefusalCode;
  message: string;
  /** The Compose file:line the refusal concerns, when it is about a service. */
  at?: SourceLocation;
}

/**
 * Something the operator must still decide before the imported set means what they want. Closed codes, so CI and
 * editors can match them. `oneshot.unconfirmed` and `group.states_differ` are inferences the import could not make;
 * `env_file.outside_catalog` is a host setting the module cannot grant itself; the CLI adds `strict.problem` for
 * every problem `validate --strict` still reports on the written set.
 */
export type ImportDecisionCode = "oneshot.unconfirmed" | "group.states_differ" | "env_file.outside_catalog" | "strict.problem";

export interface ImportDecision {
  code: ImportDecisionCode;
  /** The module the decision is about; undefined when it concerns every imported module. */
  module: string | undefined;
  message: string;
  /** Where to make it: a Compose or module file position, when there is one. */
  at?: SourceLocation;
}

/**
 * One module the import writes. Every inferred value carries the reason it was inferred (written as a comment beside
 * it and printed), so the operator can confirm it; none of them is a guess the operator is not told about.
 */
export interface ImportedModule {
  name: string;
  /** The Compose services it owns, in Compose file order. */
  services: string[];
  expectedState: ExpectedState;
  expectedStateWhy: string;
  /** True when a service mounts a named volume read-write, or a one-shot waits for a stateful module (it writes to it). */
  stateful: boolean;
  statefulWhy: string | undefined;
  /** Modules owning the Compose services this one's services depend on; sorted. */
  dependsOn: string[];
  /** Suggested modules whose backup covers this one (omitted when the module's own backup does); sorted. */
  backupRefModules: string[] | undefined;
  backupRefWhy: string | undefined;
  /** Per dependency module, the Compose conditions waited on (for the comment). */
  dependsWhy: string | undefined;
}

export type ComposeImport = { ok: false; refusals: ImportRefusal[] } | { ok: true; modules: ImportedModule[]; decisions: ImportDecision[] };

const COMPLETED = "service_completed_successfully";

function hasHealthcheck(s: ComposeService): boolean {
  const hc = s.healthcheck;
  return hc !== undefined && hc.disable !== true && hc.test !== undefined && hc.test[0] !== "NONE";
}

/** Named volumes a service mounts read-write (anonymous volumes, binds and tmpfs hold no data the module owns). */
function writtenVolumes(s: ComposeService): string[] {
  return (s.volumes ?? []).filter((v) => v.type === "volume" && v.source !== undefined && !v.read_only).map((v) => v.source as string);
}

const list = (xs: readonly string[]) => xs.join(", ");

/**
 * Plans the modules for a merged Compose model. Services in a group become one module named by the group; every
 * other service becomes a module of its own name. Refused (nothing to write): a group naming an unknown service, a
 * service in two groups, a module name platformctl cannot use, or a group whose services depend on each other
 * (platformctl orders modules, not the services inside one).
 */
export function planComposeImport(services: ReadonlyMap<string, ComposeServiceLayer>, groups: readonly ImportGroup[]): ComposeImport {
  const refusals: ImportRefusal[] = [];
  const owner = new Map<string, string>();
  for (const g of groups) {
    if (!PATTERNS.moduleName.test(g.name))
      refusals.push({
        code: "group.name",
        message: `--group name "${g.name}" is not a module name (lower-case letters, digits and '-', starting with a letter)`,
      });
    for (const s of g.services) {
      if (!services.has(s)) {
        refusals.push({
          code: "group.unknown_service",
          message: `--group ${g.name} names service "${s}", which the Compose files do not define (they define ${list([...services.keys()])})`,
        });
        continue;
      }
      const before = owner.get(s);
      if (before !== undefined)
        refusals.push({
          code: "group.service_twice",
          message: `service "${s}" is in two groups (${before} and ${g.name}); a service belongs to one module`,
          at: services.get(s)?.at,
        });
      else owner.set(s, g.name);
    }
  }
  for (const [name, layer] of services) {
    if (owner.has(name)) continue;
    if (!PATTERNS.moduleName.test(name))
      refusals.push({
        code: "module.name",
        message: `service "${name}" cannot be a module name (lower-case letters, digits and '-', starting with a letter); give it one with --group ${name}=<name>`,
        at: layer.at,
      });
    else if (groups.some((g) => g.name === name))
      refusals.push({
        code: "group.name",
        message: `--group ${name} is also the name of service "${name}", which is not in that group; name the group differently or add the service to it`,
        at: layer.at,
      });
    owner.set(name, name);
  }
  for (const [name, layer] of services) {
    for (const dep of Object.keys(layer.service.depends_on ?? {})) {
      if (owner.get(dep) === owner.get(name) && services.has(dep))
        refusals.push({
          code: "group.depends_inside",
          message: `service "${name}" depends on "${dep}" and both are in module ${owner.get(name)}; platformctl does not order the services of one module: put them in separate modules`,
          at: layer.service.depends_on ? (layer.origins.depends_on ?? layer.at) : layer.at,
        });
    }
  }
  if (refusals.length) return { ok: false, refusals };

  // Modules in the order their first service appears; their services in Compose order.
  const members = new Map<string, string[]>();
  for (const name of services.keys()) {
    const m = owner.get(name) as string;
    members.set(m, [...(members.get(m) ?? []), name]);
  }
  const waitedToComplete = new Map<string, string[]>();
  for (const [name, layer] of services)
    for (const [dep, v] of Object.entries(layer.service.depends_on ?? {}))
      if (v.condition === COMPLETED) waitedToComplete.set(dep, [...(waitedToComplete.get(dep) ?? []), name]);

  const decisions: ImportDecision[] = [];
  const state = (name: string): { state: ExpectedState; why: string } => {
    const s = (services.get(name) as ComposeServiceLayer).service;
    const waiters = waitedToComplete.get(name) ?? [];
    const noRestart = s.restart === undefined || s.restart === "no";
    if (noRestart && waiters.length)
      return {
        state: "exited-success",
        why: `${s.restart === undefined ? "no restart policy" : 'restart: "no"'} and ${list(waiters)} wait${waiters.length === 1 ? "s" : ""} for it with condition ${COMPLETED}`,
      };
    if (hasHealthcheck(s)) return { state: "healthy", why: "it declares a healthcheck" };
    return {
      state: "running",
      why: waiters.length ? `restart: "${s.restart}" keeps it running` : "no healthcheck, and nothing waits for it to complete",
    };
  };

  const modules: ImportedModule[] = [];
  for (const [name, svcs] of members) {
    const states = svcs.map((s) => ({ service: s, ...state(s) }));
    const distinct = [...new Set(states.map((s) => s.state))];
    let expectedState: ExpectedState;
    let expectedStateWhy: string;
    if (distinct.length === 1) {
      expectedState = distinct[0] as ExpectedState;
      expectedStateWhy =
        svcs.length === 1 ? (states[0]?.why as string) : `every service: ${states.map((s) => `${s.service}: ${s.why}`).join("; ")}`;
    } else {
      // A module has one expected state. Running is the weakest claim that holds for healthy services too; a one-shot
      // beside long-running services cannot be expressed, so the operator decides (usually: split the group).
      expectedState = "running";
      expectedStateWhy = `its services differ (${states.map((s) => `${s.service}: ${s.state}`).join(", ")}); running holds for all of them`;
      if (distinct.includes("exited-success"))
        decisions.push({
          code: "group.states_differ",
          module: name,
          message: `group ${name} mixes a one-shot with long-running services (${states.map((s) => `${s.service}: ${s.state}`).join(", ")}); a module has one expected state: split the group, or keep running and accept that the one-shot is judged as running`,
        });
    }
    for (const s of states) {
      const layer = services.get(s.service) as ComposeServiceLayer;
      if (s.state === "running" && layer.service.restart === "no")
        decisions.push({
          code: "oneshot.unconfirmed",
          module: name,
          message: `service ${s.service} has restart: "no" but nothing waits for it with condition ${COMPLETED}: imported as running; if it is a one-shot, set spec.runtime.expected_state: exited-success in ${name}/module.yaml`,
          at: layer.origins.restart ?? layer.at,
        });
    }
    modules.push({
      name,
      services: svcs,
      expectedState,
      expectedStateWhy,
      stateful: false,
      statefulWhy: undefined,
      dependsOn: [],
      backupRefModules: undefined,
      backupRefWhy: undefined,
      dependsWhy: undefined,
    });
  }

  const byName = new Map(modules.map((m) => [m.name, m]));
  for (const m of modules) {
    const deps = new Map<string, Set<string>>();
    for (const s of m.services)
      for (const [dep, v] of Object.entries((services.get(s) as ComposeServiceLayer).service.depends_on ?? {})) {
        const o = owner.get(dep);
        if (o === undefined || o === m.name) continue;
        deps.set(o, (deps.get(o) ?? new Set()).add(`${s} waits for ${dep} (${v.condition})`));
      }
    m.dependsOn = [...deps.keys()].sort();
    m.dependsWhy = m.dependsOn.length ? [...deps.values()].flatMap((x) => [...x]).join("; ") : undefined;
  }

  // Stateful by volume. A named volume written by several modules is owned by the first by name (the rule
  // `validate --strict` applies: the later writers must name it in backup_ref_modules, as a sidecar of its data).
  const volumeOwner = new Map<string, string>();
  const volumesOf = new Map<string, string[]>();
  for (const m of [...modules].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const vols = [...new Set(m.services.flatMap((s) => writtenVolumes((services.get(s) as ComposeServiceLayer).service)))];
    volumesOf.set(m.name, vols);
    for (const v of vols) if (!volumeOwner.has(v)) volumeOwner.set(v, m.name);
  }
  for (const m of modules) {
    const vols = volumesOf.get(m.name) ?? [];
    if (!vols.length) continue;
    m.stateful = true;
    m.statefulWhy = `it mounts the named volume${vols.length === 1 ? "" : "s"} ${list(vols)}`;
    const owners = [...new Set(vols.map((v) => volumeOwner.get(v) as string).filter((o) => o !== m.name))].sort();
    if (owners.length) {
      const own = vols.some((v) => volumeOwner.get(v) === m.name);
      m.backupRefModules = own ? [...owners, m.name].sort() : owners;
      m.backupRefWhy = `it writes ${list(vols.filter((v) => volumeOwner.get(v) !== m.name))}, which ${list(owners)} also mount${owners.length === 1 ? "s" : ""}: their backup holds that data`;
    }
  }
  // A one-shot waiting for a stateful module usually writes into it (bucket or schema bootstrap, migrations): it is
  // guarded like its store, and the store's backup is the one that covers it.
  for (const m of modules) {
    if (m.stateful || m.expectedState !== "exited-success") continue;
    const stores = m.dependsOn.filter((d) => byName.get(d)?.stateful === true && volumesOf.get(d)?.length);
    if (!stores.length) continue;
    m.stateful = true;
    m.statefulWhy = `it is a one-shot that waits for the stateful ${list(stores)} and likely writes to it`;
    m.backupRefModules = stores;
    m.backupRefWhy = `its effects live in the data of ${list(stores)}`;
  }
  return { ok: true, modules: [...modules].sort((a, b) => (a.name < b.name ? -1 : 1)), decisions };
}

/** `svc1,svc2=name` → a group; undefined when the text is not of that shape. */
export function parseImportGroup(text: string): ImportGroup | undefined {
  const eq = text.lastIndexOf("=");
  if (eq <= 0 || eq === text.length - 1) return undefined;
  const services = text
    .slice(0, eq)
    .split(",")
    .map((s) => s.trim());
  const name = text.slice(eq + 1).trim();
  if (services.some((s) => s === "") || name === "") return undefined;
  return { name, services };
}
