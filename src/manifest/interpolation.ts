// `${VAR}` references: parsing, listing and resolving them, without ever putting a resolved value into an error.

/** One `${...}` reference as written. */
export interface Reference {
  name: string;
  /** `:-`/`-` use a default, `:?`/`?` demand a value; undefined for a plain `${NAME}`. */
  operator: ":-" | "-" | ":?" | "?" | undefined;
  /** The default or the error message, as written. */
  argument: string | undefined;
}

/** A literal run or a reference, in order. */
export type Segment = { literal: string } | { ref: Reference };

const REF_BODY = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?)([^}]*))?$/;

/**
 * Splits a string into literal runs and references. `$$` is a literal `$`.
 * Returns `undefined` when the string holds a malformed reference or a lone `$`.
 */
export function parseInterpolation(text: string): Segment[] | undefined {
  const out: Segment[] = [];
  let literal = "";
  for (let i = 0; i < text.length; ) {
    const ch = text[i];
    if (ch !== "$") {
      literal += ch;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      literal += "$";
      i += 2;
      continue;
    }
    if (next !== "{") return undefined;
    const close = text.indexOf("}", i + 2);
    if (close < 0) return undefined;
    const m = REF_BODY.exec(text.slice(i + 2, close));
    if (!m) return undefined;
    if (literal) out.push({ literal });
    literal = "";
    out.push({ ref: { name: m[1] as string, operator: m[2] as Reference["operator"], argument: m[3] } });
    i = close + 1;
  }
  if (literal) out.push({ literal });
  return out;
}

/** The variable names a string references (empty for malformed strings). */
export function referencedNames(text: string): string[] {
  return (parseInterpolation(text) ?? []).flatMap((s) => ("ref" in s ? [s.ref.name] : []));
}

/** True when the whole string is exactly one reference without a literal default, e.g. `${DB_PASSWORD}` or `${X:?set X}`. */
export function isPureReference(text: string): boolean {
  const segs = parseInterpolation(text);
  if (segs?.length !== 1) return false;
  const only = segs[0] as Segment;
  return "ref" in only && (only.ref.operator === undefined || only.ref.operator === ":?" || only.ref.operator === "?");
}

export type ResolveResult =
  | {
      ok: true;
      value: string;
      /** resolved values that came from the environment; callers mask them everywhere */
      secrets: string[];
    }
  | { ok: false; missing: string; message: string };

/**
 * Resolves a string against `env`. A `${VAR:?msg}` whose variable is unset or empty fails with the variable's
 * name and the manifest's own message, never with a value.
 */
export function resolveInterpolation(text: string, env: Readonly<Record<string, string | undefined>>): ResolveResult {
  const segs = parseInterpolation(text);
  if (!segs) return { ok: false, missing: "", message: "malformed ${...} reference" };
  let value = "";
  const secrets: string[] = [];
  for (const s of segs) {
    if ("literal" in s) {
      value += s.literal;
      continue;
    }
    const { name, operator, argument } = s.ref;
    const raw = env[name];
    const unset = raw === undefined;
    const empty = raw === undefined || raw === "";
    if ((operator === ":?" && empty) || (operator === "?" && unset)) {
      return { ok: false, missing: name, message: `${name} is required: ${argument || "set it in the environment"}` };
    }
    if ((operator === ":-" && empty) || (operator === "-" && unset)) {
      value += argument ?? "";
      continue;
    }
    if (raw === undefined) return { ok: false, missing: name, message: `${name} is not set` };
    value += raw;
    if (raw !== "") secrets.push(raw);
  }
  return { ok: true, value, secrets };
}
