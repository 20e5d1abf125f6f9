// After `tsc`: bundles the compiled CLI (dist/cli/main.js and what it imports) into dist/cli-bundle/, which bin/ runs.
// Why: a command otherwise resolves and compiles ~150 ES modules and a dozen packages at start (≈0.25 s of CPU per
// command, measured with `node --cpu-prof`; see README "Performance"). Each command's code stays a lazily loaded chunk.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import path from "node:path";

const repo = path.resolve(import.meta.dirname, "..");
const outdir = path.join(repo, "dist", "cli-bundle");
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: path.join(repo, "dist", "cli", "main.js") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // docker-modem loads ssh2 (and its crypto) at start for ssh:// engines, which platformctl refuses
  // (engine.host_unsupported): the stub stands in for it, so that code is never loaded.
  alias: { ssh2: path.join(repo, "scripts", "ssh2-unsupported.cjs") },
  // The CommonJS packages inside call require() for Node's own modules.
  banner: {
    js: 'import { createRequire as __platformctlRequire } from "node:module"; const require = __platformctlRequire(import.meta.url);',
  },
  legalComments: "none",
  logLevel: "warning",
});
