// No swallowed errors without a reason: every rejection src ignores (`.catch(() => default)`) says why its default is safe.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers/repo.js";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

describe("ignored rejections", () => {
  it("each carry a comment on their line or the three lines above saying why the default is safe", () => {
    const unexplained: string[] = [];
    for (const file of sources(path.join(REPO, "src"))) {
      const rel = path.relative(REPO, file).split(path.sep).join("/");
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, i) => {
        if (!/\.catch\(\(\) =>/.test(line)) return;
        const near = lines.slice(Math.max(0, i - 3), i + 1);
        if (!near.some((l) => /\/\/|\/\*|^\s*\*/.test(l.replace(/(["'`]).*?\1/g, "")))) unexplained.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(unexplained, "say in a comment why the default is safe, or let the error propagate").toEqual([]);
  });
});
