// Reads one container through inspect and narrows the reply to an ObservedContainer (validated at the boundary).
import { z } from "zod";
import type { Engine } from "./connect.js";
import { requestJson, seg } from "./dial.js";
import { EngineError, isEngineError } from "./errors.js";
import { LABEL } from "./labels.js";
import { CONTAINER_STATUSES, type ContainerStatus, type HealthStatus, type ObservedContainer } from "../plan/observed-state.js";

// Only the fields platformctl reads; zod drops the rest, so `Config.Env` (secrets) never leaves this function.
const InspectSchema = z.object({
  Id: z.string(),
  Name: z.string(),
  Created: z.string(),
  Image: z.string(),
  RestartCount: z.number().int(),
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
    createdAt: i.Created,
  };
}

/** Inspects one container by id or name; null when it does not exist (404). */
export async function inspectContainer(engine: Engine, idOrName: string, signal?: AbortSignal): Promise<ObservedContainer | null> {
  try {
    const reply = await requestJson(engine, {
      method: "GET",
      path: `/containers/${seg(idOrName)}/json`,
      operation: "inspect container",
      target: idOrName,
      signal,
    });
    return toObservedContainer(reply);
  } catch (e) {
    if (isEngineError(e, "not_found")) return null;
    throw e;
  }
}
