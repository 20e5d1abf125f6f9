// After `tsc`: bundles the compiled CLI (dist/cli/main.js and what it imports) into dist/cli-bundle/, which bin/ runs.
// Why: a command otherwise resolves and compiles ~150 ES modules and a dozen packages at start (≈0.25 s of CPU per
// command, measured with `node --cpu-prof`; see README "Performance"). Each command's code stays a lazily loaded chunk.
import { build } from "esbuild";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { quietModem } from "./quiet-modem.mjs";

const repo = path.resolve(import.meta.dirname, "..");
const outdir = path.join(repo, "dist", "cli-bundle");
const BANNER =
  'import { createRequire as __platformctlRequire } from "node:module"; const require = __platformctlRequire(import.meta.url);';
rmSync(outdir, { recursive: true, force: true });
/**
 * Node modules that two packages require when they load, for a path platformctl never takes or takes rarely:
 * commander requires child_process for executable subcommands (platformctl has none), docker-modem requires https
 * for TLS engines. Each is loaded on its first use instead (~10-20 ms of every command's start under load).
 */
const LAZY = { child_process: /node_modules[\\/]commander[\\/]/, https: /node_modules[\\/]docker-modem[\\/]/ };
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(b) {
    b.onResolve({ filter: /^(node:)?(child_process|https)$/ }, (args) => {
      const name = args.path.replace(/^node:/, "");
      return LAZY[name].test(args.importer) ? { path: name, namespace: "lazy-builtin" } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
      loader: "js",
      contents: `let m; const load = () => (m ??= require("node:${args.path}"));
module.exports = new Proxy({}, { get: (_t, k) => load()[k], has: (_t, k) => k in load(), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_t, k) => { const d = Object.getOwnPropertyDescriptor(load(), k); return d && { ...d, configurable: true }; } });`,
    }));
  },
};

await build({
  entryPoints: { main: path.join(repo, "dist", "cli", "main.js") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // docker-modem loads ssh2 (and its crypto) at start for ssh:// engines, which platformctl refuses
  // (engine.host_unsupported): the stub stands in for it, so that code is never loaded. docker-modem's `debug` would
  // print requests and replies, secrets included, when DEBUG is set: a stub that is never enabled stands in for it.
  alias: { ssh2: path.join(repo, "scripts", "ssh2-unsupported.cjs"), debug: path.join(repo, "scripts", "debug-disabled.cjs") },
  plugins: [lazyBuiltins, quietModem],
  // The CommonJS packages inside call require() for Node's own modules.
  banner: { js: BANNER },
  legalComments: "none",
  logLevel: "warning",
});

// The banner costs each chunk an import.meta and a createRequire when it loads (about 0.3 ms per chunk, and apply loads
// ~60): keep it only in the chunks that name `require` at all (esbuild's __require shim; words in strings and comments
// keep it too, which is merely safe).
for (const file of readdirSync(outdir)) {
  const full = path.join(outdir, file);
  const code = readFileSync(full, "utf8");
  if (!code.startsWith(`${BANNER}\n`)) throw new Error(`${file}: the bundle banner is not its first line`);
  const body = code.slice(BANNER.length + 1);
  if (!/(?<![\w$.])require\b/.test(body)) writeFileSync(full, body);
}
