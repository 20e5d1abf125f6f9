// computePlan: desired modules + observed state -> Plan, with no I/O. The only place drift is decided.
import type { Module, Service } from "../manifest/module.js";
import type { ObservedContainer, ObservedState } from "./observed-state.js";
import { canonicalJson, sha256Hex } from "./canonical-json.js";
import { changedFields, moduleSpecs } from "./desired-spec.js";
import { resourceName } from "./unit-name.js";
import { compareAdopted, composeProjectOf, isAdopted, type AdoptionComparison, type DesiredDigests } from "./adoption.js";
import type { Action, Drift, ModulePlan, Plan } from "./plan.js";
import { PLAN_FORMAT_VERSION } from "./plan-vocabulary.js";

/**
 * A total, deterministic order by UTF-16 code units. Not `localeCompare`: its first call loads ICU's collator (~13 ms
 * of a 400 ms plan), and names, ids and engine times are ASCII, for which code-unit order is as stable as any.
 */
const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface PlanInputs {
  project: string;
  /** Every module of the catalog (orphans are judged against all of them), in dependency order. */
  catalog: readonly Module[];
  /** Names to plan; empty or undefined means all. */
  selected?: readonly string[];
  observed: ObservedState;
  /** ISO time written into the plan; passed in so the planner stays pure and deterministic. */
  now: string;
  /** Plan `remove` actions for orphans and duplicates. */
  prune?: boolean;
  /** Plan a `run-once` (cause `rerun`) for one-shots that are in sync: a deliberate re-run, still gated by policy. */
  rerun?: boolean;
  /**
   * Keyed digests of resolved reference values per `module/service`, when the values are available. Compared with the
   * container's `dev.platformctl.secret-digests` label; absent entries mean "compare references as written only".
   */
  secretDigests?: Readonly<Record<string, Record<string, string> | undefined>>;
  /**
   * Digests of each `module/service`'s resolved environment and argv fields, made with the same one-plan key the
   * observation digested adopted containers' config with. Absent: adopted containers' secret-bearing fields are unknown.
   */
  adoptionDigests?: Readonly<Record<string, DesiredDigests | undefined>>;
  /**
   * The same digests of each Compose-sourced `module/service` under STATE_DIR's digest key, which outlives the plan:
   * they enter the fingerprint (never the plan's body), so a saved plan is stale once a value an adopted container is
   * compared on changes (a `${VAR}` in its command, say) even when the drift it shows stays the same. Absent without
   * a digest key or without the values.
   */
  adoptedValueDigests?: Readonly<Record<string, DesiredDigests | undefined>>;
  /** The name a service's container gets; duplicates keep this one. */
  containerName: (module: string, service: string) => string;
}

/** Label keys the planner reads (mirrors the engine's constants; a test keeps them equal). */
export const PLAN_LABELS = {
  specFields: "dev.platformctl.spec-fields",
  secretDigests: "dev.platformctl.secret-digests",
  stateful: "dev.platformctl.stateful",
} as const;

/**
 * The strict "exited with code 0" predicate for one-shots: exited, code 0, not OOM-killed (exit 0 with OOMKilled
 * happens), no start error, and it actually ran (both StartedAt and FinishedAt set). A `wait` status of 0 alone proves
 * nothing (never-started and removed containers report 0 too). The order of the two times is not checked: on Docker
 * 20.10 a process that exits within a millisecond can get a FinishedAt a few ms before its StartedAt (measured), and
 * status `exited` already rules out a container that is running again.
 */
export function exitedSuccessfully(c: ObservedContainer): boolean {
  return (
    c.status === "exited" && c.exitCode === 0 && !c.oomKilled && c.error === "" && c.startedAt !== undefined && c.finishedAt !== undefined
  );
}

function parseJsonLabel(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string"))
      return v as Record<string, string>;
  } catch {
    // a hand-edited or foreign label reads as "unknown fields"
  }
  return undefined;
}

function stateFacts(c: ObservedContainer) {
  return {
    status: c.status,
    exit_code: c.exitCode,
    oom_killed: c.oomKilled,
    start_error: c.error !== "",
    restart_count: c.restartCount,
    health: c.health ?? null,
    ...(c.tasks && { desired_tasks: c.tasks.desired, running_tasks: c.tasks.running, task_errors: c.tasks.errors }),
  };
}

/** Plans one declared service. */
function planService(
  m: Module,
  s: Service,
  containers: ObservedContainer[],
  inputs: PlanInputs,
  specs: ReturnType<typeof moduleSpecs>,
  judged: Judgements,
): { drift: Drift[]; actions: Action[]; warnings: string[] } {
  const drift: Drift[] = [];
  const actions: Action[] = [];
  const warnings: string[] = [];
  const want = specs.get(s.name) as { hash: string; fields: Record<string, string> };
  const oneShot = s.expectedState === "exited-success";
  const canonical = inputs.containerName(m.name, s.name);
  const localImage = inputs.observed.images[s.image];
  if (localImage === null)
    warnings.push(`image ${s.image} of service ${s.name} is not present on the engine; apply cannot create it until the image is loaded`);

  if (containers.length === 0) {
    drift.push({
      kind: "service.missing",
      service: s.name,
      container: null,
      observed: { containers: 0 },
      expected: { state: s.expectedState },
      detail: {},
    });
    actions.push({ type: "create", service: s.name, container: null, cause: "service.missing" });
    actions.push({ type: oneShot ? "run-once" : "start", service: s.name, container: canonical, cause: "service.missing" });
    return { drift, actions, warnings };
  }

  // Keep the canonically named container (else the newest); the rest are duplicates.
  const sorted = [...containers].sort((a, b) =>
    a.name === canonical ? -1 : b.name === canonical ? 1 : order(b.createdAt, a.createdAt) || order(a.name, b.name),
  );
  const c = sorted[0] as ObservedContainer;
  const extras = sorted.slice(1);
  if (extras.length) {
    drift.push({
      kind: "container.duplicate",
      service: s.name,
      container: c.name,
      observed: { containers: sorted.map((x) => x.name) },
      expected: { containers: 1 },
      detail: { keep: c.name },
    });
    if (inputs.prune)
      for (const x of extras) actions.push({ type: "remove", service: s.name, container: x.name, cause: "container.duplicate" });
  }

  let recreate = false;
  const adopted = isAdopted(c);
  // A Compose-created container keeps its Compose name through a recreate, so `docker compose ps` still lists it.
  const keepName = c.compose !== undefined ? c.name : canonical;
  if ((adopted ? c.configImage : c.imageRef) !== s.image) {
    drift.push({
      kind: "image.changed",
      service: s.name,
      container: c.name,
      observed: { image: c.imageRef ?? c.configImage },
      expected: { image: s.image },
      detail: {},
    });
    recreate = true;
  } else if (typeof localImage === "string" && localImage !== c.imageId) {
    drift.push({
      kind: "image.updated",
      service: s.name,
      container: c.name,
      observed: { image: s.image, image_id: c.imageId },
      expected: { image: s.image, image_id: localImage },
      detail: {},
    });
    recreate = true;
  }
  if (adopted) {
    const r = judgeAdopted(m, s, c, inputs, judged);
    if (r.unknown.length)
      warnings.push(
        `service ${s.name}: ${r.unknown.join(", ")} of the Compose-created container ${c.name} could not be compared (a \${VAR} value or the image is not available here)`,
      );
    if (r.changed.length) {
      drift.push({
        kind: "config.changed",
        service: s.name,
        container: c.name,
        observed: { spec_hash: null },
        expected: { spec_hash: want.hash },
        detail: { fields: r.changed, compared: "inspected container" },
      });
      recreate = true;
    }
  }
  const observedFields = parseJsonLabel(c.labels[PLAN_LABELS.specFields]);
  const fields =
    adopted || c.specHash === want.hash
      ? []
      : observedFields
        ? changedFields(want.fields, observedFields)
        : ["(unknown: container has no field digests)"];
  if (adopted) {
    // judged above from the inspected config
  } else if (c.specHash !== want.hash) {
    const shown = fields.length ? fields : ["(spec hash differs)"];
    drift.push({
      kind: "config.changed",
      service: s.name,
      container: c.name,
      observed: { spec_hash: c.specHash ?? null },
      expected: { spec_hash: want.hash },
      detail: { fields: shown },
    });
    recreate = true;
  } else {
    const desiredSecrets = inputs.secretDigests?.[`${m.name}/${s.name}`];
    const observedSecrets = parseJsonLabel(c.labels[PLAN_LABELS.secretDigests]);
    if (desiredSecrets && observedSecrets) {
      const changed = changedFields(desiredSecrets, observedSecrets).map((k) => `environment.${k}`);
      if (changed.length) {
        drift.push({
          kind: "config.changed",
          service: s.name,
          container: c.name,
          observed: { spec_hash: c.specHash ?? null },
          expected: { spec_hash: want.hash },
          detail: { fields: changed, values: "resolved value changed" },
        });
        recreate = true;
      }
    }
  }
  if (recreate)
    actions.push({
      type: "recreate",
      service: s.name,
      container: c.name,
      cause: drift.find((d) => d.kind !== "container.duplicate")?.kind ?? "config.changed",
    });

  if (oneShot) {
    if (exitedSuccessfully(c) && inputs.rerun && !recreate) {
      actions.push({ type: "run-once", service: s.name, container: c.name, cause: "rerun" });
    }
    if (!exitedSuccessfully(c)) {
      drift.push({
        kind: "container.state.exited_success",
        service: s.name,
        container: c.name,
        observed: stateFacts(c),
        expected: { status: "exited", exit_code: 0, oom_killed: false },
        detail: {},
      });
      if (c.running && !recreate)
        actions.push({ type: "wait", service: s.name, container: c.name, cause: "container.state.exited_success" });
      else if (!recreate) actions.push({ type: "run-once", service: s.name, container: c.name, cause: "container.state.exited_success" });
    }
    if (recreate)
      actions.push({
        type: "run-once",
        service: s.name,
        container: keepName,
        cause: actions.find((a) => a.type === "recreate")?.cause ?? "config.changed",
      });
    return { drift, actions, warnings };
  }

  const notRunning = c.status !== "running";
  if (notRunning) {
    drift.push({
      kind: "container.state.not_running",
      service: s.name,
      container: c.name,
      observed: stateFacts(c),
      expected: { status: "running" },
      detail: {},
    });
  } else if (s.expectedState === "healthy" && c.health === "unhealthy") {
    drift.push({
      kind: "container.state.unhealthy",
      service: s.name,
      container: c.name,
      observed: stateFacts(c),
      expected: { health: "healthy" },
      detail: {},
    });
    if (!recreate) {
      actions.push({ type: "recreate", service: s.name, container: c.name, cause: "container.state.unhealthy" });
      recreate = true;
    }
  }
  if (recreate || notRunning) {
    actions.push({
      type: "start",
      service: s.name,
      container: recreate ? keepName : c.name,
      cause: recreate ? (actions.find((a) => a.type === "recreate")?.cause ?? "config.changed") : "container.state.not_running",
    });
  } else if (s.expectedState === "healthy" && c.health === "starting") {
    actions.push({ type: "wait", service: s.name, container: c.name, cause: "health.starting" });
  }
  return { drift, actions, warnings };
}

/**
 * Each adopted container's comparison with its service, made once per `computePlan` call: planning and the plan's
 * fingerprint judge the same containers against the same inputs. Scoped to one call (never module-level), so a
 * comparison can never outlive the inputs it was made from; an entry is reused only for the same module and service.
 */
type Judgements = Map<ObservedContainer, { m: Module; s: Service; result: AdoptionComparison }>;

/** Compares an adopted container's inspected config with its service; unknown everything when it was not observed. */
function judgeAdopted(m: Module, s: Service, c: ObservedContainer, inputs: PlanInputs, judged?: Judgements): AdoptionComparison {
  const known = judged?.get(c);
  if (known && known.m === m && known.s === s) return known.result;
  const result = compareAdoptedOf(m, s, c, inputs);
  judged?.set(c, { m, s, result });
  return result;
}

function compareAdoptedOf(m: Module, s: Service, c: ObservedContainer, inputs: PlanInputs): AdoptionComparison {
  if (!c.config) return { changed: ["(unknown: the container's config was not observed)"], unknown: [] };
  const desired = inputs.adoptionDigests?.[`${m.name}/${s.name}`] ?? {
    environment: Object.fromEntries(Object.keys(s.environment).map((k) => [k, null])),
    command: s.command && null,
    entrypoint: s.entrypoint && null,
    healthcheckTest: s.healthcheck && null,
  };
  return compareAdopted({
    service: s,
    moduleDir: m.dir,
    composeProject: c.compose?.project ?? composeProjectOf(m, inputs.project) ?? inputs.project,
    config: c.config,
    labels: c.labels,
    image: inputs.observed.imageConfigs?.[s.image] ?? null,
    desired,
  });
}

/**
 * The stateful ratchet: a module whose manifest says `stateful: false` while a live container of it, or a volume
 * created for it, carries `dev.platformctl.stateful=true`. One item per such container (its service) and per such
 * volume (the first declared service mounting it, else the module's first service). No action of its own: the item
 * keeps the module judged stateful until the manifest says stateful again or the labelled resources are gone. A
 * resource without the label (made before the label existed) never triggers it: absent is unknown, not stateless.
 */
function statefulRemoved(m: Module, containers: readonly ObservedContainer[], inputs: PlanInputs): Drift[] {
  if (m.stateful) return [];
  const drift: Drift[] = [];
  for (const c of containers.filter((x) => x.labels[PLAN_LABELS.stateful] === "true"))
    drift.push({
      kind: "module.stateful_removed",
      service: c.service,
      container: c.name,
      observed: { label: `${PLAN_LABELS.stateful}=true` },
      expected: { stateful: false },
      detail: { resource: "container" },
    });
  for (const v of inputs.observed.volumes.filter((x) => x.module === m.name && x.stateful === true)) {
    const mounting = m.services.find((s) =>
      s.volumes.some((x) => x.type === "volume" && x.source !== undefined && resourceName(inputs.project, x.source) === v.name),
    );
    drift.push({
      kind: "module.stateful_removed",
      service: (mounting ?? m.services[0])?.name ?? "",
      container: null,
      observed: { label: `${PLAN_LABELS.stateful}=true` },
      expected: { stateful: false },
      detail: { resource: "volume", volume: v.name },
    });
  }
  return drift;
}

function orphanDrift(c: ObservedContainer, reason: string): Drift {
  return {
    kind: "container.orphaned",
    service: c.service,
    container: c.name,
    observed: { module: c.module, service: c.service, status: c.status },
    expected: { declared: false },
    detail: { reason },
  };
}

/** Computes the plan. Pure and deterministic: no clock, no I/O, stable ordering everywhere. */
export function computePlan(inputs: PlanInputs): Plan {
  const byModule = new Map<string, ObservedContainer[]>();
  const ordered = [...inputs.observed.containers].sort((a, b) => order(a.name, b.name) || order(a.id, b.id));
  for (const c of ordered) byModule.set(c.module, [...(byModule.get(c.module) ?? []), c]);
  const declared = new Map(inputs.catalog.map((m) => [m.name, m]));
  const selected = inputs.selected?.length ? new Set(inputs.selected) : undefined;
  const plans: ModulePlan[] = [];
  const judged: Judgements = new Map();

  for (const m of inputs.catalog) {
    if (selected && !selected.has(m.name)) continue;
    const specs = moduleSpecs(m);
    const containers = byModule.get(m.name) ?? [];
    const drift: Drift[] = [];
    const actions: Action[] = [];
    const warnings: string[] = [];
    for (const s of m.services) {
      const r = planService(
        m,
        s,
        containers.filter((c) => c.service === s.name),
        inputs,
        specs,
        judged,
      );
      drift.push(...r.drift);
      actions.push(...r.actions);
      warnings.push(...r.warnings);
    }
    if (m.compose?.project !== undefined && m.compose.project !== inputs.project)
      warnings.push(
        `spec.compose.project is "${m.compose.project}" but this plan is for project "${inputs.project}": Compose's containers are adopted, but apply refuses to create one (its volumes and networks would be ${inputs.project}_<name>, not Compose's); run with --project ${m.compose.project}`,
      );
    const serviceNames = new Set(m.services.map((s) => s.name));
    for (const c of containers.filter((x) => !serviceNames.has(x.service))) {
      drift.push(orphanDrift(c, `service "${c.service}" is not declared by module "${m.name}"`));
      if (inputs.prune) actions.push({ type: "remove", service: c.service, container: c.name, cause: "container.orphaned" });
    }
    const ratchet = statefulRemoved(m, containers, inputs);
    drift.push(...ratchet);
    plans.push({
      name: m.name,
      declared: true,
      stateful: m.stateful || ratchet.length > 0,
      expected_state: m.expectedState,
      in_sync: drift.length === 0,
      drift,
      actions,
      warnings,
    });
  }

  // Modules no longer declared at all: shown when planning everything, or when named explicitly.
  const undeclared = [...byModule.keys()].filter((name) => !declared.has(name) && (!selected || selected.has(name))).sort();
  for (const name of undeclared) {
    const containers = byModule.get(name) ?? [];
    plans.push({
      name,
      declared: false,
      stateful: false,
      expected_state: null,
      in_sync: false,
      drift: containers.map((c) => orphanDrift(c, `module "${name}" is not declared`)),
      actions: inputs.prune
        ? containers.map((c) => ({ type: "remove" as const, service: c.service, container: c.name, cause: "container.orphaned" as const }))
        : [],
      warnings: [],
    });
  }

  const fingerprint = fingerprintOf(
    inputs,
    plans.map((p) => p.name),
    judged,
  );
  return {
    format_version: PLAN_FORMAT_VERSION,
    project: inputs.project,
    generated_at: inputs.now,
    fingerprint,
    modules: plans,
    summary: { modules: plans.length, in_sync: plans.filter((p) => p.in_sync).length, drifted: plans.filter((p) => !p.in_sync).length },
  };
}

/**
 * Digest of everything a plan for these modules was computed from: manifest bytes, desired spec hashes, and each
 * observed container's id, spec hash, image, state and exit facts (whether it ran, not when: a restart by the same
 * container id does not count), its stateful label, the modules' stateful volumes, plus the local image ids; for an
 * adopted container also its comparison with the service, and the lasting-key digests of the values it is compared
 * on. Time is excluded.
 */
export function planFingerprint(inputs: PlanInputs, moduleNames: readonly string[]): string {
  return fingerprintOf(inputs, moduleNames, new Map());
}

function fingerprintOf(inputs: PlanInputs, moduleNames: readonly string[], judged: Judgements): string {
  const names = new Set(moduleNames);
  const byName = new Map(inputs.catalog.map((m) => [m.name, m]));
  /** An adopted container's comparison with its service: what the plan judged it on, beyond its id and state. */
  const adoptedJudgement = (c: ObservedContainer) => {
    const m = byName.get(c.module);
    const s = m?.services.find((x) => x.name === c.service);
    return m && s ? judgeAdopted(m, s, c, inputs, judged) : null;
  };
  const modules = inputs.catalog
    .filter((m) => names.has(m.name))
    .map((m) => ({ name: m.name, manifest: m.contentDigest, specs: [...moduleSpecs(m)].map(([s, v]) => [s, v.hash]) }));
  const containers = inputs.observed.containers
    .filter((c) => names.has(c.module))
    .sort((a, b) => order(a.module, b.module) || order(a.service, b.service) || order(a.name, b.name) || order(a.id, b.id))
    .map((c) => ({
      id: c.id,
      module: c.module,
      service: c.service,
      spec: c.specHash ?? null,
      image: c.imageRef ?? null,
      image_id: c.imageId,
      status: c.status,
      exit: c.exitCode,
      oom: c.oomKilled,
      error: c.error !== "",
      // Whether it ran, not when: a restart of the same container (a `stop` backup stops and starts it again) leaves
      // the plan as it was, so it must not make a saved plan stale. A new container has a new id.
      // (A running container's FinishedAt is the zero time until its first stop, so it is not looked at then.)
      ran: c.startedAt !== undefined && (c.running || c.finishedAt !== undefined),
      health: c.health ?? null,
      secrets: c.labels[PLAN_LABELS.secretDigests] ?? null,
      stateful: c.labels[PLAN_LABELS.stateful] ?? null,
      // Only for adopted containers, so the fingerprints of plans without any stay as they were.
      ...(isAdopted(c) ? { adopted: adoptedJudgement(c) } : {}),
    }));
  const statefulVolumes = inputs.observed.volumes
    .filter((v) => v.stateful === true && v.module !== undefined && names.has(v.module))
    .map((v) => v.name)
    .sort();
  const images = Object.fromEntries(
    inputs.catalog
      .filter((m) => names.has(m.name))
      .flatMap((m) => m.services.map((s) => [s.image, inputs.observed.images[s.image] ?? null])),
  );
  const ofPlanned = <T>(digests: Readonly<Record<string, T>> | undefined) =>
    Object.fromEntries(Object.entries(digests ?? {}).filter(([k]) => names.has(k.split("/")[0] as string)));
  const secrets = ofPlanned(inputs.secretDigests);
  const adoptedValues = ofPlanned(inputs.adoptedValueDigests);
  return `sha256:${sha256Hex(canonicalJson({ v: PLAN_FORMAT_VERSION, project: inputs.project, modules, containers, statefulVolumes, images, secrets, ...(Object.keys(adoptedValues).length ? { adoptedValues } : {}), prune: Boolean(inputs.prune), rerun: Boolean(inputs.rerun) }))}`;
}
