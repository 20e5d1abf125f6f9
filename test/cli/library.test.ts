// platformctl as a library: the package name resolves to the built entry with type declarations.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/repo.js";

describe("library entry", () => {
  it("imports loadModules, computePlan and evaluatePolicy from 'platformctl' and validates the example catalog", async () => {
    const script = `import("platformctl").then(async (m) => { const r = await m.loadModules("modules", { strict: true }); console.log(JSON.stringify({ valid: r.valid, n: r.modules.length, fns: [typeof m.computePlan, typeof m.evaluatePolicy], cli: "main" in m })); })`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(out)).toEqual({ valid: true, n: 5, fns: ["function", "function"], cli: false });
  });

  it("does not export the CLI; the binary runs dist/cli/main.js itself", async () => {
    const script = `import("platformctl").then((lib) => import("./dist/cli/main.js").then((cli) => console.log(JSON.stringify([Object.keys(lib).includes("main"), typeof cli.main]))))`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(out)).toEqual([false, "function"]);
  });

  it("ships type declarations for the entry", () => {
    expect(existsSync(path.join(REPO, "dist/index.d.ts"))).toBe(true);
  });
});
