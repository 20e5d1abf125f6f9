// The plan contract has one source: the committed schema and the docs are checked against src/plan/plan.ts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planJsonSchema } from "../../src/plan/plan-schema-export.js";
import { ACTION_TYPES, DRIFT_KINDS } from "../../src/plan/plan.js";
import { REPO } from "../helpers/repo.js";

describe("plan contract", () => {
  it("commits schema/plan.schema.json exactly as generated (run `npm run gen` after changing src/plan/plan.ts)", () => {
    const committed = JSON.parse(readFileSync(path.join(REPO, "schema/plan.schema.json"), "utf8"));
    expect(committed).toEqual(planJsonSchema());
  });

  it("documents every drift kind and every action type in docs/plan-format.md, and no others", () => {
    const doc = readFileSync(path.join(REPO, "docs/plan-format.md"), "utf8");
    const kinds = [...doc.matchAll(/^\| `([a-z_.-]+)` \| /gm)].map((m) => m[1] as string);
    expect(kinds.filter((k) => k.includes("."))).toEqual(Object.keys(DRIFT_KINDS));
    expect(kinds.filter((k) => !k.includes("."))).toEqual(Object.keys(ACTION_TYPES));
  });
});
