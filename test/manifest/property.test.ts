// Property: any mutation or truncation of a valid manifest is judged, never thrown on, with well-formed problems.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROBLEM_CODES } from "../../src/manifest/problems.js";
import { validateCatalog, validateManifest, type ManifestSource } from "../../src/manifest/validate.js";
import { STACK_FRAME } from "./a-manifest.js";
import { REPO } from "../helpers/repo.js";

/** Fixed unless FC_SEED is set, so a failure reproduces; printed either way. */
const SEED = Number(process.env.FC_SEED ?? 1_830_417);
const RUNS_PER_MANIFEST = 250;

const CATALOGS = ["modules", "examples/quickstart/modules"];
const MANIFESTS = CATALOGS.flatMap((catalog) =>
  readdirSync(path.join(REPO, catalog))
    .sort()
    .map((dirName) => ({ file: `${catalog}/${dirName}/module.yaml`, dir: `${catalog}/${dirName}`, dirName })),
);

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "deleteLine"; line: number }
  | { kind: "duplicateLine"; line: number }
  | { kind: "truncate"; at: number };

const PUNCTUATION = [
  ":",
  ": ",
  "-",
  "- ",
  "[",
  "]",
  "{",
  "}",
  ",",
  "&a ",
  "*a",
  "!",
  "!!str ",
  "|",
  ">",
  "#",
  "'",
  '"',
  "\n",
  "  ",
  "\t",
  "? ",
  "%YAML 1.1\n",
  "---\n",
  "...\n",
  "<<: ",
  "${",
  "$",
  "\\",
  "\u0000",
  "\u202e",
  "__proto__: ",
  "\ufeff",
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.constantFrom(...PUNCTUATION) }),
  fc.record({ kind: fc.constant("deleteLine" as const), line: fc.nat() }),
  fc.record({ kind: fc.constant("duplicateLine" as const), line: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

/** Applies mutations to raw bytes; positions wrap around the current length. */
function mutate(original: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(original);
  for (const m of mutations) {
    if (bytes.length === 0) break;
    if (m.kind === "flip") {
      const i = m.at % bytes.length;
      bytes[i] = (bytes[i] as number) ^ (1 << m.bit);
    } else if (m.kind === "insert") {
      const i = m.at % (bytes.length + 1);
      bytes = Uint8Array.from([...bytes.subarray(0, i), ...new TextEncoder().encode(m.text), ...bytes.subarray(i)]);
    } else if (m.kind === "truncate") {
      bytes = bytes.subarray(0, m.at % bytes.length);
    } else {
      const lines = splitLines(bytes);
      const i = m.line % lines.length;
      if (m.kind === "deleteLine") lines.splice(i, 1);
      else lines.splice(i, 0, lines[i] as Uint8Array);
      bytes = Uint8Array.from(lines.flatMap((l) => [...l]));
    }
  }
  return bytes;
}

/** Lines with their trailing newline byte kept, so joining them restores the bytes. */
function splitLines(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      out.push(bytes.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

function expectWellFormed(source: ManifestSource, problems: readonly unknown[]): void {
  for (const raw of problems) {
    const p = raw as Record<string, unknown>;
    expect(Object.keys(p).sort()).toEqual(["code", "column", "file", "hint", "line", "message", "path"]);
    expect(Object.hasOwn(PROBLEM_CODES, p.code as string), `known code ${String(p.code)}`).toBe(true);
    expect(p.file).toBe(source.file);
    expect(Number.isInteger(p.line) && (p.line as number) >= 0).toBe(true);
    expect(Number.isInteger(p.column) && (p.column as number) >= 0).toBe(true);
    expect((p.line as number) === 0).toBe((p.column as number) === 0);
    expect(typeof p.path).toBe("string");
    expect(typeof p.message === "string" && p.message.length > 0).toBe(true);
    expect(p.message as string).not.toMatch(STACK_FRAME);
    expect(typeof p.hint).toBe("string");
  }
}

describe("mutated manifests", () => {
  it("starts from manifests that are all valid in strict mode", () => {
    console.log(
      `property.test.ts: fast-check seed ${SEED} (set FC_SEED to change it), ${RUNS_PER_MANIFEST} runs x ${MANIFESTS.length} manifests`,
    );
    expect(MANIFESTS.length).toBeGreaterThanOrEqual(9);
    const sources = MANIFESTS.map((m) => ({ ...m, bytes: readFileSync(path.join(REPO, m.file)) }));
    expect(validateCatalog(sources.slice(0, 5), { strict: true }).problems).toEqual([]);
    for (const s of sources) expect(validateManifest(s, { strict: true }).problems).toEqual([]);
  });

  for (const [i, m] of MANIFESTS.entries()) {
    it(`never throws on mutations and truncations of ${m.file} and always returns located problems with known codes`, () => {
      const original = readFileSync(path.join(REPO, m.file));
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.boolean(), (mutations, strict) => {
          const source: ManifestSource = { ...m, bytes: mutate(original, mutations) };
          const result = validateManifest(source, { strict });
          expect(Array.isArray(result.problems)).toBe(true);
          expectWellFormed(source, result.problems);
          // A module comes back exactly when nothing stopped reading it.
          if (result.module) expect(result.problems.every((p) => ["semantic", "strict"].includes(PROBLEM_CODES[p.code].layer))).toBe(true);
          else expect(result.problems.length).toBeGreaterThan(0);
          const catalog = validateCatalog([source], { strict });
          expect(catalog.valid).toBe(catalog.problems.length === 0);
          expectWellFormed(source, catalog.problems);
        }),
        { numRuns: RUNS_PER_MANIFEST, seed: SEED + i },
      );
    });
  }
});
