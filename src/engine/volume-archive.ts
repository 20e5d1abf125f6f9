// Reads and writes a named volume's content as tar through the engine's archive endpoints, via a never-started helper.
import { randomBytes } from "node:crypto";
import { pipeline, type Readable, Transform } from "node:stream";
import { createContainer, removeContainer } from "./actions.js";
import type { Engine } from "./connect.js";
import { BODY_IDLE_MS, openStream, readBody, requestJson, seg } from "./dial.js";
import { EngineError, isEngineError } from "./errors.js";
import { LABEL } from "./labels.js";
import { COMPOSE_LABEL } from "../plan/adoption.js";
import { helperUnitName, resourceName } from "../plan/unit-name.js";
import type { VolumeAccessOptions } from "../runtime/runtime.js";
import { nullish, object, readReply, recordOf, str } from "./reply-shape.js";

/** Where the helper mounts the volume. */
const MOUNT_POINT = "/volume";
/** The helper's entrypoint: never run (the helper is never started), so the image needs no shell or binary. */
const NEVER_RUN = ["/platformctl-volume-helper-is-never-started"];

/** Bound of a volume write (upload and extraction) when the caller gives none. */
const DEFAULT_TRANSFER_MS = 3_600_000;

/**
 * A pass-through that fails with `engine.unresponsive` when no bytes came through for `idleMs` (an engine that stops
 * sending mid-archive), so a read of volume content is bounded like every other engine reply.
 */
function stallGuard(call: { operation: string; target: string; endpoint: string }, idleMs: number): Transform {
  let timer: NodeJS.Timeout | undefined;
  const guard: Transform = new Transform({
    transform(chunk, _enc, done) {
      arm();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(err, done) {
      clearTimeout(timer);
      done(err);
    },
  });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        guard.destroy(
          new EngineError({
            ...call,
            kind: "unresponsive",
            message: `Docker engine: ${call.operation} ${call.target} stalled for ${idleMs / 1000} s`,
          }),
        ),
      idleMs,
    );
  };
  arm();
  return guard;
}

const volumeReply = object({ Name: str, Labels: nullish(recordOf(str)) });

/**
 * Body of `POST /containers/create` for the helper holding a volume: no network, no restart, the volume at
 * `/volume`, marked as service `_volume` of the volume's module.
 */
export function volumeHelperBody(project: string, module: string, volume: string, image: string, readOnly: boolean) {
  return {
    Image: image,
    Entrypoint: NEVER_RUN,
    Labels: { [LABEL.project]: project, [LABEL.module]: module, [LABEL.service]: "_volume" },
    HostConfig: {
      Mounts: [{ Type: "volume" as const, Source: volume, Target: MOUNT_POINT, ReadOnly: readOnly }],
      NetworkMode: "none",
      RestartPolicy: { Name: "no" },
    },
  };
}

/** Streams the content of project volume `volume` as tar (entries `./…`) into `consume`; the helper is always removed. */
export async function readVolume<T>(
  engine: Engine,
  project: string,
  volume: string,
  consume: (tar: Readable) => Promise<T>,
  opts: VolumeAccessOptions,
): Promise<T> {
  return withHelper(engine, project, volume, true, opts, async (id) => {
    // `/volume/.` archives the directory's content with entries rooted at `.`, as `docker cp vol/. dest` does.
    const res = await openStream(engine, {
      method: "GET",
      path: `/containers/${seg(id)}/archive`,
      query: { path: `${MOUNT_POINT}/.` },
      operation: "read volume archive",
      target: resourceName(project, volume),
      signal: opts.signal,
    });
    const call = { operation: "read volume archive", target: resourceName(project, volume), endpoint: engine.endpoint };
    const tar = stallGuard(call, BODY_IDLE_MS);
    pipeline(res, tar, () => undefined); // errors reach the consumer through `tar`
    try {
      return await consume(tar);
    } finally {
      res.destroy();
      tar.destroy();
    }
  });
}

/** Extracts tar stream `tar` into project volume `volume`; the helper is always removed. */
export async function writeVolume(
  engine: Engine,
  project: string,
  volume: string,
  tar: Readable,
  opts: VolumeAccessOptions,
): Promise<void> {
  await withHelper(engine, project, volume, false, opts, async (id) => {
    const call = { operation: "write volume archive", target: resourceName(project, volume) };
    const res = await openStream(engine, {
      // The engine answers once it has extracted the whole upload: the transfer's bound, not a request deadline.
      headersMs: opts.timeoutMs ?? DEFAULT_TRANSFER_MS,
      method: "PUT",
      path: `/containers/${seg(id)}/archive`,
      query: { path: MOUNT_POINT },
      upload: tar,
      ...call,
      signal: opts.signal,
    });
    await readBody(res, { ...call, endpoint: engine.endpoint }, opts.signal);
  });
}

async function withHelper<T>(
  engine: Engine,
  project: string,
  volume: string,
  readOnly: boolean,
  opts: VolumeAccessOptions,
  use: (id: string) => Promise<T>,
): Promise<T> {
  const full = resourceName(project, volume);
  const module = await ownedVolumeModule(engine, project, full, opts.signal);
  const name = helperUnitName(project, module, readOnly ? "volume-read" : "volume-write", randomBytes(4).toString("hex"));
  // Created without the caller's signal (the create has its own deadline): an abort in the middle of the create would
  // leave the engine finishing a helper whose id we never learn, so nothing would remove it. `use` honours the abort.
  const id = await createContainer(engine, name, volumeHelperBody(project, module, full, opts.helperImage, readOnly));
  try {
    return await use(id);
  } finally {
    // Not under the caller's signal: an aborted read must still remove its helper.
    await removeContainer(engine, id, { force: true }).catch(() => undefined); // best effort: a leftover helper is labelled, never started
  }
}

/** The module label of project volume `full`; throws not_found when absent and conflict when not the project's. */
async function ownedVolumeModule(engine: Engine, project: string, full: string, signal?: AbortSignal): Promise<string> {
  let reply: unknown;
  try {
    reply = await requestJson(engine, { method: "GET", path: `/volumes/${seg(full)}`, operation: "inspect volume", target: full, signal });
  } catch (e) {
    if (isEngineError(e, "not_found"))
      throw new EngineError({
        kind: "not_found",
        operation: "inspect volume",
        target: full,
        statusCode: 404,
        message: `Docker engine: volume ${full} does not exist`,
      });
    throw e;
  }
  const v = readReply(volumeReply, reply, "inspect volume");
  // A volume Docker Compose created for a project of this name is the Compose-sourced modules' (adoption).
  if (v.Labels?.[LABEL.project] !== project && v.Labels?.[COMPOSE_LABEL.project] !== project) {
    throw new EngineError({
      kind: "conflict",
      operation: "access volume",
      target: full,
      message: `Docker engine: volume ${full} is not labelled ${LABEL.project}=${project}; platformctl does not touch it`,
    });
  }
  return v.Labels?.[LABEL.module] ?? "project";
}
