// Compose's interpolation dialect (compose-spec 12-interpolation.md): resolving a value, or rewriting it into platformctl's reference syntax.

/** One piece of a Compose template: a literal run or a variable reference (whose argument may itself hold references). */
type Piece = { literal: string } | { name: string; operator: ":-" | "-" | ":?" | "?" | undefined; argument: Piece[] | undefined };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Parses Compose's template syntax: `$$` is a literal `$`; `$NAME` and `${NAME}` reference a variable;
 * `${NAME:-default}`, `${NAME-default}`, `${NAME:?err}`, `${NAME?err}` with nested references in the argument.
 * A `$` followed by anything else is kept as written (the spec: "preserved without attempt to interpolate").
 */
function parseTemplate(text: string): Piece[] | { error: string } {
  const out: Piece[] = [];
  let literal = "";
  let i = 0;
  const flush = () => {
    if (literal) out.push({ literal });
    literal = "";
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch !== "$") {
      literal += ch;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      literal += "$";
      i += 2;
      continue;
    }
    if (next !== "{") {
      const m = NAME.exec(text.slice(i + 1));
      if (!m) {
        literal += "$";
        i++;
        continue;
      }
      flush();
      out.push({ name: m[0], operator: undefined, argument: undefined });
      i += 1 + m[0].length;
      continue;
    }
    // `${`: find the matching `}`, counting nested `${`.
    let depth = 1;
    let j = i + 2;
    while (j < text.length && depth > 0) {
      if (text[j] === "$" && text[j + 1] === "$") j += 2;
      else if (text[j] === "$" && text[j + 1] === "{") {
        depth++;
        j += 2;
      } else {
        if (text[j] === "}") depth--;
        j++;
      }
    }
    if (depth > 0) return { error: "an unclosed ${" };
    const body = text.slice(i + 2, j - 1);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?)([\s\S]*))?$/.exec(body);
    if (!m) return { error: `"\${${body.slice(0, 40)}}" is not a variable reference` };
    let argument: Piece[] | undefined;
    if (m[2] !== undefined) {
      const inner = parseTemplate(m[3] ?? "");
      if ("error" in inner) return inner;
      argument = inner;
    }
    flush();
    out.push({ name: m[1] as string, operator: m[2] as ":-" | "-" | ":?" | "?" | undefined, argument });
    i = j;
  }
  flush();
  return out;
}

export type ComposeResolution = { ok: true; value: string; unset: string[] } | { ok: false; message: string };

/**
 * Resolves a Compose value as `docker compose config` does: an unset variable without a default becomes empty
 * (listed in `unset` so the caller can warn); `:?`/`?` fail with the file's own message, never with a value.
 */
export function resolveComposeText(text: string, env: Readonly<Record<string, string | undefined>>): ComposeResolution {
  const pieces = parseTemplate(text);
  if ("error" in pieces) return { ok: false, message: pieces.error };
  const unset: string[] = [];
  const run = (ps: Piece[]): string | { message: string } => {
    let value = "";
    for (const p of ps) {
      if ("literal" in p) {
        value += p.literal;
        continue;
      }
      const raw = env[p.name];
      const empty = raw === undefined || raw === "";
      if ((p.operator === ":?" && empty) || (p.operator === "?" && raw === undefined)) {
        const msg = p.argument ? run(p.argument) : "";
        return { message: `${p.name} is required: ${typeof msg === "string" && msg ? msg : "set it in the environment or the env_file"}` };
      }
      if ((p.operator === ":-" && empty) || (p.operator === "-" && raw === undefined)) {
        const d = run(p.argument ?? []);
        if (typeof d !== "string") return d;
        value += d;
        continue;
      }
      if (raw === undefined) unset.push(p.name);
      value += raw ?? "";
    }
    return value;
  };
  const value = run(pieces);
  return typeof value === "string" ? { ok: true, value, unset } : { ok: false, message: value.message };
}

/** The variable names a Compose value references (nested ones included). */
export function composeReferencedNames(text: string): string[] {
  const pieces = parseTemplate(text);
  if ("error" in pieces) return [];
  const names: string[] = [];
  const walk = (ps: Piece[]) => {
    for (const p of ps) {
      if ("literal" in p) continue;
      names.push(p.name);
      if (p.argument) walk(p.argument);
    }
  };
  walk(pieces);
  return names;
}

/**
 * Rewrites a Compose value into platformctl's reference syntax, for the fields resolved at apply time (environment
 * values, command, entrypoint, healthcheck test, bind sources) so a plan never holds a resolved value: `$NAME`
 * becomes `${NAME}`, a kept lone `$` becomes `$$`. A nested reference in a default or message has no equivalent
 * and is refused.
 */
export function toNativeReferences(text: string): { ok: true; value: string } | { ok: false; message: string } {
  const pieces = parseTemplate(text);
  if ("error" in pieces) return { ok: false, message: pieces.error };
  let value = "";
  for (const p of pieces) {
    if ("literal" in p) {
      value += p.literal.replaceAll("$", () => "$$");
      continue;
    }
    const arg = p.argument ?? [];
    if (arg.some((a) => !("literal" in a)))
      return {
        ok: false,
        message: `the nested reference in \${${p.name}${p.operator ?? ""}…} is not supported in this field; write the default out`,
      };
    const text = arg.map((a) => ("literal" in a ? a.literal : "")).join("");
    if (text.includes("}")) return { ok: false, message: `the default or message of \${${p.name}} holds a "}"` };
    value += p.operator === undefined ? `\${${p.name}}` : `\${${p.name}${p.operator}${text}}`;
  }
  return { ok: true, value };
}
