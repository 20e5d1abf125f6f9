// Reads what a container holds (Env, Entrypoint, Cmd, Healthcheck) only to mask it: never shown, never stored, never in ObservedState.
import type { HeldValues } from "../secrets/module-secrets.js";
import type { Engine } from "./connect.js";
import { requestJson, seg } from "./dial.js";
import { isEngineError } from "./errors.js";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** An array of strings, null or absent (undefined: anything else). */
function argv(v: unknown): readonly string[] | null | undefined {
  if (v === null || v === undefined) return null;
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
}

/**
 * The held values in an inspect reply; null when the reply does not have them in the shape the engine documents
 * (`Config` an object; `Env`, `Entrypoint`, `Cmd`, `Healthcheck.Test` arrays of strings or null). Pure.
 */
export function toHeldValues(reply: unknown): HeldValues | null {
  const config = isRecord(reply) ? reply.Config : undefined;
  if (!isRecord(config)) return null;
  const env = argv(config.Env);
  const entrypoint = argv(config.Entrypoint);
  const cmd = argv(config.Cmd);
  const hc = config.Healthcheck;
  if (hc !== null && hc !== undefined && !isRecord(hc)) return null;
  const healthcheck = isRecord(hc) ? argv(hc.Test) : null;
  if (env === undefined || entrypoint === undefined || cmd === undefined || healthcheck === undefined) return null;
  return { env: env ?? [], entrypoint, cmd, healthcheck };
}

/** The container's own values for masking; null when it does not exist or the reply cannot be read. */
export async function inspectHeldValues(engine: Engine, idOrName: string, signal?: AbortSignal): Promise<HeldValues | null> {
  try {
    const reply = await requestJson(engine, {
      method: "GET",
      path: `/containers/${seg(idOrName)}/json`,
      operation: "inspect container",
      target: idOrName,
      signal,
    });
    return toHeldValues(reply);
  } catch (e) {
    if (isEngineError(e, "not_found")) return null;
    throw e;
  }
}
