// Reads one container through inspect and narrows the reply to an ObservedContainer (validated at the boundary).
import type { Engine } from "./connect.js";
import { requestJson, seg } from "./dial.js";
import { isEngineError } from "./errors.js";
import { toHeldValues } from "./held-values.js";
import { LABEL } from "./labels.js";
import { arrayOf, bool, int, nullish, num, object, oneOf, readReply, recordOf, str, tryRead } from "./reply-shape.js";
import type { HeldValues } from "../secrets/module-secrets.js";
import type { UnitMount } from "../runtime/runtime.js";
import { argvDigest, envDigests, portEntry } from "../plan/adoption.js";
import {
  CONTAINER_STATUSES,
  type HealthStatus,
  type ObservedConfig,
  type ObservedContainer,
  type ObservedHealthcheck,
  type ObservedImageConfig,
} from "../plan/observed-state.js";

// Only the fields platformctl reads; the readers drop the rest, so `Config.Env` (secrets) never leaves this function.
const labels = nullish(recordOf(str));
const readInspect = object({
  Id: str,
  Name: str,
  Created: str,
  Image: str,
  RestartCount: int,
  HostConfig: nullish(object({ RestartPolicy: nullish(object({ Name: nullish(str) })) })),
  Config: object({ Image: str, Labels: labels }),
  State: object({
    Status: oneOf(CONTAINER_STATUSES),
    Running: bool,
    OOMKilled: bool,
    ExitCode: int,
    Error: str,
    StartedAt: str,
    FinishedAt: str,
    Health: nullish(object({ Status: str, Log: nullish(arrayOf(object({ ExitCode: int, Output: str }))) })),
  }),
  Mounts: nullish(arrayOf(object({ Type: str, Source: str, Destination: str, RW: bool, Propagation: nullish(str) }))),
});

const HEALTH: readonly string[] = ["starting", "healthy", "unhealthy"] satisfies HealthStatus[];

/** The engine's zero time (`0001-01-01T00:00:00Z`) means "never"; it becomes undefined. */
export function engineTime(t: string): string | undefined {
  return t === "" || t.startsWith("0001-01-01") ? undefined : t;
}

/** Narrows an inspect reply; throws EngineError `unexpected` when a field platformctl relies on is missing. */
export function toObservedContainer(reply: unknown): ObservedContainer {
  const i = readReply(readInspect, reply, "read container inspect");
  const labels = { ...(i.Config.Labels ?? {}) };
  const health = i.State.Health && HEALTH.includes(i.State.Health.Status) ? (i.State.Health.Status as HealthStatus) : undefined;
  return {
    id: i.Id,
    name: i.Name.replace(/^\//, ""),
    module: labels[LABEL.module] ?? "",
    service: labels[LABEL.service] ?? "",
    labels,
    specHash: labels[LABEL.specHash],
    imageRef: labels[LABEL.imageRef],
    configImage: i.Config.Image,
    imageId: i.Image,
    status: i.State.Status,
    running: i.State.Running,
    exitCode: i.State.ExitCode,
    oomKilled: i.State.OOMKilled,
    error: i.State.Error,
    startedAt: engineTime(i.State.StartedAt),
    finishedAt: engineTime(i.State.FinishedAt),
    health,
    healthLog: health ? (i.State.Health?.Log ?? []).map((p) => ({ exitCode: p.ExitCode, output: p.Output })) : [],
    restartCount: i.RestartCount,
    restartPolicy: i.HostConfig?.RestartPolicy?.Name ?? "",
    createdAt: i.Created,
    mounts: toContainerMounts(i.Mounts),
  };
}

/**
 * A container's mounts as the mount checks read them, ordered by destination: the engine lists them from a map, so
 * two inspects of one container may give them in different orders (the observe test saw it in CI).
 */
export function toContainerMounts(
  mounts:
    | readonly { Type: string; Source: string; Destination: string; RW: boolean; Propagation?: string | undefined }[]
    | null
    | undefined,
): UnitMount[] {
  return (mounts ?? [])
    .map((m) => ({ type: m.Type, source: m.Source, destination: m.Destination, readOnly: !m.RW, propagation: m.Propagation ?? "" }))
    .sort((a, b) => (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0));
}

const argv = nullish(arrayOf(str));
const readHealthcheck = nullish(
  object({ Test: argv, Interval: nullish(num), Timeout: nullish(num), StartPeriod: nullish(num), Retries: nullish(num) }),
);
/** The config fields an adopted container is compared on. `Env` and the argv fields leave only as keyed digests. */
const readConfig = object({
  Config: object({
    Env: argv,
    Cmd: argv,
    Entrypoint: argv,
    User: nullish(str),
    WorkingDir: nullish(str),
    StopSignal: nullish(str),
    StopTimeout: nullish(num),
    Healthcheck: readHealthcheck,
  }),
  HostConfig: nullish(
    object({
      RestartPolicy: nullish(object({ Name: nullish(str) })),
      Memory: nullish(num),
      PortBindings: nullish(recordOf(nullish(arrayOf(object({ HostIp: nullish(str), HostPort: nullish(str) }))))),
    }),
  ),
  Mounts: nullish(arrayOf(object({ Type: str, Name: nullish(str), Source: nullish(str), Destination: str, RW: bool }))),
  NetworkSettings: nullish(object({ Networks: nullish(recordOf((v) => v)) })),
});

function healthcheckOf(hc: ReturnType<typeof readHealthcheck>, key: Uint8Array): ObservedHealthcheck | null {
  if (!hc) return null;
  return {
    test: argvDigest(key, hc.Test),
    intervalNs: hc.Interval ?? 0,
    timeoutNs: hc.Timeout ?? 0,
    startPeriodNs: hc.StartPeriod ?? 0,
    retries: hc.Retries ?? 0,
  };
}

/** The digested config of an inspect reply (for adoption); null when the reply lacks it. Values never leave as text. */
export function toObservedConfig(reply: unknown, key: Uint8Array): ObservedConfig | null {
  const r = tryRead(readConfig, reply);
  if (!r) return null;
  const { Config: c, HostConfig: h, Mounts: mounts, NetworkSettings: n } = r;
  return {
    env: envDigests(key, c.Env ?? []),
    command: argvDigest(key, c.Cmd),
    entrypoint: argvDigest(key, c.Entrypoint),
    user: c.User ?? "",
    workingDir: c.WorkingDir ?? "",
    stopSignal: c.StopSignal ?? "",
    restart: h?.RestartPolicy?.Name ?? "",
    healthcheck: healthcheckOf(c.Healthcheck, key),
    mounts: (mounts ?? []).map((m) => ({
      type: m.Type,
      name: m.Name ?? "",
      source: m.Source ?? "",
      target: m.Destination,
      readOnly: !m.RW,
    })),
    networks: Object.keys(n?.Networks ?? {}).sort(),
    ports: portEntries(h?.PortBindings),
    memoryBytes: h?.Memory ?? 0,
    stopTimeoutSeconds: c.StopTimeout ?? null,
  };
}

/** `HostConfig.PortBindings` (`"80/tcp": [{HostIp, HostPort}]`, null for exposed-only) as sorted portEntry texts. */
function portEntries(
  bindings: Record<string, { HostIp?: string | null; HostPort?: string | null }[] | null | undefined> | null | undefined,
): string[] {
  const out: string[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const [target = key, protocol = "tcp"] = key.split("/");
    for (const b of list ?? []) out.push(portEntry(b.HostIp ?? "", b.HostPort ?? "", target, protocol));
  }
  return out.sort();
}

const readImageConfig = object({
  Config: nullish(
    object({
      Env: argv,
      Cmd: argv,
      Entrypoint: argv,
      User: nullish(str),
      WorkingDir: nullish(str),
      StopSignal: nullish(str),
      Healthcheck: readHealthcheck,
      Volumes: nullish(recordOf((v) => v)),
    }),
  ),
});

/** The defaults an image inspect reply gives containers (digested like toObservedConfig). */
export function toObservedImageConfig(reply: unknown, key: Uint8Array): ObservedImageConfig {
  const c: Partial<NonNullable<ReturnType<typeof readImageConfig>["Config"]>> = tryRead(readImageConfig, reply)?.Config ?? {};
  return {
    env: envDigests(key, c.Env ?? []),
    command: argvDigest(key, c.Cmd),
    entrypoint: argvDigest(key, c.Entrypoint),
    user: c.User ?? "",
    workingDir: c.WorkingDir ?? "",
    stopSignal: c.StopSignal ?? "",
    healthcheck: healthcheckOf(c.Healthcheck, key),
    volumes: Object.keys(c.Volumes ?? {}).sort(),
  };
}

/**
 * Inspects one container by id or name; null when it does not exist (404). With `configKey` the digested config is
 * attached (`config`), from the same reply: adoption costs no extra request. `onHeld` gets the values the container
 * holds (for masking only) from the same reply, when they can be read.
 */
export async function inspectContainer(
  engine: Engine,
  idOrName: string,
  signal?: AbortSignal,
  configKey?: Uint8Array,
  onHeld?: (held: HeldValues) => void,
): Promise<ObservedContainer | null> {
  try {
    const reply = await requestJson(engine, {
      method: "GET",
      path: `/containers/${seg(idOrName)}/json`,
      operation: "inspect container",
      target: idOrName,
      signal,
    });
    const c = toObservedContainer(reply);
    if (configKey) c.config = toObservedConfig(reply, configKey) ?? undefined;
    if (onHeld) {
      const held = toHeldValues(reply);
      if (held) onHeld(held);
    }
    return c;
  } catch (e) {
    if (isEngineError(e, "not_found")) return null;
    throw e;
  }
}
