// After the CLI bundle: builds dist/snapshot/, the start-up snapshot bin/platformctl starts from. Why: a command
// otherwise spends ~80 ms of CPU loading and evaluating its modules before it does anything (measured with
// `node --cpu-prof`; README "Performance"); from a V8 snapshot the evaluated heap is simply mapped back in.
// The snapshot is only valid for the Node.js binary that built it, in this directory: dist/snapshot/identity records
// both, and the launcher falls back to bin/platformctl.js when either differs or the snapshot is missing.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const repo = path.resolve(import.meta.dirname, "..");
const dist = path.join(repo, "dist");
const outdir = path.join(dist, "snapshot");
// Built beside and renamed into place: a command started meanwhile finds the old snapshot, or none, never half of one.
const work = path.join(dist, `snapshot.${process.pid}.tmp`);
const bundle = path.join(work, "platformctl.cjs");
const blob = path.join(work, "platformctl.blob");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

/**
 * Node's modules that cannot be in a Node 20 snapshot (http's parser binding is not serializable; https, tls and
 * worker_threads are not verified) or that a command rarely needs: each is loaded on its first use at run time.
 * Their export names are listed at build time, so importing them (esbuild's ESM interop enumerates them) loads nothing.
 */
const LAZY = ["http", "https", "tls", "child_process", "worker_threads", "zlib", "tty", "module"];
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(node:)?(${LAZY.join("|")})$`) }, (args) =>
      args.namespace === "lazy-builtin"
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" },
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, async (args) => {
      const names = Object.keys(await import(`node:${args.path}`));
      return {
        loader: "js",
        contents: `let m; const load = () => (m ??= require("node:${args.path}"));
module.exports = new Proxy({}, { get: (_t, k) => load()[k], has: (_t, k) => k in load(), ownKeys: () => ${JSON.stringify(names)},
  getOwnPropertyDescriptor: (_t, k) => ({ configurable: true, enumerable: true, writable: true, value: m?.[k] }) });`,
      };
    });
  },
};

/**
 * Every compiled module, so each is evaluated once at build time (the commands' lazily imported ones too), except the
 * logger's: pino reads worker_threads as it loads, which a snapshot cannot hold; it loads on a command's first log line.
 * Listed from src/, not dist/: tsc never deletes, so a checkout updated in place keeps the compiled files of modules
 * that no longer exist, and one of those importing a name that is gone would fail the bundle.
 */
const src = path.join(repo, "src");
const modules = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
  .map((e) => path.join(dist, path.relative(src, path.join(e.parentPath, e.name))).replace(/\.ts$/, ".js"))
  .filter((f) => f !== path.join(dist, "cli", "make-logger.js"))
  .sort();

/**
 * Without a snapshot platformctl still works, from bin/platformctl.js, only slower to start: a Node.js or a checkout
 * that cannot build one must not fail the install. The test suite checks that the launcher does use it (test/cli/launcher).
 */
function fallBack(why) {
  rmSync(work, { recursive: true, force: true });
  rmSync(outdir, { recursive: true, force: true });
  process.stderr.write(`platformctl build: no start-up snapshot (commands start slower): ${why}\n`);
  process.exit(0);
}

try {
  await build({
    stdin: {
      contents: [...modules.map((f) => `import ${JSON.stringify(f)};`), `import "./scripts/snapshot-entry.mjs";`].join("\n"),
      resolveDir: repo,
      sourcefile: "snapshot-stdin.mjs",
    },
    outfile: bundle,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    // The same stand-ins as the CLI bundle (scripts/bundle-cli.mjs says why).
    alias: { ssh2: path.join(repo, "scripts", "ssh2-unsupported.cjs"), debug: path.join(repo, "scripts", "debug-disabled.cjs") },
    plugins: [lazyBuiltins],
    // import.meta.url (version.ts, catalog-cache.ts, connect.ts) becomes this file's URL: dist/snapshot/ sits at the same
    // depth as dist/cli/ and dist/cli-bundle/, so their relative paths still name package.json and dist/build-id.json.
    define: { "import.meta.url": "__platformctlModuleUrl" },
    // (Named for where the file ends up, dist/snapshot/, not the directory it is built in.)
    banner: { js: 'var __platformctlModuleUrl = require("node:url").pathToFileURL(`${__dirname}/../snapshot/platformctl.cjs`).href;' },
    legalComments: "none",
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning",
  });
} catch (err) {
  fallBack(`bundling failed: ${err instanceof Error ? err.message : String(err)}`);
}

const r = spawnSync(process.execPath, ["--snapshot-blob", blob, "--build-snapshot", bundle], { cwd: work, encoding: "utf8" });
if (r.status !== 0 || r.stderr.trim() !== "") fallBack(`node --build-snapshot exited ${r.status ?? r.signal}\n${r.stderr}${r.stdout}`);
// Read by bin/platformctl: line 1 the directory it is valid in, line 2 the node binary that built it, as
// `stat -L -c %d:%i:%s:%Y` prints it (device, inode, size, mtime in seconds).
const node = statSync(process.execPath);
writeFileSync(path.join(work, "identity"), `${repo}\n${node.dev}:${node.ino}:${node.size}:${Math.floor(node.mtimeMs / 1000)}\n`);
rmSync(outdir, { recursive: true, force: true });
renameSync(work, outdir);
