// Masks a failure's message and detail, for failures whose text no output path masked (an engine's reply quoted in it).
import { PlatformError } from "../errors.js";
import { maskerFor } from "./masker.js";

/**
 * `e` with its message and detail masked by `secrets`, in place, so its class, code and cause stay. For an engine's
 * own reply text in a failure that reaches the top-level handler unmasked, such as an observation that fails: a
 * broken or hostile engine may quote a value back.
 */
export function maskFailure(e: unknown, secrets: readonly string[]): unknown {
  if (!(e instanceof PlatformError) || secrets.length === 0) return e;
  const mask = maskerFor(secrets);
  const out = e as { -readonly [K in "message" | "detail"]: PlatformError[K] };
  out.message = mask(e.message);
  if (e.detail !== undefined) out.detail = mask(e.detail);
  return e;
}
