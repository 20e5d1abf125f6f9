// The manifest-cache key of a Compose-sourced module's result: everything it was computed from, environment values only as an HMAC.
import { createHash, createHmac } from "node:crypto";
import type { Problem } from "../manifest/problems.js";

/** SHA-256 of a file's bytes, once per bytes object (a Compose file shared by N modules is read once per load). */
const digests = new WeakMap<Uint8Array, string>();
function digestOf(got: Uint8Array | Problem | undefined): string {
  if (got === undefined) return "unread";
  if (!(got instanceof Uint8Array)) return `problem:${got.code}:${got.message}`;
  let d = digests.get(got);
  if (d === undefined) {
    d = createHash("sha256").update(got).digest("hex");
    digests.set(got, d);
  }
  return d;
}

/**
 * The key of a Compose-sourced result: the manifest's own key (build, options, path, directory name, bytes), each
 * Compose file read with its bytes' digest (or the problem reading it gave), how reading the env_file went, and an
 * HMAC under the cache's own key of the values (or absence) of the variables the files interpolate when read.
 * Every input a result depends on is in it, so an edited file, a changed value or env_file, or another build is a
 * miss; no value is in it, not even a plain digest of one (a short secret's plain digest can be guessed).
 */
export function composeResultKey(parts: {
  manifestKey: string;
  files: readonly string[];
  read: ReadonlyMap<string, Uint8Array | Problem>;
  env: Readonly<Record<string, string | undefined>>;
  names: readonly string[];
  /** The problems reading the inputs gave (the env_file's). */
  problems: readonly Problem[];
  digestKey: Uint8Array;
  /**
   * The values digests already made within one catalog load under this same `env` and `digestKey`, by the names' JSON
   * (modules without an env_file share both); filled as they are made. Never shared across envs, keys or loads.
   */
  valueDigests?: Map<string, string>;
}): string {
  const memoKey = parts.valueDigests && JSON.stringify(parts.names);
  let values = memoKey === undefined ? undefined : parts.valueDigests?.get(memoKey);
  if (values === undefined) {
    values = createHmac("sha256", parts.digestKey)
      .update(JSON.stringify(parts.names.map((n) => [n, parts.env[n] ?? null])))
      .digest("hex");
    if (memoKey !== undefined) parts.valueDigests?.set(memoKey, values);
  }
  return createHash("sha256")
    .update(
      JSON.stringify([
        parts.manifestKey,
        parts.files.map((f) => [f, digestOf(parts.read.get(f))]),
        parts.problems.map((p) => `${p.code}:${p.path}:${p.message}`),
        parts.names,
        values,
      ]),
    )
    .digest("hex");
}
