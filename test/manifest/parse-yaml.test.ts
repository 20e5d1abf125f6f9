// parseYaml on plain bytes: the YAML 1.2 core reading, the hardening limits at their exact boundaries, and locations.
import { describe, expect, it } from "vitest";
import { MAX_ALIASES, MAX_DEPTH, MAX_KEYS_PER_MAP, MAX_MANIFEST_BYTES, parseYaml, type ParsedYaml } from "../../src/manifest/parse-yaml.js";
import type { Problem } from "../../src/manifest/problems.js";
import { STACK_FRAME, aManifest, bytesOf } from "./a-manifest.js";

const parse = (text: string | Uint8Array) => parseYaml("m/demo/module.yaml", bytesOf(text));

function parsed(text: string): ParsedYaml {
  const r = parse(text);
  if (!r.ok) throw new Error(`expected a parse, got ${JSON.stringify(r.problems)}`);
  return r.parsed;
}

function problems(text: string | Uint8Array): Pick<Problem, "code" | "line" | "column" | "path">[] {
  const r = parse(text);
  if (r.ok) throw new Error("expected problems, got a parse");
  return r.problems.map(({ code, line, column, path }) => ({ code, line, column, path }));
}

const codes = (text: string | Uint8Array) => problems(text).map((p) => p.code);

describe("reading a valid manifest", () => {
  it("returns the document as plain data", () => {
    const value = parsed(aManifest()).value as { spec: { runtime: { timeout_seconds: unknown }; stateful: unknown } };
    expect(value.spec.runtime.timeout_seconds).toBe(30);
    expect(value.spec.stateful).toBe(false);
  });

  it("locates a field's value, or its key when asked", () => {
    const p = parsed("a: 1\nspec:\n  runtime:\n    expected_state: running\n");
    expect(p.locate(["spec", "runtime", "expected_state"])).toEqual({ line: 4, column: 21 });
    expect(p.locate(["spec", "runtime", "expected_state"], true)).toEqual({ line: 4, column: 5 });
  });

  it("locates list items by index", () => {
    const p = parsed("list:\n  - first\n  - second\n");
    expect(p.locate(["list", 1])).toEqual({ line: 3, column: 5 });
  });

  it("falls back to the nearest existing parent for a path that is not there", () => {
    const p = parsed("spec:\n  runtime: {}\n");
    expect(p.locate(["spec", "runtime", "missing", "deeper"])).toEqual({ line: 2, column: 12 });
  });

  it("locates the key of a field that has no value", () => {
    const p = parsed("spec:\n  stateful:\n");
    expect(p.locate(["spec", "stateful"])).toEqual({ line: 2, column: 3 });
  });
});

describe("YAML 1.2 core types, never YAML 1.1", () => {
  it.each(["yes", "no", "on", "off", "y", "n", "Yes", "NO"])("keeps %s a string", (word) => {
    expect((parsed(`v: ${word}\n`).value as { v: unknown }).v).toBe(word);
  });

  it("reads 010 as ten, not as octal eight", () => {
    expect((parsed("v: 010\n").value as { v: unknown }).v).toBe(10);
  });

  it("keeps a date a string instead of turning it into a timestamp", () => {
    expect((parsed("v: 2001-12-14\n").value as { v: unknown }).v).toBe("2001-12-14");
  });

  it("reads true and false unquoted as booleans, and quoted as strings", () => {
    expect(parsed('a: true\nb: "false"\n').value).toEqual({ a: true, b: "false" });
  });

  it("reads 1e400 as Infinity, which the schema then refuses", () => {
    expect((parsed("v: 1e400\n").value as { v: unknown }).v).toBe(Infinity);
  });

  it("keeps a quoted << an ordinary key, not a merge", () => {
    expect(parsed('"<<": x\n').value).toEqual({ "<<": "x" });
  });
});

describe("the size limit", () => {
  const padded = (size: number) => `a: ${"x".repeat(size - 4)}\n`;

  it("accepts a file of exactly 256 KiB", () => {
    expect(bytesOf(padded(MAX_MANIFEST_BYTES)).byteLength).toBe(MAX_MANIFEST_BYTES);
    expect(parse(padded(MAX_MANIFEST_BYTES)).ok).toBe(true);
  });

  it("refuses a file one byte larger, as a whole-file problem", () => {
    expect(problems(padded(MAX_MANIFEST_BYTES + 1))).toEqual([{ code: "file.too_large", line: 0, column: 0, path: "" }]);
  });
});

describe("encoding and characters", () => {
  it.each([
    ["an overlong encoding of /", [0xc0, 0xaf]],
    ["a byte that never occurs in UTF-8", [0xff]],
    ["an encoded lone surrogate", [0xed, 0xa0, 0x80]],
    ["a truncated multi-byte sequence", [0xe2, 0x82]],
  ])("refuses %s", (_what, raw) => {
    expect(problems(new Uint8Array([...bytesOf("a: "), ...raw, 0x0a]))).toEqual([{ code: "file.not_utf8", line: 0, column: 0, path: "" }]);
  });

  it.each([
    ["NUL", "\u0000"],
    ["escape", "\u001b"],
    ["DEL", "\u007f"],
    ["next line (C1)", "\u0085"],
    ["left-to-right mark", "\u200e"],
    ["first strong isolate", "\u2068"],
  ])("refuses a %s character and points at it", (_what, ch) => {
    expect(problems(`a: 1\nb: "x${ch}"\n`)).toEqual([{ code: "file.bad_character", line: 2, column: 6, path: "" }]);
  });

  it("accepts tabs inside values, and non-ASCII text such as accents and emoji", () => {
    expect(parsed('a: "x\ty"\nb: café 😀\n').value).toEqual({ a: "x\ty", b: "café 😀" });
  });
});

describe("documents", () => {
  it("refuses a lone document marker as an empty document that is not a mapping", () => {
    expect(problems("---\n")).toEqual([{ code: "yaml.not_mapping", line: 1, column: 4, path: "" }]);
  });

  it("refuses a second document after a document end marker", () => {
    expect(problems("a: 1\n...\nb: 2\n")).toEqual([{ code: "yaml.document_count", line: 3, column: 1, path: "" }]);
  });

  it("refuses a %TAG directive as well as %YAML", () => {
    expect(codes("%TAG ! tag:example.com,2000:\n---\na: 1\n")).toEqual(["yaml.directive"]);
    expect(codes("%YAML 1.2\n---\na: 1\n")).toEqual(["yaml.directive"]);
  });
});

describe("keys", () => {
  it("refuses a list used as a key", () => {
    expect(problems("? [a, b]\n: x\n")).toEqual([{ code: "yaml.non_scalar_key", line: 1, column: 3, path: "" }]);
  });

  it("refuses a quoted __proto__ key and a prototype key", () => {
    expect(problems('"__proto__": 1\nx:\n  prototype: 2\n')).toEqual([
      { code: "yaml.prototype_key", line: 1, column: 1, path: "__proto__" },
      { code: "yaml.prototype_key", line: 3, column: 3, path: "x.prototype" },
    ]);
  });

  it('treats null and "null" as the same key', () => {
    expect(problems('null: a\n"null": b\n')).toEqual([{ code: "yaml.duplicate_key", line: 2, column: 1, path: "null" }]);
  });

  it("leaves keys that differ only in case to the schema (both are kept)", () => {
    expect(parsed("Name: a\nname: b\n").value).toEqual({ Name: "a", name: "b" });
  });

  it("reports every reading problem of a document at once", () => {
    expect(problems("a: 1\na: 2\nb: !!str x\nc:\n  d: 1\n  d: 2\n")).toEqual([
      { code: "yaml.duplicate_key", line: 2, column: 1, path: "a" },
      { code: "yaml.tag", line: 3, column: 4, path: "b" },
      { code: "yaml.duplicate_key", line: 6, column: 3, path: "c.d" },
    ]);
  });
});

describe("limits at their exact boundaries", () => {
  const aliases = (n: number) => `a: &x 1\n${Array.from({ length: n }, (_, i) => `b${i}: *x`).join("\n")}\n`;
  const flow = (depth: number) => `a: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
  const keys = (n: number) => `${Array.from({ length: n }, (_, i) => `k${i}: 1`).join("\n")}\n`;
  const flowKeys = (n: number) => `a: {${Array.from({ length: n }, (_, i) => `k${i}: 1`).join(", ")},}\n`;

  it(`accepts ${MAX_ALIASES} aliases and refuses one more`, () => {
    expect(parse(aliases(MAX_ALIASES)).ok).toBe(true);
    expect(problems(aliases(MAX_ALIASES + 1))).toEqual([
      { code: "yaml.alias_limit", line: MAX_ALIASES + 2, column: 5, path: `b${MAX_ALIASES}` },
    ]);
  });

  it(`accepts flow nesting ${MAX_DEPTH - 1} deep under a key and refuses ${MAX_DEPTH} (the document is one level)`, () => {
    expect(parse(flow(MAX_DEPTH - 1)).ok).toBe(true);
    expect(problems(flow(MAX_DEPTH))).toEqual([
      { code: "yaml.too_deep", line: 1, column: 4 + MAX_DEPTH - 1, path: `a${"[0]".repeat(MAX_DEPTH - 1)}` },
    ]);
  });

  it("refuses 65 open brackets before parsing, even unbalanced", () => {
    expect(problems(`a: ${"{".repeat(MAX_DEPTH + 1)}\n`)).toEqual([{ code: "yaml.too_deep", line: 1, column: 4 + MAX_DEPTH, path: "" }]);
  });

  it("is not fooled by an apostrophe in a plain scalar before deep flow nesting", () => {
    expect(codes(`a: don't\nb: ${"[".repeat(5000)}${"]".repeat(5000)}\n`)).toEqual(["yaml.too_deep"]);
  });

  it("does not count brackets inside quoted strings or comments", () => {
    expect(parse(`a: "${"[".repeat(100)}"\nb: '${"{".repeat(100)}'\n# ${"[".repeat(100)}\n`).ok).toBe(true);
  });

  it(`accepts ${MAX_KEYS_PER_MAP} keys in one mapping and refuses one more`, () => {
    expect(parse(keys(MAX_KEYS_PER_MAP)).ok).toBe(true);
    expect(problems(keys(MAX_KEYS_PER_MAP + 1))).toEqual([{ code: "yaml.too_many_keys", line: 1, column: 1, path: "" }]);
  });

  it(`accepts ${MAX_KEYS_PER_MAP} keys in a flow mapping with a trailing comma and refuses more`, () => {
    expect(parse(flowKeys(MAX_KEYS_PER_MAP)).ok).toBe(true);
    expect(codes(flowKeys(MAX_KEYS_PER_MAP + 1))).toEqual(["yaml.too_many_keys"]);
  });
});

describe("syntax errors", () => {
  it("reports a tab used as indentation with its position", () => {
    expect(problems("a:\n\tb: 1\n")).toEqual([{ code: "yaml.syntax", line: 2, column: 1, path: "" }]);
  });

  it("reports an unclosed quote without repeating the source text or a stack", () => {
    const r = parse('a: "never closed\nb: SECRET_CANARY_9f3a\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.code)).toContain("yaml.syntax");
    for (const p of r.problems) {
      expect(p.message).not.toContain("SECRET_CANARY_9f3a");
      expect(p.message).not.toMatch(STACK_FRAME);
      expect(p.message).not.toMatch(/ at line \d+/);
    }
  });

  it("never throws, whatever the bytes", () => {
    const inputs = [
      "",
      "\n",
      ":",
      "- - -",
      "{",
      "}",
      "]",
      "&",
      "*",
      "!",
      "|",
      ">",
      "? ",
      "---\n---",
      "%",
      "@",
      "`",
      "a: *missing\n",
      "a: &\n",
    ];
    for (const text of inputs) expect(() => parse(text)).not.toThrow();
  });
});
