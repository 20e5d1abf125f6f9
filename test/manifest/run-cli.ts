// Runs the built CLI (`node bin/platformctl.js`) as a user would, and refuses to test a stale build.
import { execFile } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/platformctl.js ...args` (in the repository root unless `cwd` is given); colour variables are cleared unless given. */
export function runCli(args: readonly string[], env: Record<string, string> = {}, cwd = REPO): Promise<CliRun> {
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO, "bin/platformctl.js"), ...args], { cwd, env: { ...base, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Throws when a source file the validate command is built from is newer than its compiled output. */
export function assertFreshBuild(): void {
  const stale: string[] = [];
  const check = (rel: string) => {
    const src = path.join(REPO, "src", rel);
    const out = path.join(REPO, "dist", rel.replace(/\.ts$/, ".js"));
    const built = statSync(out, { throwIfNoEntry: false });
    if (!built || built.mtimeMs < statSync(src).mtimeMs) stale.push(rel);
  };
  for (const dir of ["manifest", "catalog", "cli"]) {
    for (const f of readdirSync(path.join(REPO, "src", dir))) if (f.endsWith(".ts")) check(`${dir}/${f}`);
  }
  check("errors.ts");
  if (stale.length) throw new Error(`dist/ is older than ${stale.join(", ")}: run \`npm run build\` before the CLI tests`);
}
