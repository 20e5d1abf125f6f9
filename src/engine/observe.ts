// Takes the ObservedState of one project: one container list, then inspects; read-only (GET requests only).
import type { Engine } from "./connect.js";
import { imageSeg, requestJson } from "./dial.js";
import { isEngineError } from "./errors.js";
import { inspectContainer, toObservedImageConfig } from "./inspect-container.js";
import { LABEL } from "./labels.js";
import { adoptionMatcher, COMPOSE_LABEL, type Adoption, type AdoptionRule } from "../plan/adoption.js";
import type { ObservedContainer, ObservedImageConfig, ObservedNetwork, ObservedState, ObservedVolume } from "../plan/observed-state.js";
import { arrayOf, nullish, object, readReply, recordOf, str } from "./reply-shape.js";
import { labelledListQuery, listContainersQuery } from "./requests.js";
import type { HeldValues } from "../secrets/module-secrets.js";

export interface ObserveOptions {
  signal?: AbortSignal | undefined;
  /** Inspects in flight at once (default 16): inspect takes a per-container lock in the engine. */
  concurrency?: number | undefined;
  /** Compose-created containers and volumes the catalog owns (adoptionOf); empty or absent: only the project's own. */
  adoption?: Adoption | undefined;
  /**
   * Key for digesting adopted containers' config and the images' defaults (ObservedConfig): given, each adopted
   * container's `config` and `ObservedState.imageConfigs` are filled from the replies already fetched.
   */
  configKey?: Uint8Array | undefined;
  /** Gets each container's held values (for masking only) from its inspect reply: see `Runtime.observe`. */
  onHeld?: ((id: string, held: HeldValues) => void) | undefined;
  /** Inspect and return only the containers of these modules (the list is still one request); undefined: all. */
  modules?: readonly string[] | undefined;
  /**
   * Container names likely to exist (a module's own service names): inspected while the list is fetched, one round
   * trip fewer. Only an inspect whose id the list then shows as an inspected container of the project is used; a name
   * that does not exist, or more names than `concurrency`, costs nothing more than before.
   */
  expect?: readonly string[] | undefined;
  /** Also list the project's networks (restore's clean-up); without it `networks` is empty. */
  networks?: boolean | undefined;
}

/** An inspect made before the list said which containers exist, with the values it read for masking. */
interface EarlyInspect {
  container: ObservedContainer;
  held: HeldValues | undefined;
}

const labels = nullish(recordOf(str));
const readList = arrayOf(object({ Id: str, Labels: labels }));
const readVolumes = object({ Volumes: nullish(arrayOf(object({ Name: str, Labels: labels }))) });
const readNetworks = arrayOf(object({ Name: str, Labels: labels }));
const readImage = object({ Id: str });

/**
 * Observes `project`: exactly one `GET /containers/json?all=1` (filtered on the project label; unfiltered when there
 * is something to adopt, since the engine ANDs label filters and Compose's labels are not platformctl's, then selected
 * by the list's labels), one inspect per container found of the modules asked for (a container removed in between is
 * skipped; the expected names' inspects run beside the list), one `GET /images/{ref}/json` per distinct ref (absent ->
 * null), one volume list, and a label-filtered network list when asked for. Issues no mutating request.
 */
export async function observe(
  engine: Engine,
  project: string,
  imageRefs: readonly string[],
  opts: ObserveOptions = {},
): Promise<ObservedState> {
  const { signal, configKey, onHeld } = opts;
  const adoption = opts.adoption?.rules.length || opts.adoption?.volumes.length ? opts.adoption : undefined;
  const refs = [...new Set(imageRefs)].sort();
  const concurrency = opts.concurrency ?? 16;
  const expected = [...new Set(opts.expect ?? [])];
  const early = expected.length <= concurrency ? expected.map((name) => inspectEarly(engine, name, signal)) : [];
  const [list, images, volumes, networks] = await Promise.all([
    requestJson(engine, {
      method: "GET",
      path: "/containers/json",
      query: adoption ? { all: 1 } : listContainersQuery(project),
      operation: "list containers of project",
      target: project,
      signal,
    }),
    Promise.all(refs.map(async (ref) => [ref, await imageFacts(engine, ref, signal, configKey)] as const)),
    observeVolumes(engine, project, adoption, signal),
    opts.networks ? observeNetworks(engine, project, signal) : [],
  ]);
  const match = adoption && adoptionMatcher(adoption);
  const wanted = opts.modules && new Set(opts.modules);
  const listed = readReply(readList, list, "list containers of project", project).filter((c) => {
    const own = c.Labels?.[LABEL.project] === project;
    const rule = match?.(c.Labels ?? {});
    if (!own && rule === undefined) return false;
    // A container's module is its own label once platformctl made it, else the adoption rule's (Compose-created).
    return !wanted || wanted.has(c.Labels?.[LABEL.module] ?? rule?.module ?? "");
  });
  const earlyById = new Map((await Promise.all(early)).flatMap((e) => (e ? [[e.container.id, e] as const] : [])));
  const inspected = await mapLimit(listed, concurrency, async (l) => {
    const held = onHeld && ((h: HeldValues) => onHeld(l.Id, h));
    if (!match || match(l.Labels ?? {}) === undefined) {
      const pre = earlyById.get(l.Id);
      if (!pre) return inspectContainer(engine, l.Id, signal, undefined, held);
      if (pre.held) held?.(pre.held);
      return pre.container;
    }
    // Compose-created: its config is compared only while platformctl has not recreated it (no spec hash of its own).
    const own = l.Labels?.[LABEL.specHash] !== undefined;
    return adopted(await inspectContainer(engine, l.Id, signal, own ? undefined : configKey, held), match);
  });
  const containers = inspected
    .filter((c): c is ObservedContainer => c !== null && (c.labels[LABEL.project] === project || c.compose !== undefined))
    .sort((a, b) => cmp(a.module, b.module) || cmp(a.service, b.service) || cmp(a.name, b.name));
  const imageConfigs: Record<string, ObservedImageConfig> = {};
  for (const [ref, f] of images) if (f?.config) imageConfigs[ref] = f.config;
  return {
    project,
    containers,
    images: Object.fromEntries(images.map(([ref, f]) => [ref, f?.id ?? null])),
    ...(configKey ? { imageConfigs } : {}),
    volumes,
    networks,
  };
}

/**
 * A Compose-created container as the module owning its service sees it (platformctl's own labels win once it has
 * recreated it); null when its labels no longer match.
 */
function adopted(
  c: ObservedContainer | null,
  match: (labels: Readonly<Record<string, string>>) => AdoptionRule | undefined,
): ObservedContainer | null {
  const rule = c && match(c.labels);
  if (!c || !rule) return null;
  return {
    ...c,
    module: c.module || rule.module,
    service: c.service || rule.service,
    compose: { project: rule.composeProject, service: rule.service },
  };
}

/** `name` inspected ahead of the list; undefined when it does not exist or the read failed. */
async function inspectEarly(engine: Engine, name: string, signal: AbortSignal | undefined): Promise<EarlyInspect | undefined> {
  let held: HeldValues | undefined;
  const keep = (h: HeldValues) => {
    held = h;
  };
  // Safe: a failed early read is not reported here; a container the list shows is then inspected again, which reports it.
  const container = await inspectContainer(engine, name, signal, undefined, keep).catch(() => null);
  return container ? { container, held } : undefined;
}

async function imageFacts(
  engine: Engine,
  ref: string,
  signal: AbortSignal | undefined,
  configKey: Uint8Array | undefined,
): Promise<{ id: string; config: ObservedImageConfig | undefined } | null> {
  const reply = await inspectImage(engine, ref, signal);
  if (reply === null) return null;
  return { id: readReply(readImage, reply, "inspect image").Id, config: configKey ? toObservedImageConfig(reply, configKey) : undefined };
}

async function inspectImage(engine: Engine, ref: string, signal?: AbortSignal): Promise<unknown> {
  try {
    return await requestJson(engine, {
      method: "GET",
      path: `/images/${imageSeg(ref)}/json`,
      operation: "inspect image",
      target: ref,
      signal,
    });
  } catch (e) {
    if (isEngineError(e, "not_found")) return null;
    throw e;
  }
}

/** The local image id `ref` resolves to, or null when the engine has no such image. */
export async function imageId(engine: Engine, ref: string, signal?: AbortSignal): Promise<string | null> {
  const reply = await inspectImage(engine, ref, signal);
  return reply === null ? null : readReply(readImage, reply, "inspect image").Id;
}

async function observeVolumes(
  engine: Engine,
  project: string,
  adoption: Adoption | undefined,
  signal?: AbortSignal,
): Promise<ObservedVolume[]> {
  const reply = await requestJson(engine, {
    method: "GET",
    path: "/volumes",
    query: adoption?.volumes.length ? {} : labelledListQuery(project),
    operation: "list volumes of project",
    target: project,
    signal,
  });
  const adoptable = new Map((adoption?.volumes ?? []).map((v) => [v.name, v]));
  const out: ObservedVolume[] = [];
  for (const v of readReply(readVolumes, reply, "list volumes of project", project).Volumes ?? []) {
    if (v.Labels?.[LABEL.project] === project)
      out.push({ name: v.Name, module: v.Labels?.[LABEL.module], stateful: v.Labels?.[LABEL.stateful] === "true" });
    else {
      const a = adoptable.get(v.Name);
      if (a && v.Labels?.[COMPOSE_LABEL.project] === a.composeProject) out.push({ name: v.Name, module: a.module, stateful: false });
    }
  }
  return out.sort((a, b) => cmp(a.name, b.name));
}

async function observeNetworks(engine: Engine, project: string, signal?: AbortSignal): Promise<ObservedNetwork[]> {
  const reply = await requestJson(engine, {
    method: "GET",
    path: "/networks",
    query: labelledListQuery(project),
    operation: "list networks of project",
    target: project,
    signal,
  });
  return readReply(readNetworks, reply, "list networks of project", project)
    .filter((n) => n.Labels?.[LABEL.project] === project)
    .map((n) => ({ name: n.Name }))
    .sort((a, b) => cmp(a.name, b.name));
}

/** Maps with at most `limit` calls in flight; results keep the input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
