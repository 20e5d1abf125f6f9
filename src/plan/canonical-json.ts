// Canonical JSON (sorted keys, no undefined) and the digests built on it: the basis of spec hashes and fingerprints.
import { createHash, createHmac } from "node:crypto";

/** JSON with object keys sorted at every level and undefined members dropped, so equal values give equal text. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "null" : canonicalJson(x))).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(",")}}`;
}

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

/** A keyed digest for values that may be secret: without the key it reveals nothing, not even equality with a guess. */
export const keyedDigest = (key: Uint8Array, text: string): string => createHmac("sha256", key).update(text).digest("hex").slice(0, 32);
