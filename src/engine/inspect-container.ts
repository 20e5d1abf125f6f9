// Reads one container through inspect and narrows the reply to an ObservedContainer (validated at the boundary).
import { z } from "zod";
import type { Engine } from "./connect.js";
import { requestJson, seg } from "./dial.js";
import { EngineError, isEngineError } from "./errors.js";
import { toHeldValues } from "./held-values.js";
import { LABEL } from "./labels.js";
import type { HeldValues } from "../secrets/module-secrets.js";
import { argvDigest, envDigests } from "../plan/adoption.js";
import {
  CONTAINER_STATUSES,
  type ContainerStatus,
  type HealthStatus,
  type ObservedConfig,
  type ObservedContainer,
  type ObservedHealthcheck,
  type ObservedImageConfig,
} from "../plan/observed-state.js";

// Only the fields platformctl reads; zod drops the rest, so `Config.Env` (secrets) never leaves this function.
const InspectSchema = z.object({
  Id: z.string(),
  Name: z.string(),
  Created: z.string(),
  Image: z.string(),
  RestartCount: z.number().int(),
  HostConfig: z.object({ RestartPolicy: z.object({ Name: z.string().nullish() }).nullish() }).nullish(),
  Config: z.object({
    Image: z.string(),
    Labels: z.record(z.string(), z.string()).nullish(),
  }),
  State: z.object({
    Status: z.enum(CONTAINER_STATUSES as [ContainerStatus, ...ContainerStatus[]]),
    Running: z.boolean(),
    OOMKilled: z.boolean(),
    ExitCode: z.number().int(),
    Error: z.string(),
    StartedAt: z.string(),
    FinishedAt: z.string(),
    Health: z
      .object({
        Status: z.string(),
        Log: z.array(z.object({ ExitCode: z.number().int(), Output: z.string() })).nullish(),
      })
      .nullish(),
  }),
});

const HEALTH: readonly string[] = ["starting", "healthy", "unhealthy"] satisfies HealthStatus[];

/** The engine's zero time (`0001-01-01T00:00:00Z`) means "never"; it becomes undefined. */
export function engineTime(t: string): string | undefined {
  return t === "" || t.startsWith("0001-01-01") ? undefined : t;
}

/** Narrows an inspect reply; throws EngineError `unexpected` when a field platformctl relies on is missing. */
export function toObservedContainer(reply: unknown): ObservedContainer {
  const parsed = InspectSchema.safeParse(reply);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new EngineError({
      kind: "unexpected",
      operation: "read container inspect",
      engineMessage: first ? `${first.path.join(".")}: ${first.message}` : undefined,
      cause: parsed.error,
    });
  }
  const i = parsed.data;
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
  };
}

const Argv = z.array(z.string()).nullish();
const HealthcheckSchema = z
  .object({
    Test: Argv,
    Interval: z.number().nullish(),
    Timeout: z.number().nullish(),
    StartPeriod: z.number().nullish(),
    Retries: z.number().nullish(),
  })
  .nullish();
/** The config fields an adopted container is compared on. `Env` and the argv fields leave only as keyed digests. */
const ConfigSchema = z.object({
  Config: z.object({
    Env: z.array(z.string()).nullish(),
    Cmd: Argv,
    Entrypoint: Argv,
    User: z.string().nullish(),
    WorkingDir: z.string().nullish(),
    StopSignal: z.string().nullish(),
    Healthcheck: HealthcheckSchema,
  }),
  HostConfig: z.object({ RestartPolicy: z.object({ Name: z.string().nullish() }).nullish() }).nullish(),
  Mounts: z
    .array(
      z.object({ Type: z.string(), Name: z.string().nullish(), Source: z.string().nullish(), Destination: z.string(), RW: z.boolean() }),
    )
    .nullish(),
  NetworkSettings: z.object({ Networks: z.record(z.string(), z.unknown()).nullish() }).nullish(),
});

function healthcheckOf(hc: z.infer<typeof HealthcheckSchema>, key: Uint8Array): ObservedHealthcheck | null {
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
  const r = ConfigSchema.safeParse(reply);
  if (!r.success) return null;
  const { Config: c, HostConfig: h, Mounts: mounts, NetworkSettings: n } = r.data;
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
  };
}

const ImageConfigSchema = z.object({
  Config: z
    .object({
      Env: z.array(z.string()).nullish(),
      Cmd: Argv,
      Entrypoint: Argv,
      User: z.string().nullish(),
      WorkingDir: z.string().nullish(),
      StopSignal: z.string().nullish(),
      Healthcheck: HealthcheckSchema,
      Volumes: z.record(z.string(), z.unknown()).nullish(),
    })
    .nullish(),
});

/** The defaults an image inspect reply gives containers (digested like toObservedConfig). */
export function toObservedImageConfig(reply: unknown, key: Uint8Array): ObservedImageConfig {
  const c = ImageConfigSchema.safeParse(reply).data?.Config ?? {};
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
