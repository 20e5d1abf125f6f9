// `${VAR}` references: parsing, the pure-reference test strict mode uses, and resolving without leaking values.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPureReference, parseInterpolation, referencedNames, resolveInterpolation } from "../../src/manifest/interpolation.js";
import { PATTERNS } from "../../src/manifest/schema.js";
import { CANARY } from "./a-manifest.js";

describe("parseInterpolation", () => {
  it("splits a string into literal runs and references, in order", () => {
    expect(parseInterpolation("postgres://${USER}:${PASS:?set PASS}@db")).toEqual([
      { literal: "postgres://" },
      { ref: { name: "USER", operator: undefined, argument: undefined } },
      { literal: ":" },
      { ref: { name: "PASS", operator: ":?", argument: "set PASS" } },
      { literal: "@db" },
    ]);
  });

  it("reads every operator with its argument", () => {
    const refs = ["${A:-x}", "${A-x}", "${A:?x}", "${A?x}"].map((s) => parseInterpolation(s));
    expect(refs).toEqual([":-", "-", ":?", "?"].map((operator) => [{ ref: { name: "A", operator, argument: "x" } }]));
  });

  it("reads an empty default or message as an empty argument", () => {
    expect(parseInterpolation("${A:-}")).toEqual([{ ref: { name: "A", operator: ":-", argument: "" } }]);
  });

  it("turns $$ into a literal $ that never starts a reference", () => {
    expect(parseInterpolation("cost $$5 and $${NOT_A_REF}")).toEqual([{ literal: "cost $5 and ${NOT_A_REF}" }]);
  });

  it("returns no segments for the empty string", () => {
    expect(parseInterpolation("")).toEqual([]);
  });

  it.each(["$", "a$", "$x", "cost $5", "${", "${}", "${1A}", "${A", "${A:}", "${A B}", "${A:+x}", "${-A}", "$ {A}"])(
    "refuses the malformed %j",
    (text) => {
      expect(parseInterpolation(text)).toBeUndefined();
    },
  );

  it("agrees with the schema's pattern on every string, so what validates can be resolved", () => {
    const alphabet = fc.constantFrom("$", "{", "}", ":", "-", "?", "A", "_", "1", "x", " ");
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 16 }), (text) => {
        expect(parseInterpolation(text) !== undefined).toBe(PATTERNS.interpolated.test(text));
      }),
      { numRuns: 3000, seed: 20260601 },
    );
  });
});

describe("referencedNames", () => {
  it("lists the names referenced, in order, and nothing for a malformed string", () => {
    expect(referencedNames("${A}/${B:-x}/$${C}")).toEqual(["A", "B"]);
    expect(referencedNames("${A")).toEqual([]);
  });
});

describe("isPureReference", () => {
  it.each(["${DB_PASSWORD}", "${DB_PASSWORD:?set it}", "${DB_PASSWORD?}", "${X:?}"])(
    "accepts %j: the value comes from the environment",
    (text) => {
      expect(isPureReference(text)).toBe(true);
    },
  );

  it.each([
    ["a default, which is a literal in the file", "${DB_PASSWORD:-hunter2}"],
    ["a default without colon", "${DB_PASSWORD-hunter2}"],
    ["a literal prefix", "x${DB_PASSWORD}"],
    ["two references", "${A}${B}"],
    ["an escaped reference", "$${DB_PASSWORD}"],
    ["a literal", "hunter2"],
    ["the empty string", ""],
    ["a malformed reference", "${DB_PASSWORD"],
  ])("refuses %s", (_what, text) => {
    expect(isPureReference(text)).toBe(false);
  });
});

describe("resolveInterpolation", () => {
  it("substitutes set variables and lists their values as secrets to mask", () => {
    expect(resolveInterpolation("${USER}:${PASS}", { USER: "app", PASS: "s3cret" })).toEqual({
      ok: true,
      value: "app:s3cret",
      secrets: ["app", "s3cret"],
    });
  });

  it("uses a :- default when the variable is unset or empty, and a - default only when unset", () => {
    expect(resolveInterpolation("${A:-d}", { A: "" })).toEqual({ ok: true, value: "d", secrets: [] });
    expect(resolveInterpolation("${A:-d}", {})).toEqual({ ok: true, value: "d", secrets: [] });
    expect(resolveInterpolation("${A-d}", { A: "" })).toEqual({ ok: true, value: "", secrets: [] });
    expect(resolveInterpolation("${A-d}", {})).toEqual({ ok: true, value: "d", secrets: [] });
  });

  it("fails for an unset ${VAR} instead of substituting an empty string", () => {
    expect(resolveInterpolation("${MISSING}", {})).toEqual({ ok: false, missing: "MISSING", message: "MISSING is not set" });
  });

  it("fails a :? reference when the variable is unset or empty, and a ? reference only when unset", () => {
    expect(resolveInterpolation("${A:?need A}", { A: "" })).toMatchObject({ ok: false, missing: "A" });
    expect(resolveInterpolation("${A?need A}", { A: "" })).toEqual({ ok: true, value: "", secrets: [] });
    expect(resolveInterpolation("${A?need A}", {})).toMatchObject({ ok: false, missing: "A" });
  });

  it("says which variable is missing and the manifest's message, but never a value", () => {
    const r = resolveInterpolation("${USER}:${PASS}@${HOST:?set HOST to the database host}", { USER: CANARY, PASS: CANARY, HOST: "" });
    expect(r).toEqual({ ok: false, missing: "HOST", message: "HOST is required: set HOST to the database host" });
    expect(JSON.stringify(r)).not.toContain(CANARY);
  });

  it("falls back to a generic message for a :? reference without one", () => {
    expect(resolveInterpolation("${A:?}", {})).toEqual({ ok: false, missing: "A", message: "A is required: set it in the environment" });
  });

  it("refuses a malformed string without echoing it", () => {
    const r = resolveInterpolation(`${CANARY}\${`, {});
    expect(r).toEqual({ ok: false, missing: "", message: "malformed ${...} reference" });
  });

  it("never puts an environment value into a failure, whatever the string and environment", () => {
    const name = fc.constantFrom("A", "B", "C");
    const ref = fc
      .tuple(name, fc.constantFrom("", ":-", "-", ":?", "?"), fc.constantFrom("", "msg"))
      .map(([n, op, arg]) => (op ? `\${${n}${op}${arg}}` : `\${${n}}`));
    const text = fc.array(fc.oneof(ref, fc.constantFrom("x", "$$", "/")), { maxLength: 6 }).map((parts) => parts.join(""));
    const env = fc.record({
      A: fc.constantFrom(undefined, "", CANARY),
      B: fc.constantFrom(undefined, "", CANARY),
      C: fc.constantFrom(undefined, "", CANARY),
    });
    fc.assert(
      fc.property(text, env, (t, e) => {
        const r = resolveInterpolation(t, e);
        if (!r.ok) expect(r.message).not.toContain(CANARY);
        else if (r.value.includes(CANARY)) expect(r.secrets).toContain(CANARY);
      }),
      { numRuns: 2000, seed: 20260602 },
    );
  });
});
