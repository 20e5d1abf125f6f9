// The error registry is closed: every code thrown in src is in ERROR_CODES, docs/errors.md lists exactly those, and exits come only from it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, EXIT, exitCodeFor, InternalError, InterruptedError, PlatformError, UsageError } from "../src/errors.js";
import { REPO } from "./helpers/repo.js";

const HOW_TO_ADD =
  "add each code to ERROR_CODES in src/errors.ts ({ meaning, exit, runbook? }) and a row `| `code` | meaning | exit | runbook |` to docs/errors.md";

function sources(dir: string): { rel: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith(".ts") ? [{ rel: path.relative(REPO, p), text: readFileSync(p, "utf8") }] : [];
  });
}
const SRC = sources(path.join(REPO, "src"));

/** Codes written at throw sites: `new XError("code"`, `super("code"`, and `engine.<kind>` for every RuntimeErrorKind (EngineError). */
function thrownCodes(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (code: string, where: string) => found.set(code, [...(found.get(code) ?? []), where]);
  for (const f of SRC) {
    for (const m of f.text.matchAll(/new (?:PlatformError|UsageError)\(\s*"([^"]+)"/g)) add(m[1] as string, f.rel);
    for (const m of f.text.matchAll(/new \w+Error\(\s*"([a-z][a-z_]*\.[a-z_.]+)"/g)) add(m[1] as string, f.rel);
    for (const m of f.text.matchAll(/super\(\s*"([^"]+)"/g)) add(m[1] as string, f.rel);
  }
  const runtime = SRC.find((f) => f.rel === path.join("src", "runtime", "runtime.ts"));
  const kinds = /export type RuntimeErrorKind =([^;]+);/.exec(runtime?.text ?? "")?.[1] ?? "";
  for (const m of kinds.matchAll(/"([a-z_]+)"/g)) add(`engine.${m[1]}`, "src/engine/errors.ts (EngineError)");
  return found;
}

function documentedRows(): Map<string, { exit: string; runbook: string }> {
  const doc = readFileSync(path.join(REPO, "docs/errors.md"), "utf8");
  const rows = new Map<string, { exit: string; runbook: string }>();
  for (const m of doc.matchAll(/^\| `([^`]+)` \| .* \| (\d+|128\+n) \| (.+) \|$/gm))
    rows.set(m[1] as string, { exit: m[2] as string, runbook: m[3] as string });
  return rows;
}

describe("error registry", () => {
  it("registers every error code thrown anywhere in src", () => {
    const unregistered = [...thrownCodes()]
      .filter(([code]) => !(code in ERROR_CODES))
      .map(([code, where]) => `${code} (${where.join(", ")})`);
    expect(unregistered, `unregistered error codes: ${HOW_TO_ADD}`).toEqual([]);
  });

  it("has no code that nothing throws", () => {
    const thrown = thrownCodes();
    const unused = Object.keys(ERROR_CODES).filter((c) => !thrown.has(c));
    expect(unused, "registered codes no throw site uses: remove them from ERROR_CODES in src/errors.ts and from docs/errors.md").toEqual(
      [],
    );
  });

  it("is listed in docs/errors.md exactly, with the same exit code and runbook", () => {
    const rows = documentedRows();
    const expected = Object.entries(ERROR_CODES).map(([code, spec]) => [
      code,
      {
        exit: spec.exit === "signal" ? "128+n" : String(EXIT[spec.exit]),
        runbook: "runbook" in spec ? `[${spec.runbook.replace("runbooks/", "")}](../${spec.runbook})` : "—",
      },
    ]);
    expect([...rows], `docs/errors.md disagrees with ERROR_CODES: ${HOW_TO_ADD}`).toEqual(expected);
  });

  it("links only runbooks that exist", () => {
    const missing = Object.values(ERROR_CODES).flatMap((s) =>
      "runbook" in s && !existsSync(path.join(REPO, s.runbook)) ? [s.runbook] : [],
    );
    expect(missing).toEqual([]);
  });

  it("keeps exit codes out of throw sites and `internal` out of PlatformError", () => {
    const offenders = SRC.flatMap((f) => {
      const hits = [...f.text.matchAll(/exitCode:\s*EXIT\.|new PlatformError\(\s*"(?:internal|interrupted)"/g)].map(
        (m) => `${f.rel}: ${m[0]}`,
      );
      return f.rel.startsWith(path.join("src", "cli")) ? hits.filter((h) => h.includes("PlatformError")) : hits;
    });
    expect(offenders, "choose the exit in ERROR_CODES; throw InternalError for a bug and InterruptedError for a signal").toEqual([]);
  });

  it("gives each error the exit code of its registered code", () => {
    expect(exitCodeFor(new PlatformError("policy.blocked", "blocked"))).toBe(EXIT.blocked);
    expect(exitCodeFor(new PlatformError("lock.held", "held"))).toBe(EXIT.lockHeld);
    expect(exitCodeFor(new PlatformError("plan.stale", "stale"))).toBe(EXIT.stalePlan);
    expect(exitCodeFor(new UsageError("usage.duration", "bad"))).toBe(EXIT.error);
    expect(exitCodeFor(new InternalError("bug"))).toBe(EXIT.error);
    expect(exitCodeFor(new InterruptedError(15, "interrupted by SIGTERM"))).toBe(143);
    expect(new InternalError("bug").code).toBe("internal");
  });
});
