// The one way tests run the CLI: the built binary (`bin/platformctl`, package.json's "bin": the launcher that starts
// from the start-up snapshot) as a separate process, as a user would.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { REPO } from "./repo.js";

const BIN = path.join(REPO, "bin/platformctl");

export interface CliResult {
  /** The exit code; -1 when the process died of a signal it did not handle (then `signal` says which). */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time from spawn to exit. */
  ms: number;
}

export interface SpawnedCli {
  pid: number;
  /** Settles when the process has exited and its output is closed. */
  done: Promise<CliResult>;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
}

/**
 * Starts `platformctl ...args` (in the repository root unless `cwd` is given) for tests that signal it or read its output
 * while it runs. The environment is the test's own plus `env`; colour variables are cleared unless `env` sets them.
 */
export function spawnCli(args: readonly string[], env: Record<string, string | undefined> = {}, cwd = REPO): SpawnedCli {
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  const t0 = Date.now();
  const child = spawn(BIN, args, { cwd, env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => {
    stdout += b.toString("utf8");
  });
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString("utf8");
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr, ms: Date.now() - t0 }));
  });
  return { pid: child.pid as number, done, output: () => ({ stdout, stderr }) };
}

/** Runs `platformctl ...args` to its exit (see spawnCli for the environment). */
export function runCli(args: readonly string[], env: Record<string, string | undefined> = {}, cwd = REPO): Promise<CliResult> {
  return spawnCli(args, env, cwd).done;
}

/** Throws when a source file is newer than its compiled output: CLI tests run dist/, so a stale build tests old code. */
export function assertFreshBuild(): void {
  const stale: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(REPO, "src", rel), { withFileTypes: true })) {
      const child = path.join(rel, e.name);
      if (e.isDirectory()) walk(child);
      else if (e.name.endsWith(".ts")) {
        const built = statSync(path.join(REPO, "dist", child.replace(/\.ts$/, ".js")), { throwIfNoEntry: false });
        if (!built || built.mtimeMs < statSync(path.join(REPO, "src", child)).mtimeMs) stale.push(child);
      }
    }
  };
  walk("");
  if (stale.length) throw new Error(`dist/ is older than src/${stale.join(", src/")}: run \`npm run build\` before the CLI tests`);
  // The binary runs the bundle made from dist/cli/: it must not be older than what it was made from.
  const bundle = statSync(path.join(REPO, "dist/cli-bundle/main.js"), { throwIfNoEntry: false });
  if (!bundle || bundle.mtimeMs < statSync(path.join(REPO, "dist/cli/main.js")).mtimeMs)
    throw new Error("dist/cli-bundle/ is missing or older than dist/cli/: run `npm run build` before the CLI tests");
  // bin/platformctl starts from the snapshot when it matches this node: an older one would run old code.
  const snapshot = statSync(path.join(REPO, "dist/snapshot/platformctl.blob"), { throwIfNoEntry: false });
  if (snapshot && snapshot.mtimeMs < bundle.mtimeMs)
    throw new Error("dist/snapshot/ is older than dist/cli-bundle/: run `npm run build` before the CLI tests");
}
