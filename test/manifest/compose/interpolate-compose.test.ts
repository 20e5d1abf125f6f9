// Compose's interpolation dialect: resolving values as `docker compose config` does, and rewriting apply-time fields into references.
import { describe, expect, it } from "vitest";
import { composeReferencedNames, resolveComposeText, toNativeReferences } from "../../../src/manifest/compose/interpolate-compose.js";

const env = { SET: "value", EMPTY: "", OTHER: "other" };

describe("resolveComposeText", () => {
  it("resolves every form the spec lists, distinguishing unset from empty", () => {
    const cases: [string, string][] = [
      ["${SET}", "value"],
      ["$SET/x", "value/x"],
      ["${UNSET:-d}", "d"],
      ["${EMPTY:-d}", "d"],
      ["${UNSET-d}", "d"],
      ["${EMPTY-d}", ""],
      ["${SET:-d}", "value"],
      ["${UNSET:-${OTHER}}", "other"],
      ["${UNSET:-${ALSO_UNSET:-deep}}", "deep"],
      ["$$SET and $$", "$SET and $"],
      ["cost: 5$", "cost: 5$"],
      ["${EMPTY?x}", ""],
    ];
    for (const [text, want] of cases) expect(resolveComposeText(text, env), text).toEqual({ ok: true, value: want, unset: [] });
  });

  it("replaces an unset variable without a default by an empty string and names it", () => {
    expect(resolveComposeText("a${NOPE}b$NOPE2", env)).toEqual({ ok: true, value: "ab", unset: ["NOPE", "NOPE2"] });
  });

  it("fails a required variable with the file's own message and never shows a value", () => {
    expect(resolveComposeText("${UNSET:?set UNSET please}", env)).toEqual({ ok: false, message: "UNSET is required: set UNSET please" });
    expect(resolveComposeText("${EMPTY:?need it}", env)).toEqual({ ok: false, message: "EMPTY is required: need it" });
    expect(resolveComposeText("${UNSET?}", env)).toEqual({
      ok: false,
      message: "UNSET is required: set it in the environment or the env_file",
    });
  });

  it("refuses an unclosed reference and a brace that is not a variable", () => {
    expect(resolveComposeText("${SET", env)).toEqual({ ok: false, message: "an unclosed ${" });
    expect(resolveComposeText("${1X}", env)).toEqual({ ok: false, message: '"${1X}" is not a variable reference' });
  });
});

describe("toNativeReferences", () => {
  it("keeps references as platformctl writes them and escapes literal dollars", () => {
    expect(toNativeReferences("$A ${B} ${C:-d} ${D?m} $$E 5$")).toEqual({ ok: true, value: "${A} ${B} ${C:-d} ${D?m} $$E 5$$" });
  });

  it("refuses a nested reference, which a field resolved at apply time cannot hold", () => {
    expect(toNativeReferences("${A:-${B}}")).toEqual({
      ok: false,
      message: "the nested reference in ${A:-…} is not supported in this field; write the default out",
    });
  });

  it("lists nested names too", () => {
    expect(composeReferencedNames("$A ${B:-${C}} $$D")).toEqual(["A", "B", "C"]);
  });
});
