// What every command loads before it runs: the static import graph of the CLI bundle's entry holds neither zod nor the YAML parser.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/repo.js";

const BUNDLE = path.join(REPO, "dist/cli-bundle");

/** The files `entry` loads before its first line runs: its static `import … from "./x.js"` / `import "./x.js"`, transitively. */
function staticGraph(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(path.join(BUNDLE, file), "utf8");
    // Static forms only: `from "./x.js"` and a bare `import "./x.js";` at the start of a line (never `import("./x.js")`).
    for (const m of code.matchAll(/(?:^|\n)(?:import\s[^;]*?from\s*|import\s*)"\.\/([^"]+\.js)"/g)) visit(m[1] as string);
  };
  visit(entry);
  return [...seen];
}

/** The npm packages bundled into `files`, from esbuild's `// node_modules/<pkg>/…` source comments. */
function packagesIn(files: readonly string[]): Set<string> {
  const pkgs = new Set<string>();
  for (const f of files)
    for (const m of readFileSync(path.join(BUNDLE, f), "utf8").matchAll(/^\/\/ \S*node_modules\/((?:@[^/\s]+\/)?[^/\s]+)\//gm))
      pkgs.add(m[1] as string);
  return pkgs;
}

describe("CLI bundle start-up graph", () => {
  it("reads the static imports of the entry, including the engine library of a command chunk", () => {
    const files = staticGraph("main.js");
    expect(files.length).toBeGreaterThan(1);
    expect(packagesIn(files).has("commander")).toBe(true);
    // The walk itself must see through chunk imports: the plan command's chunk reaches dockerode's modem.
    const plan = readdirSync(BUNDLE).find((f) => f.startsWith("live-plan-"));
    expect(plan).toBeDefined();
    expect(packagesIn(staticGraph(plan as string)).has("docker-modem")).toBe(true);
  });

  it("starts every command without loading zod or the YAML parser (a warm catalog needs neither)", () => {
    const pkgs = packagesIn(staticGraph("main.js"));
    expect(pkgs.has("zod")).toBe(false);
    expect(pkgs.has("yaml")).toBe(false);
  });

  it("plans on Docker without loading zod, the YAML parser or the Swarm adapter (its own chunk, loaded when selected)", () => {
    const plan = readdirSync(BUNDLE).find((f) => f.startsWith("live-plan-"));
    expect(plan).toBeDefined();
    const files = staticGraph(plan as string);
    const pkgs = packagesIn(files);
    expect(pkgs.has("zod")).toBe(false);
    expect(pkgs.has("yaml")).toBe(false);
    const sources = files.flatMap((f) =>
      [...readFileSync(path.join(BUNDLE, f), "utf8").matchAll(/^\/\/ (\S*dist\/\S+\.js)$/gm)].map((m) => m[1]),
    );
    expect(sources.some((s) => s?.includes("dist/engine/docker-runtime.js"))).toBe(true);
    expect(sources.some((s) => s?.includes("dist/engine/swarm/"))).toBe(false);
  });

  it("loads no zod for the Swarm adapter: it reads the manager's replies with the hand-written reply readers", () => {
    const swarm = readdirSync(BUNDLE).find((f) => f.startsWith("swarm-runtime-"));
    expect(swarm).toBeDefined();
    const files = staticGraph(swarm as string);
    const pkgs = packagesIn(files);
    expect(pkgs.has("zod")).toBe(false);
    expect(pkgs.has("yaml")).toBe(false);
    const sources = files.flatMap((f) =>
      [...readFileSync(path.join(BUNDLE, f), "utf8").matchAll(/^\/\/ (\S*dist\/\S+\.js)$/gm)].map((m) => m[1]),
    );
    // The walk reaches the adapter's own files and the engine library, so an absent zod is not an empty walk.
    expect(sources.some((s) => s?.includes("dist/engine/swarm/observe-swarm.js"))).toBe(true);
    expect(sources.some((s) => s?.includes("dist/engine/swarm/swarm-replies.js"))).toBe(true);
    expect(pkgs.has("docker-modem")).toBe(true);
  });

  it("plans without loading pino: plan's only log line is debug, so the logger loads only when asked for", () => {
    const plan = readdirSync(BUNDLE).find((f) => f.startsWith("live-plan-"));
    expect(plan).toBeDefined();
    expect(packagesIn(staticGraph(plan as string)).has("pino")).toBe(false);
    // apply and restore load it (make-logger's own chunk), and the walk would see it there.
    const logger = readdirSync(BUNDLE).find((f) => f.startsWith("make-logger-"));
    expect(logger).toBeDefined();
    expect(packagesIn(staticGraph(logger as string)).has("pino")).toBe(true);
  });

  it("applies on Docker without loading zod, the YAML parser, pino or the Swarm adapter (apply's code is one dynamic import)", () => {
    const apply = readdirSync(BUNDLE).find((f) => f.startsWith("run-apply-"));
    expect(apply).toBeDefined();
    const files = staticGraph(apply as string);
    const pkgs = packagesIn(files);
    expect(pkgs.has("docker-modem")).toBe(true);
    expect(pkgs.has("zod")).toBe(false);
    expect(pkgs.has("yaml")).toBe(false);
    expect(pkgs.has("pino")).toBe(false);
    const sources = files.flatMap((f) =>
      [...readFileSync(path.join(BUNDLE, f), "utf8").matchAll(/^\/\/ (\S*dist\/\S+\.js)$/gm)].map((m) => m[1]),
    );
    expect(sources.some((s) => s?.includes("dist/apply/apply-modules.js"))).toBe(true);
    expect(sources.some((s) => s?.includes("dist/engine/swarm/"))).toBe(false);
    // pino comes in only when a line at an enabled level is logged (deferred-logger.ts), through make-logger's chunk.
    expect(sources.some((s) => s?.includes("dist/cli/make-logger.js"))).toBe(false);
  });

  it("loads apply's code without Node's child_process, https, tls or zlib (commander, docker-modem and the gate require them only for paths apply does not take)", () => {
    const apply = readdirSync(BUNDLE).find((f) => f.startsWith("run-apply-"));
    expect(apply).toBeDefined();
    const urls = ["main.js", apply as string].map((f) => pathToFileURL(path.join(BUNDLE, f)).href);
    const script = `for (const u of ${JSON.stringify(urls)}) await import(u); console.log(JSON.stringify(process.moduleLoadList));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const loaded = new Set((JSON.parse(r.stdout) as string[]).map((m) => m.replace(/^NativeModule /, "")));
    expect(loaded.has("http")).toBe(true);
    for (const name of ["child_process", "https", "tls", "zlib"]) expect(loaded.has(name), name).toBe(false);
  });
});
