// Hardened YAML reading: bytes in, one plain-data document (or located problems) out; no I/O.
import YAML, { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from "yaml";
import type { Problem, ProblemCode } from "./problems.js";
import { MAX_MANIFEST_BYTES } from "./vocabulary.js";

export { MAX_MANIFEST_BYTES };
export const MAX_DEPTH = 64;
export const MAX_ALIASES = 8;
export const MAX_KEYS_PER_MAP = 1000;
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** A parsed manifest document: the plain value and a way to locate any field path in the source. */
export interface ParsedYaml {
  value: unknown;
  /** Line and column (1-based) of the node at `path`, or of its nearest existing parent. `key` points at the key instead. */
  locate(path: readonly (string | number)[], key?: boolean): { line: number; column: number };
  /** Nodes carrying a tag the options accepted (empty for manifests). */
  tags: TaggedNode[];
}

export type ParseResult = { ok: true; parsed: ParsedYaml } | { ok: false; problems: Problem[] };

/** What a reader of another YAML dialect may relax; manifests use none of it. */
export interface ParseYamlOptions {
  /** Tags accepted (Compose's `!reset`, `!override`); each tagged node is listed in `tags` of the result. */
  tags?: readonly string[];
  /** Accept YAML merge keys `<<` (Compose fragments use them). */
  mergeKeys?: boolean;
  /** Aliases allowed (default {@link MAX_ALIASES}). */
  maxAliases?: number;
}

/** A node carrying an accepted tag, by field path. */
export interface TaggedNode {
  path: (string | number)[];
  tag: string;
}

const HINTS: Partial<Record<ProblemCode, string>> = {
  "yaml.syntax": "Fix the YAML syntax at this position.",
  "yaml.document_count": "Keep exactly one YAML document per module.yaml.",
  "yaml.not_mapping": "A manifest is a mapping starting with `apiVersion: platformctl/v1`.",
  "yaml.directive": "Remove the directive: manifests are always read as YAML 1.2 (core schema).",
  "yaml.duplicate_key": "Remove one of the two keys.",
  "yaml.non_scalar_key": "Use a plain string key.",
  "yaml.prototype_key": "Remove this key.",
  "yaml.merge_key": "Write the merged keys out explicitly.",
  "yaml.tag": "Remove the tag; quote the value if it must be a string.",
  "yaml.alias_limit": "Write the values out instead of using aliases.",
  "yaml.too_deep": "Flatten the structure.",
  "yaml.too_many_keys": "Split the mapping.",
  "file.too_large": "Manifests are small: remove generated content or split the module.",
  "file.not_utf8": "Save the file as UTF-8.",
  "file.bad_character": "Remove the character (save as UTF-8 without BOM).",
};

/** Characters never accepted anywhere in a manifest: NUL and other C0/C1 controls (tab, LF, CR excepted), BOM, bidi controls. */
const BAD_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFEFF\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

/**
 * Reads one manifest from raw bytes. Every check that protects the reader runs before or instead of trusting the
 * YAML library's defaults: size, UTF-8, characters, directives, flow nesting, duplicate keys (linear, `1` == `"1"`),
 * prototype keys, merge keys, tags, aliases and depth. Never throws on any input.
 */
export function parseYaml(file: string, bytes: Uint8Array, options: ParseYamlOptions = {}): ParseResult {
  const maxAliases = options.maxAliases ?? MAX_ALIASES;
  const acceptedTags = new Set(options.tags ?? []);
  const tagged: TaggedNode[] = [];
  const problem = (code: ProblemCode, message: string, line = 0, column = 0, path = ""): Problem => ({
    file,
    line,
    column,
    path,
    code,
    message,
    hint: HINTS[code] ?? "",
  });

  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    return { ok: false, problems: [problem("file.too_large", `file is ${bytes.byteLength} bytes; the limit is ${MAX_MANIFEST_BYTES}`)] };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { ok: false, problems: [problem("file.not_utf8", "file is not valid UTF-8")] };
  }
  const lineCounter = new LineCounter();
  const bad = BAD_CHAR.exec(text);
  if (bad) {
    const { line, col } = positionOf(text, bad.index);
    const cp = (bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    return { ok: false, problems: [problem("file.bad_character", `forbidden character U+${cp}`, line, col)] };
  }
  const flow = scanFlow(text);
  const nesting = flow.depth > MAX_DEPTH ? flow : maxCompactDepth(text);
  if (nesting.depth > MAX_DEPTH) {
    const { line, col } = positionOf(text, nesting.at);
    return { ok: false, problems: [problem("yaml.too_deep", `nesting deeper than ${MAX_DEPTH} levels`, line, col)] };
  }
  if (flow.wideMapAt !== undefined) {
    const { line, col } = positionOf(text, flow.wideMapAt);
    return { ok: false, problems: [problem("yaml.too_many_keys", `mapping has more than ${MAX_KEYS_PER_MAP} keys`, line, col)] };
  }

  let docs: Document.Parsed[];
  try {
    docs = YAML.parseAllDocuments(text, {
      version: "1.2",
      schema: "core",
      merge: options.mergeKeys === true,
      uniqueKeys: false, // checked below in linear time, with `1` and "1" treated as the same key
      strict: true,
      prettyErrors: false,
      lineCounter,
    }) as Document.Parsed[];
  } catch (e) {
    // The parser itself failed (for example, a stack overflow on pathological block nesting).
    return {
      ok: false,
      problems: [
        problem("yaml.too_deep", `the YAML parser gave up: ${e instanceof RangeError ? "structure too deep" : "unreadable structure"}`),
      ],
    };
  }
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };

  if (!Array.isArray(docs) || docs.length !== 1) {
    const n = Array.isArray(docs) ? docs.length : 0;
    if (n === 0) return { ok: false, problems: [problem("yaml.document_count", "file holds no YAML document")] };
    // Point at the second document, where the file stops being one manifest.
    const { line, column } = at((docs[1] as Document.Parsed).range?.[0] ?? 0);
    return { ok: false, problems: [problem("yaml.document_count", `file holds ${n} YAML documents; expected exactly one`, line, column)] };
  }
  const doc = docs[0] as Document.Parsed;
  const problems: Problem[] = [];
  // The library catches its own stack overflow on deep block nesting (`- - - …`) and reports it as an error;
  // that is a nesting problem, not a syntax one, and its message is an engine internal, so it is replaced.
  const exhausted = doc.errors.find((e) => e.code === "RESOURCE_EXHAUSTION");
  if (exhausted) {
    const { line, column } = at(exhausted.pos[0]);
    return { ok: false, problems: [problem("yaml.too_deep", `nesting deeper than ${MAX_DEPTH} levels`, line, column)] };
  }
  for (const err of doc.errors) {
    const { line, column } = at(err.pos[0]);
    problems.push(problem("yaml.syntax", firstLine(err.message), line, column));
  }
  if (problems.length) return { ok: false, problems };
  if (doc.directives?.yaml.explicit || text.split("\n").some((l) => l.startsWith("%"))) {
    return { ok: false, problems: [problem("yaml.directive", "YAML directives (%YAML, %TAG) are not allowed", 1, 1)] };
  }
  for (const w of doc.warnings) {
    // Tag warnings are left to the walk below, which reports every tagged node once.
    if (w.code === "TAG_RESOLVE_FAILED" || w.code === "BAD_COLLECTION_TYPE") continue;
    const { line, column } = at(w.pos[0]);
    problems.push(problem("yaml.syntax", firstLine(w.message), line, column));
  }

  let aliases = 0;
  const walk = (node: unknown, depth: number, path: string, segs: (string | number)[]): void => {
    if (depth > MAX_DEPTH) {
      const { line, column } = at((node as Node).range?.[0] ?? 0);
      problems.push(problem("yaml.too_deep", `nesting deeper than ${MAX_DEPTH} levels`, line, column, path));
      throw new StopWalk();
    }
    if (isAlias(node)) {
      aliases += 1;
      if (aliases === maxAliases + 1) {
        const { line, column } = at(node.range?.[0] ?? 0);
        problems.push(problem("yaml.alias_limit", `more than ${maxAliases} aliases`, line, column, path));
      }
      return;
    }
    const n = node as Node | null;
    if (n && "tag" in n && n.tag && !isPair(n) && acceptedTags.has(n.tag)) tagged.push({ path: segs, tag: n.tag });
    else if (n && "tag" in n && n.tag && !isPair(n)) {
      const { line, column } = at(tagOffset(text, n.range?.[0] ?? 0));
      problems.push(problem("yaml.tag", `explicit tag ${n.tag} is not allowed`, line, column, path));
    }
    if (isMap(node)) {
      if (node.items.length > MAX_KEYS_PER_MAP) {
        const { line, column } = at(node.range?.[0] ?? 0);
        problems.push(
          problem("yaml.too_many_keys", `mapping has ${node.items.length} keys; the limit is ${MAX_KEYS_PER_MAP}`, line, column, path),
        );
        return;
      }
      const seen = new Set<string>();
      for (const pair of node.items) {
        const k = pair.key as Node | null;
        const kpos = at((k as Node | null)?.range?.[0] ?? node.range?.[0] ?? 0);
        if (!isScalar(k) || isAlias(k)) {
          problems.push(problem("yaml.non_scalar_key", "keys must be plain scalars", kpos.line, kpos.column, path));
          continue;
        }
        if (k.tag) {
          const tpos = at(tagOffset(text, k.range?.[0] ?? 0));
          problems.push(problem("yaml.tag", `explicit tag ${k.tag} is not allowed`, tpos.line, tpos.column, path));
        }
        const name = String(k.value);
        const childPath = path ? `${path}.${name}` : name;
        if (PROTOTYPE_KEYS.has(name))
          problems.push(problem("yaml.prototype_key", `key "${name}" is not allowed`, kpos.line, kpos.column, childPath));
        else if (name === "<<" && k.type === "PLAIN" && options.mergeKeys !== true)
          problems.push(problem("yaml.merge_key", "merge keys (<<) are not allowed", kpos.line, kpos.column, childPath));
        if (seen.has(name)) problems.push(problem("yaml.duplicate_key", `duplicate key "${name}"`, kpos.line, kpos.column, childPath));
        seen.add(name);
        walk(pair.value, depth + 1, childPath, [...segs, name]);
      }
    } else if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) walk(item, depth + 1, `${path}[${i}]`, [...segs, i]);
    }
  };
  try {
    walk(doc.contents, 1, "", []);
  } catch (e) {
    if (!(e instanceof StopWalk)) throw e;
  }
  if (problems.length) return { ok: false, problems };

  if (!isMap(doc.contents)) {
    const { line, column } = at(doc.contents?.range?.[0] ?? 0);
    return { ok: false, problems: [problem("yaml.not_mapping", "the document is not a mapping", line, column)] };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: maxAliases * 4 });
  } catch {
    return { ok: false, problems: [problem("yaml.alias_limit", "aliases expand too far")] };
  }

  const locate = (path: readonly (string | number)[], key = false): { line: number; column: number } => {
    let node: unknown = doc.contents;
    let best = at((doc.contents as Node).range?.[0] ?? 0);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return best;
        const last = i === path.length - 1;
        // An empty value (`stateful:`) has a zero-width range after the colon; the key is the useful place to point.
        const empty = pair.value === null || (isScalar(pair.value) && pair.value.range?.[0] === pair.value.range?.[1]);
        const target = (last && key) || empty ? (pair.key as Node) : (pair.value as Node);
        best = at(target.range?.[0] ?? 0);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg] as Node | undefined;
        if (!item) return best;
        best = at(item.range?.[0] ?? 0);
        node = item;
      } else {
        return best;
      }
    }
    return best;
  };
  return { ok: true, parsed: { value, locate, tags: tagged } };
}

class StopWalk extends Error {}

/**
 * Where the tag of the node starting at `start` is written: a node's range begins after its properties
 * (`!tag`, `&anchor`, in either order), so the tag is found by stepping back over them. Falls back to `start`.
 */
function tagOffset(text: string, start: number): number {
  let end = start;
  for (let props = 0; props < 2; props++) {
    let j = end - 1;
    while (j >= 0 && /\s/.test(text[j] ?? "")) j--;
    if (j < 0) return start;
    let k = j;
    while (k > 0 && !/[\s[{,]/.test(text[k - 1] ?? "")) k--;
    if (text[k] === "!") return k;
    if (text[k] !== "&") return start;
    end = k;
  }
  return start;
}

function firstLine(s: string): string {
  return (s.split("\n")[0] ?? s).replace(/ at line \d+, column \d+:?$/, "");
}

function positionOf(text: string, index: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < index; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      last = i;
    }
  }
  return { line, col: index - last };
}

/**
 * Deepest run of compact block indicators on one line (`- - - x`, `? ? x`): each opens a nested collection, so a
 * long run overflows the parser's stack like deep flow nesting does. Checked before parsing, for the same reason.
 */
function maxCompactDepth(text: string): { depth: number; at: number } {
  let max = 0;
  let at = 0;
  const indicators = /^[ \t]*((?:[-?][ \t]+)+)/gm;
  for (let m = indicators.exec(text); m; m = indicators.exec(text)) {
    const run = m[1] as string;
    let depth = 0;
    for (let i = 0; i < run.length; i++) {
      if (run[i] !== "-" && run[i] !== "?") continue;
      depth++;
      if (depth > max) {
        max = depth;
        at = m.index + (m[0].length - run.length) + i;
      }
      if (max > MAX_DEPTH) return { depth: max, at };
    }
  }
  return { depth: max, at };
}

/**
 * Deepest `[`/`{` nesting outside quotes and comments, and the first flow mapping with more than
 * {@link MAX_KEYS_PER_MAP} entries: both checked before parsing, so deep flow input cannot overflow the parser's
 * stack and a huge flow mapping is refused without the parser's slow pass over it.
 */
function scanFlow(text: string): { depth: number; at: number; wideMapAt: number | undefined } {
  let max = 0;
  let at = 0;
  const open: { map: boolean; at: number; commas: number }[] = [];
  let quote: string | null = null;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (comment) {
      if (c === "\n") comment = false;
      continue;
    }
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    // A quote opens a quoted scalar only where a scalar can start; an apostrophe inside a plain scalar
    // (`don't`) must not hide the brackets that follow it.
    if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1] ?? ""))) quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1] ?? ""))) comment = true;
    else if (c === "[" || c === "{") {
      open.push({ map: c === "{", at: i, commas: 0 });
      if (open.length > max) {
        max = open.length;
        at = i;
      }
      if (max > MAX_DEPTH) return { depth: max, at, wideMapAt: undefined };
    } else if (c === "]" || c === "}") open.pop();
    else if (c === ",") {
      const top = open[open.length - 1];
      // n commas separate at least n entries (a trailing comma is allowed), so this never refuses 1000 keys.
      if (top && ++top.commas > MAX_KEYS_PER_MAP && top.map) return { depth: max, at, wideMapAt: top.at };
    }
  }
  return { depth: max, at, wideMapAt: undefined };
}
