// The dependency rules of the house style, checked on the source: a pure core, one dockerode user, nothing imports cli.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers/repo.js";

const SRC = path.join(REPO, "src");
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}
const all = files(SRC).map((f) => {
  const text = readFileSync(f, "utf8");
  const imports = [
    ...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/gm),
    ...text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1] as string);
  return { rel: path.relative(SRC, f), layer: path.relative(SRC, f).split(path.sep)[0] as string, imports, text };
});

describe("architecture", () => {
  it("keeps manifest, plan and policy pure: no fs, no dockerode, no pino, no process, no engine/apply/cli imports", () => {
    const offenders = all
      .filter((f) => ["manifest", "plan", "policy"].includes(f.layer))
      .flatMap((f) =>
        f.imports
          .filter((i) =>
            /^(node:)?(fs|fs\/promises|child_process|net|http|https)$|^dockerode$|^docker-modem$|^pino$|\/(engine|apply|cli|health|state|catalog|backup)\//.test(
              i,
            ),
          )
          .map((i) => `${f.rel} -> ${i}`),
      )
      .concat(
        all
          .filter((f) => ["manifest", "plan", "policy"].includes(f.layer) && /\bprocess\./.test(f.text))
          .map((f) => `${f.rel} uses process`),
      );
    expect(offenders).toEqual([]);
  });

  it("lets only src/engine import dockerode or its transport, docker-modem", () => {
    const client = (f: (typeof all)[number]) => f.imports.includes("dockerode") || f.imports.includes("docker-modem");
    expect(all.filter((f) => client(f) && f.layer !== "engine").map((f) => f.rel)).toEqual([]);
    expect(all.filter((f) => f.imports.includes("docker-modem")).map((f) => f.rel)).toEqual(["engine/connect.ts"]);
  });

  it("lets nothing outside src/cli import src/cli, not even index.ts", () => {
    const offenders = all.filter((f) => f.layer !== "cli" && f.imports.some((i) => /(^|\/)cli\//.test(i))).map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  it("lets only the runtime chooser (src/runtime/open-runtime.ts), src/engine itself and src/cli import src/engine", () => {
    const offenders = all
      .filter((f) => f.layer !== "engine" && f.layer !== "cli" && f.rel !== path.join("runtime", "open-runtime.ts"))
      .flatMap((f) => f.imports.filter((i) => /(^|\/)engine\//.test(i)).map((i) => `${f.rel} -> ${i}`));
    expect(offenders).toEqual([]);
  });

  it("keeps apply, health, backup and restore on the runtime port: they never import src/engine", () => {
    const offenders = all
      .filter((f) => ["apply", "health", "backup", "restore"].includes(f.layer))
      .flatMap((f) => f.imports.filter((i) => /(^|\/)engine\//.test(i)).map((i) => `${f.rel} -> ${i}`));
    expect(offenders).toEqual([]);
  });

  it("keeps the port runtime-neutral: src/runtime (but the chooser) imports only the pure core, errors, secrets and itself", () => {
    const offenders = all
      .filter((f) => f.layer === "runtime" && f.rel !== path.join("runtime", "open-runtime.ts"))
      .flatMap((f) =>
        f.imports
          .filter((i) => !/^\.\.\/(manifest|plan|policy|secrets)\/|^\.\.\/errors\.js$|^\.\/|^node:stream$/.test(i))
          .map((i) => `${f.rel} -> ${i}`),
      );
    expect(offenders).toEqual([]);
  });

  it("lets src/engine reach src/runtime only for the port's pure files, never the chooser (no cycle)", () => {
    const offenders = all
      .filter((f) => f.layer === "engine")
      .flatMap((f) =>
        f.imports.filter((i) => /\/runtime\//.test(i) && !/\/runtime\/(runtime|mountinfo)\.js$/.test(i)).map((i) => `${f.rel} -> ${i}`),
      );
    expect(offenders).toEqual([]);
  });

  it("keeps polling in the runtime adapter: apply, backup and restore set no timers and never sleep", () => {
    const offenders = all
      .filter((f) => ["apply", "backup", "restore"].includes(f.layer) && /\bset(Timeout|Interval)\(|node:timers/.test(f.text))
      .map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  it("names units and project resources only in src/plan/unit-name.ts: nobody else joins a project name with `_`", () => {
    const offenders = all
      .filter((f) => f.rel !== path.join("plan", "unit-name.ts") && /`\$\{[^}`]*project\}_/.test(f.text))
      .map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  it("keeps src/engine free of apply, health and cli imports (dependencies point inward)", () => {
    const offenders = all
      .filter((f) => f.layer === "engine")
      .flatMap((f) => f.imports.filter((i) => /\/(apply|health|cli|backup)\//.test(i)).map((i) => `${f.rel} -> ${i}`));
    expect(offenders).toEqual([]);
  });
});
