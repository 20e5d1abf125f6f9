// The exit-code table in docs/exit-codes.md is the one in src/errors.ts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT, exitForSignal } from "../../src/errors.js";
import { REPO } from "../helpers/repo.js";

describe("exit codes", () => {
  it("documents exactly the codes EXIT defines, plus 128+n for signals", () => {
    const doc = readFileSync(path.join(REPO, "docs/exit-codes.md"), "utf8");
    const documented = [...doc.matchAll(/^\| (\d+|128\+n) \|/gm)].map((m) => m[1]);
    expect(documented).toEqual([...Object.values(EXIT).map(String), "128+n"]);
    expect(exitForSignal(15)).toBe(143);
    expect(exitForSignal(2)).toBe(130);
  });
});
