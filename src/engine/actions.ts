// The mutating engine calls apply performs, one small function each; none of them decides anything.
import type { Engine } from "./connect.js";
import { demuxFrames } from "./demux.js";
import { openStream, readUntil, requestJson, seg } from "./dial.js";
import { EngineError, isEngineError } from "./errors.js";
import { redact } from "../secrets/masker.js";
import { LABEL } from "./labels.js";
import { COMPOSE_LABEL } from "../plan/adoption.js";
import { resourceName } from "../plan/unit-name.js";
import type { EnsuredResource, ExecResult } from "../runtime/runtime.js";
import { bool, int, nullable, nullish, object, readReply, recordOf, str, tryRead } from "./reply-shape.js";
import {
  createBodyRequest,
  execCreateBody,
  execStartBody,
  networkCreateBody,
  removeQuery,
  stopQuery,
  volumeCreateBody,
} from "./requests.js";

const readId = object({ Id: str });
const labelledReply = object({ Name: str, Labels: nullish(recordOf(str)) });
const readExecState = object({ Running: bool, ExitCode: nullable(int) });

/** Output kept from one exec: the last 64 KiB, enough for any probe message and bounded for a chatty command. */
const EXEC_OUTPUT_LIMIT = 64 * 1024;

/**
 * Creates a container named `name` from `body` (Config, HostConfig, NetworkingConfig, Labels) and returns its id.
 * The body travels only in the request body; the URL carries just the name. An engine message echoing one of the
 * body's `Env` values is masked before it reaches the error.
 */
export async function createContainer(engine: Engine, name: string, body: object, signal?: AbortSignal): Promise<string> {
  const req = createBodyRequest(name, body);
  try {
    const reply = await requestJson(engine, {
      method: "POST",
      path: "/containers/create",
      query: req._query,
      body: req._body,
      operation: "create container",
      target: name,
      signal,
    });
    return parseId(reply, "create container");
  } catch (e) {
    throw maskEnv(e, body);
  }
}

/** Starts a container; `already-running` when it was (304). A runtime failure (bad binary) throws `bad_request`. */
export async function startContainer(engine: Engine, id: string, signal?: AbortSignal): Promise<"started" | "already-running"> {
  try {
    await requestJson(engine, { method: "POST", path: `/containers/${seg(id)}/start`, operation: "start container", target: id, signal });
    return "started";
  } catch (e) {
    if (isEngineError(e, "not_modified")) return "already-running";
    throw e;
  }
}

/** Stops a container: its StopSignal (default SIGTERM), then SIGKILL after `graceSeconds`. Resolves once it stopped; 304 -> `already-stopped`. */
export async function stopContainer(
  engine: Engine,
  id: string,
  graceSeconds: number,
  signal?: AbortSignal,
): Promise<"stopped" | "already-stopped"> {
  try {
    await requestJson(engine, {
      method: "POST",
      path: `/containers/${seg(id)}/stop`,
      query: stopQuery(graceSeconds),
      operation: "stop container",
      target: id,
      signal,
      headersMs: (stopQuery(graceSeconds).t + 60) * 1000,
    });
    return "stopped";
  } catch (e) {
    if (isEngineError(e, "not_modified")) return "already-stopped";
    throw e;
  }
}

/** Removes a container, never its volumes; `absent` when it was already gone. `force` kills a running one first. */
export async function removeContainer(
  engine: Engine,
  id: string,
  opts: { force?: boolean; signal?: AbortSignal } = {},
): Promise<"removed" | "absent"> {
  try {
    await requestJson(engine, {
      method: "DELETE",
      path: `/containers/${seg(id)}`,
      query: removeQuery(opts.force ?? false),
      operation: "remove container",
      target: id,
      signal: opts.signal,
    });
    return "removed";
  } catch (e) {
    if (isEngineError(e, "not_found")) return "absent";
    throw e;
  }
}

/** Renames a container (e.g. out of the way before a replacement is created); 409 when the name is taken. */
export async function renameContainer(engine: Engine, id: string, newName: string, signal?: AbortSignal): Promise<void> {
  await requestJson(engine, {
    method: "POST",
    path: `/containers/${seg(id)}/rename`,
    query: { name: newName },
    operation: "rename container",
    target: id,
    signal,
  });
}

/**
 * Makes sure the project network `resourceName(project, name)` exists, creating it labelled when absent. A network of that
 * name without this project's label is not adopted (unless Docker Compose created it for a project of that name:
 * Compose-sourced modules share it): that throws `engine.conflict`.
 */
export async function ensureNetwork(engine: Engine, project: string, name: string, signal?: AbortSignal): Promise<EnsuredResource> {
  const full = resourceName(project, name);
  const read = () => readLabelled(engine, "network", `/networks/${seg(full)}`, full, project, signal, true);
  if (await read()) return { name: full, created: false };
  try {
    await requestJson(engine, {
      method: "POST",
      path: "/networks/create",
      body: networkCreateBody(project, full),
      operation: "create network",
      target: full,
      signal,
    });
    return { name: full, created: true };
  } catch (e) {
    // Another apply created it between our read and create (CheckDuplicate -> 409): fine if it is ours.
    if (isEngineError(e, "conflict") && (await read())) return { name: full, created: false };
    throw e;
  }
}

/**
 * Makes sure the module volume `resourceName(project, name)` exists, creating it labelled when absent (with the
 * stateful label when `stateful`: an existing volume is never relabelled, Docker cannot). A volume of that
 * name without this project's label is not adopted (unless Docker Compose created it for a project of that name:
 * Compose-sourced modules share it): that throws `engine.conflict`.
 */
export async function ensureVolume(
  engine: Engine,
  project: string,
  module: string,
  name: string,
  signal?: AbortSignal,
  stateful = false,
): Promise<EnsuredResource> {
  const full = resourceName(project, name);
  if (await readLabelled(engine, "volume", `/volumes/${seg(full)}`, full, project, signal, true)) return { name: full, created: false };
  await requestJson(engine, {
    method: "POST",
    path: "/volumes/create",
    body: volumeCreateBody(project, module, full, stateful),
    operation: "create volume",
    target: full,
    signal,
  });
  // Volume create returns an existing volume unchanged, so re-check ownership in case one appeared meanwhile.
  await readLabelled(engine, "volume", `/volumes/${seg(full)}`, full, project, signal);
  return { name: full, created: true };
}

/**
 * Removes project volume `resourceName(project, name)`; `absent` when there is none. A volume of that name without
 * this project's label is never removed (`engine.conflict`); one still mounted by a container is `engine.conflict` too.
 */
export async function removeVolume(engine: Engine, project: string, name: string, signal?: AbortSignal): Promise<"removed" | "absent"> {
  const full = resourceName(project, name);
  if (!(await readLabelled(engine, "volume", `/volumes/${seg(full)}`, full, project, signal))) return "absent";
  try {
    await requestJson(engine, { method: "DELETE", path: `/volumes/${seg(full)}`, operation: "remove volume", target: full, signal });
    return "removed";
  } catch (e) {
    if (isEngineError(e, "not_found")) return "absent";
    throw e;
  }
}

/** Removes project network `resourceName(project, name)`; `absent` when there is none; never one without the project's label. */
export async function removeNetwork(engine: Engine, project: string, name: string, signal?: AbortSignal): Promise<"removed" | "absent"> {
  const full = resourceName(project, name);
  if (!(await readLabelled(engine, "network", `/networks/${seg(full)}`, full, project, signal))) return "absent";
  try {
    await requestJson(engine, { method: "DELETE", path: `/networks/${seg(full)}`, operation: "remove network", target: full, signal });
    return "removed";
  } catch (e) {
    if (isEngineError(e, "not_found")) return "absent";
    throw e;
  }
}

/**
 * Runs `cmd` in a running container (no shell added) and returns its exit code and output, bounded by `timeoutMs`.
 * A timed-out command keeps running: the engine cannot kill an exec.
 */
export async function execInContainer(
  engine: Engine,
  id: string,
  cmd: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ExecResult> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const created = await requestJson(engine, {
    method: "POST",
    path: `/containers/${seg(id)}/exec`,
    body: execCreateBody(cmd),
    operation: "create exec in container",
    target: id,
    signal: both,
  });
  const execId = parseId(created, "create exec");
  const call = { operation: "run exec in container", target: id, endpoint: engine.endpoint };
  const res = await openStream(engine, {
    method: "POST",
    path: `/exec/${seg(execId)}/start`,
    body: execStartBody(),
    operation: call.operation,
    target: id,
    signal: both,
  });
  const { body, complete } = await readUntil(res, call, both, null); // a probe may be silent; `both` bounds it
  if (signal?.aborted) throw new EngineError({ ...call, kind: "aborted", errno: "ABORT_ERR" });
  const text = Buffer.concat(demuxFrames(body, false).map((f) => f.data));
  const output = text.subarray(Math.max(0, text.length - EXEC_OUTPUT_LIMIT)).toString("utf8");
  if (!complete) return { exitCode: null, output, timedOut: true };
  // The attach stream can end a moment before the engine records the exit code.
  for (let i = 0; i < 40; i++) {
    const state = readReply(
      readExecState,
      await requestJson(engine, { method: "GET", path: `/exec/${seg(execId)}/json`, operation: "inspect exec", target: id, signal }),
      "inspect exec",
    );
    if (!state.Running && state.ExitCode !== null) return { exitCode: state.ExitCode, output, timedOut: false };
    await new Promise((r) => setTimeout(r, 50));
  }
  return { exitCode: null, output, timedOut: false };
}

/** Reads a labelled resource: false when absent, true when it is this project's, throws conflict otherwise. */
async function readLabelled(
  engine: Engine,
  kind: "network" | "volume",
  path: string,
  full: string,
  project: string,
  signal?: AbortSignal,
  /** Also accept one Docker Compose created for a Compose project of the same name (adoption; never for removal). */
  composeToo = false,
): Promise<boolean> {
  let reply: unknown;
  try {
    reply = await requestJson(engine, { method: "GET", path, operation: `inspect ${kind}`, target: full, signal });
  } catch (e) {
    if (isEngineError(e, "not_found")) return false;
    throw e;
  }
  const r = readReply(labelledReply, reply, `inspect ${kind}`);
  // Network inspect also matches an id prefix; only an exact name counts as "exists".
  if (r.Name !== full) return false;
  if (r.Labels?.[LABEL.project] === project) return true;
  if (composeToo && r.Labels?.[COMPOSE_LABEL.project] === project) return true;
  throw new EngineError({
    kind: "conflict",
    operation: `ensure ${kind}`,
    target: full,
    message: `Docker engine: ${kind} ${full} exists but is not labelled ${LABEL.project}=${project}; platformctl does not adopt it`,
  });
}

function parseId(reply: unknown, operation: string): string {
  const r = tryRead(readId, reply);
  if (r) return r.Id;
  throw new EngineError({ kind: "unexpected", operation, engineMessage: "reply has no Id" });
}

/** Masks the body's Env values in an engine error detail (the engine may echo what it rejected). */
function maskEnv(e: unknown, body: object): unknown {
  if (!(e instanceof EngineError) || !e.detail) return e;
  const env = (body as { Env?: unknown }).Env;
  const values = Array.isArray(env) ? env.filter((x): x is string => typeof x === "string").map((x) => x.slice(x.indexOf("=") + 1)) : [];
  const detail = redact(e.detail, values);
  if (detail === e.detail) return e;
  return new EngineError({
    kind: e.kind,
    operation: e.operation,
    target: e.target,
    statusCode: e.statusCode,
    errno: e.errno,
    engineMessage: detail,
    cause: e.cause,
    message: e.message,
  });
}
