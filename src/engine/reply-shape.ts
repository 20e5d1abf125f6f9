// Hand-written narrowing of engine replies at the boundary: each reader checks one value and says where and what it expected.
import { EngineError } from "./errors.js";

/**
 * Reads `value` (found at `path` in a reply) as a T, or throws ReplyShapeError. Object readers keep only the fields
 * they list, so anything else in a reply (e.g. `Config.Env`, which holds secrets) never leaves the reader.
 */
export type Read<T> = (value: unknown, path: string) => T;

/** A reply field that is missing or of the wrong type: `Config.Labels.a: expected string, received number`. */
export class ReplyShapeError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly received: string,
  ) {
    super(`${path || "(reply)"}: expected ${expected}, received ${received}`);
    this.name = "ReplyShapeError";
  }
}

const kindOf = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
const fail = (path: string, expected: string, v: unknown): never => {
  throw new ReplyShapeError(path, expected, kindOf(v));
};
const at = (path: string, key: string | number): string => (path ? `${path}.${key}` : String(key));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export const str: Read<string> = (v, p) => (typeof v === "string" ? v : fail(p, "string", v));
export const num: Read<number> = (v, p) => (typeof v === "number" && Number.isFinite(v) ? v : fail(p, "number", v));
export const int: Read<number> = (v, p) => (typeof v === "number" && Number.isInteger(v) ? v : fail(p, "integer", v));
export const bool: Read<boolean> = (v, p) => (typeof v === "boolean" ? v : fail(p, "boolean", v));

/** Absent or null read as undefined; anything else must be a T. */
export const nullish =
  <T>(read: Read<T>): Read<T | undefined> =>
  (v, p) =>
    v === null || v === undefined ? undefined : read(v, p);

/** Null stays null (absent is an error); anything else must be a T. */
export const nullable =
  <T>(read: Read<T>): Read<T | null> =>
  (v, p) =>
    v === null ? null : read(v, p);

export const arrayOf =
  <T>(read: Read<T>): Read<T[]> =>
  (v, p) =>
    Array.isArray(v) ? v.map((x, i) => read(x, at(p, i))) : fail(p, "array", v);

export const recordOf =
  <T>(read: Read<T>): Read<Record<string, T>> =>
  (v, p) => {
    if (!isObject(v)) return fail(p, "object", v);
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = read(x, at(p, k));
    return out;
  };

/** One of a closed set of strings. */
export const oneOf =
  <T extends string>(values: readonly T[]): Read<T> =>
  (v, p) =>
    typeof v === "string" && (values as readonly string[]).includes(v) ? (v as T) : fail(p, `one of ${values.join(", ")}`, v);

/** An object with (at least) the listed fields; the result holds only those. */
export function object<S extends Record<string, Read<unknown>>>(shape: S): Read<{ [K in keyof S]: ReturnType<S[K]> }> {
  const entries = Object.entries(shape);
  return (v, p) => {
    if (!isObject(v)) return fail(p, "object", v);
    const out: Record<string, unknown> = {};
    for (const [k, read] of entries) out[k] = read(v[k], at(p, k));
    return out as { [K in keyof S]: ReturnType<S[K]> };
  };
}

/**
 * Reads a reply, or throws EngineError `unexpected` naming the operation, its target (a project for a list) and the
 * first field that did not fit with what was expected there (kinds only: a reply's values may hold secrets).
 */
export function readReply<T>(read: Read<T>, reply: unknown, operation: string, target?: string): T {
  try {
    return read(reply, "");
  } catch (e) {
    if (!(e instanceof ReplyShapeError)) throw e;
    const where = target === undefined ? operation : `${operation} ${target}`;
    const what = e.path ? e.message : `expected ${e.expected}, received ${e.received}`;
    throw new EngineError({
      kind: "unexpected",
      operation,
      target,
      engineMessage: e.message,
      cause: e,
      message: `Docker engine: ${where} failed: unexpected reply (${what})`,
    });
  }
}

/** Reads a reply; undefined when it does not fit. */
export function tryRead<T>(read: Read<T>, reply: unknown): T | undefined {
  try {
    return read(reply, "");
  } catch (e) {
    if (e instanceof ReplyShapeError) return undefined;
    throw e;
  }
}
