// Reads what a container holds (Env, Entrypoint, Cmd, Healthcheck) only to mask it: never shown, never stored, never in ObservedState.
import { z } from "zod";
import type { HeldValues } from "../secrets/module-secrets.js";
import type { Engine } from "./connect.js";
import { requestJson, seg } from "./dial.js";
import { isEngineError } from "./errors.js";

const HeldSchema = z.object({
  Config: z.object({
    Env: z.array(z.string()).nullish(),
    Entrypoint: z.array(z.string()).nullish(),
    Cmd: z.array(z.string()).nullish(),
    Healthcheck: z.object({ Test: z.array(z.string()).nullish() }).nullish(),
  }),
});

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
    const r = HeldSchema.safeParse(reply);
    if (!r.success) return null;
    return {
      env: r.data.Config.Env ?? [],
      entrypoint: r.data.Config.Entrypoint ?? null,
      cmd: r.data.Config.Cmd ?? null,
      healthcheck: r.data.Config.Healthcheck?.Test ?? null,
    };
  } catch (e) {
    if (isEngineError(e, "not_found")) return null;
    throw e;
  }
}
