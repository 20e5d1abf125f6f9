// platformctl as a library: the package name resolves to the built entry with type declarations.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
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

  it("does not export the CLI; the binary runs the CLI bundle built from dist/cli/main.js", async () => {
    const script = `import("platformctl").then((lib) => import("./dist/cli-bundle/main.js").then((cli) => console.log(JSON.stringify([Object.keys(lib).includes("main"), typeof cli.main]))))`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: REPO }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(out)).toEqual([false, "function"]);
    expect(readFileSync(path.join(REPO, "bin/platformctl.js"), "utf8")).toContain('from "../dist/cli-bundle/main.js"');
  });

  it("leaves ssh2 out of the CLI bundle (ssh:// engines are refused), so no command loads it", () => {
    const bundle = readdirSync(path.join(REPO, "dist/cli-bundle")).map((f) => readFileSync(path.join(REPO, "dist/cli-bundle", f), "utf8"));
    expect(bundle.some((code) => code.includes("does not support ssh:// engines"))).toBe(true);
    // Strings of ssh2's own protocol code: present only if the package itself were bundled.
    expect(bundle.some((code) => code.includes("SSH-2.0-") || code.includes("diffie-hellman-group"))).toBe(false);
  });

  it("ships type declarations for the entry", () => {
    expect(existsSync(path.join(REPO, "dist/index.d.ts"))).toBe(true);
  });
});
