// THE masker: every output path (container logs, probe output, engine messages, policy reasons, audit) masks through it. Pure.

export const MASK = "***";

/** Values shorter than this are not masked by default: they would blank out ordinary text. */
export const MIN_SECRET_LENGTH = 4;

export interface RedactOptions {
  /** What replaces a secret (default `***`). If it would itself spell a secret, `***`, `###` and then nothing are used. */
  placeholder?: string;
  /** Shortest value masked (default 4). The policy gate masks confirmation values of any length (1). */
  minLength?: number;
}

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/**
 * Patterns matching the secret wherever it sits in a base64 stream: for each of the 3 byte alignments, the
 * characters fully made of the secret's bits, plus the edge characters that mix the secret's bits with its
 * neighbours' (a class of the characters agreeing on the secret's bits) and the `=` padding after a final partial
 * character. Masking only the full characters would leave the edge characters (`***D4=`), which carry secret bits.
 */
function base64Patterns(bytes: Uint8Array, alphabet: string): string[] {
  const out: string[] = [];
  const bits = (i: number): number => ((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1;
  const total = bytes.length * 8;
  for (let shift = 0; shift < 3; shift++) {
    const offset = shift * 8; // bit position of the secret's first bit in its 24-bit group
    const first = Math.floor(offset / 6);
    const last = Math.ceil((offset + total) / 6); // exclusive
    let pattern = "";
    for (let c = first; c < last; c++) {
      // Character c covers stream bits [6c, 6c+6); secret bits are stream bits [offset, offset+total).
      const chars: string[] = [];
      for (let v = 0; v < 64; v++) {
        let ok = true;
        for (let b = 0; b < 6 && ok; b++) {
          const s = 6 * c + b - offset;
          if (s >= 0 && s < total && ((v >> (5 - b)) & 1) !== bits(s)) ok = false;
        }
        if (ok) chars.push(alphabet[v] as string);
      }
      pattern += chars.length === 1 ? escapeRe(chars[0] as string) : `[${chars.map(escapeRe).join("")}]`;
    }
    const partialTail = (offset + total) % 6 !== 0;
    out.push(partialTail ? `${pattern}=*` : pattern);
  }
  return out;
}

/** Literal forms of a value as it commonly shows up in output: as is, JSON-escaped, URL-encoded, each line of it. */
function literalForms(secret: string): string[] {
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  for (const line of secret.split(/\r?\n/)) if (line.length >= MIN_SECRET_LENGTH) forms.add(line);
  return [...forms].filter((f) => f.length > 0);
}

/** The value's bytes in hex (`xxd -p`, `od`-free dumps, digests printed raw), lower and upper case. */
function hexForms(bytes: Uint8Array): string[] {
  const lower = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return [lower, lower.toUpperCase()];
}

/**
 * A line break as wrapped output has it: `base64` wraps at 76 columns, PEM at 64, and views indent each line or
 * prefix it (`! `, `| `). An encoding running across such breaks is matched on the text with them taken out.
 */
const LINE_BREAK = /\r?\n[ \t]*(?:[|!][ \t]*)?/g;

// Compiling the patterns costs milliseconds; output paths mask the same set again and again. Bounded memo.
const compiled = new Map<string, RegExp | undefined>();

/** One regular expression matching every form of every secret (literal, escaped, base64 at any alignment). */
function matcherFor(secrets: readonly string[], minLength: number): RegExp | undefined {
  const key = JSON.stringify([minLength, ...secrets]);
  if (compiled.has(key)) return compiled.get(key);
  const re = compile(secrets, minLength);
  if (compiled.size >= 64) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, re);
  return re;
}

function compile(secrets: readonly string[], minLength: number): RegExp | undefined {
  const alternatives = new Set<string>();
  for (const s of new Set(secrets)) {
    if (s.length < minLength || s.length === 0) continue;
    for (const f of literalForms(s)) alternatives.add(escapeRe(f));
    // Base64 of a very short value would match ordinary text; 3 bytes give at least 4 fully determined characters.
    const bytes = new TextEncoder().encode(s);
    if (bytes.length >= 3) {
      for (const a of [STD, URL_SAFE]) for (const p of base64Patterns(bytes, a)) alternatives.add(p);
      for (const h of hexForms(bytes)) alternatives.add(h);
    }
  }
  if (alternatives.size === 0) return undefined;
  return new RegExp([...alternatives].sort((a, b) => b.length - a.length).join("|"), "g");
}

/** Every match of `re` in `text`, overlapping ones included, merged into disjoint spans. */
function spans(text: string, re: RegExp): [number, number][] {
  const found: [number, number][] = [];
  for (let i = 0; i < text.length; ) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) break;
    const end = m.index + Math.max(1, m[0].length);
    found.push([m.index, end]);
    i = m.index + 1; // overlapping matches: a later one may reach further
  }
  found.push(...acrossLines(text, re));
  found.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const merged: [number, number][] = [];
  for (const [a, b] of found) {
    const lastSpan = merged.at(-1);
    if (lastSpan && a <= lastSpan[1]) lastSpan[1] = Math.max(lastSpan[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

/**
 * Matches of `re` on `text` with its line breaks taken out (a wrapped base64 or a value split over lines), mapped back
 * to spans of `text` that take the breaks in between with them.
 */
function acrossLines(text: string, re: RegExp): [number, number][] {
  const at: number[] = []; // index in `text` of each character of the joined text
  let joined = "";
  let from = 0;
  const take = (to: number) => {
    for (let i = from; i < to; i++) at.push(i);
    joined += text.slice(from, to);
  };
  for (const m of text.matchAll(LINE_BREAK)) {
    take(m.index);
    from = m.index + m[0].length;
  }
  if (from === 0) return [];
  take(text.length);
  const out: [number, number][] = [];
  for (let i = 0; i < joined.length; ) {
    re.lastIndex = i;
    const m = re.exec(joined);
    if (!m) break;
    const end = m.index + Math.max(1, m[0].length);
    const a = at[m.index] as number;
    const b = (at[end - 1] as number) + 1;
    // only what runs across a break is new here; matches within a line were found on the text itself
    if (text.slice(a, b).includes("\n")) out.push([a, b]);
    i = m.index + 1;
  }
  return out;
}

/**
 * Replaces every occurrence of every secret (as is, JSON-escaped, URL-encoded, per line, hex, and base64/base64url at
 * every alignment including the edge characters and padding; also when wrapped over lines, as `base64` wraps at 76
 * columns) with a placeholder. Overlapping matches are merged.
 */
export function redact(text: string, secrets: readonly string[], opts: RedactOptions = {}): string {
  const minLength = opts.minLength ?? MIN_SECRET_LENGTH;
  const re = matcherFor(secrets, minLength);
  if (!re) return text;
  const found = spans(text, re);
  if (found.length === 0) return text;
  const live = secrets.filter((s) => s.length >= minLength && s.length > 0);
  for (const placeholder of [opts.placeholder ?? MASK, MASK, "###", ""]) {
    let out = "";
    let at = 0;
    for (const [a, b] of found) {
      out += text.slice(at, a) + placeholder;
      at = b;
    }
    out += text.slice(at);
    if (live.every((s) => !out.includes(s))) return out;
  }
  return "";
}

/** A masking function bound to a set of secrets: what output paths are handed. */
export type Mask = (text: string) => string;

/** Binds `redact` to `secrets` (compiled once). */
export function maskerFor(secrets: readonly string[], opts: RedactOptions = {}): Mask {
  const list = [...secrets];
  return (text) => redact(text, list, opts);
}
