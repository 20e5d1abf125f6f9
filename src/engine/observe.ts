// Takes the ObservedState of one project: one label-filtered list, then inspects; read-only (GET requests only).
import { z } from "zod";
import type { Engine } from "./connect.js";
import { imageSeg, requestJson } from "./dial.js";
import { EngineError, isEngineError } from "./errors.js";
import { inspectContainer } from "./inspect-container.js";
import { LABEL } from "./labels.js";
import type { ObservedContainer, ObservedNetwork, ObservedState, ObservedVolume } from "../plan/observed-state.js";
import { labelledListQuery, listContainersQuery } from "./requests.js";

export interface ObserveOptions {
  signal?: AbortSignal | undefined;
  /** Inspects in flight at once (default 16): inspect takes a per-container lock in the engine. */
  concurrency?: number | undefined;
}

const ListSchema = z.array(z.object({ Id: z.string() }));
const LabelsSchema = z.record(z.string(), z.string()).nullish();
const VolumesSchema = z.object({ Volumes: z.array(z.object({ Name: z.string(), Labels: LabelsSchema })).nullish() });
const NetworksSchema = z.array(z.object({ Name: z.string(), Labels: LabelsSchema }));
const ImageSchema = z.object({ Id: z.string() });

/**
 * Observes `project`: exactly one `GET /containers/json?all=1` filtered on the project label, one inspect per
 * container found (a container removed in between is skipped), one `GET /images/{ref}/json` per distinct ref
 * (absent -> null), and one label-filtered volume list and network list. Issues no mutating request.
 */
export async function observe(
  engine: Engine,
  project: string,
  imageRefs: readonly string[],
  opts: ObserveOptions = {},
): Promise<ObservedState> {
  const { signal } = opts;
  const refs = [...new Set(imageRefs)].sort();
  const [list, images, volumes, networks] = await Promise.all([
    requestJson(engine, {
      method: "GET",
      path: "/containers/json",
      query: listContainersQuery(project),
      operation: "list containers of project",
      target: project,
      signal,
    }),
    Promise.all(refs.map(async (ref) => [ref, await imageId(engine, ref, signal)] as const)),
    observeVolumes(engine, project, signal),
    observeNetworks(engine, project, signal),
  ]);
  const ids = parse(ListSchema, list, "list containers").map((c) => c.Id);
  const inspected = await mapLimit(ids, opts.concurrency ?? 16, (id) => inspectContainer(engine, id, signal));
  const containers = inspected
    .filter((c): c is ObservedContainer => c !== null && c.labels[LABEL.project] === project)
    .sort((a, b) => cmp(a.module, b.module) || cmp(a.service, b.service) || cmp(a.name, b.name));
  return { project, containers, images: Object.fromEntries(images), volumes, networks };
}

/** The local image id `ref` resolves to, or null when the engine has no such image. */
export async function imageId(engine: Engine, ref: string, signal?: AbortSignal): Promise<string | null> {
  try {
    const reply = await requestJson(engine, {
      method: "GET",
      path: `/images/${imageSeg(ref)}/json`,
      operation: "inspect image",
      target: ref,
      signal,
    });
    return parse(ImageSchema, reply, "inspect image").Id;
  } catch (e) {
    if (isEngineError(e, "not_found")) return null;
    throw e;
  }
}

async function observeVolumes(engine: Engine, project: string, signal?: AbortSignal): Promise<ObservedVolume[]> {
  const reply = await requestJson(engine, {
    method: "GET",
    path: "/volumes",
    query: labelledListQuery(project),
    operation: "list volumes of project",
    target: project,
    signal,
  });
  return (parse(VolumesSchema, reply, "list volumes").Volumes ?? [])
    .filter((v) => v.Labels?.[LABEL.project] === project)
    .map((v) => ({ name: v.Name, module: v.Labels?.[LABEL.module], stateful: v.Labels?.[LABEL.stateful] === "true" }))
    .sort((a, b) => cmp(a.name, b.name));
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
  return parse(NetworksSchema, reply, "list networks")
    .filter((n) => n.Labels?.[LABEL.project] === project)
    .map((n) => ({ name: n.Name }))
    .sort((a, b) => cmp(a.name, b.name));
}

function parse<T>(schema: z.ZodType<T>, reply: unknown, operation: string): T {
  const r = schema.safeParse(reply);
  if (r.success) return r.data;
  throw new EngineError({ kind: "unexpected", operation, engineMessage: r.error.issues[0]?.message, cause: r.error });
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
