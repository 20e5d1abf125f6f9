// After the CLI bundle: builds dist/snapshot/, the start-up snapshot bin/platformctl starts from. Why: a command
// otherwise spends ~80 ms of CPU loading and evaluating its modules before it does anything (measured with
// `node --cpu-prof`; README "Performance"); from a V8 snapshot the evaluated heap is simply mapped back in.
// The snapshot is only valid for the Node.js binary that built it, in this directory: dist/snapshot/identity records
// both, and the launcher falls back to bin/platformctl.js when either differs or the snapshot is missing.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { quietModem } from "./quiet-modem.mjs";

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
 * Modules the snapshot leaves unevaluated: each is loaded (from the same bundle) on first use. Every object a module
 * creates as it loads is in every command's heap, and mapping that heap back in is most of a command's start-up
 * (README "Performance"). These are imported only dynamically, by what a command on its hot path (plan, apply,
 * health on an unchanged catalog) never reaches: validation of a changed manifest (zod and the manifest schema, about a
 * third of the heap; the YAML parser and Compose files), a saved plan (the plan schema), the workflow linter (YAML),
 * backup and restore, Swarm, the library entry. A module listed here that another module imports statically is
 * evaluated all the same, only slower to find out: test/cli/launcher.test.ts checks that zod and the YAML parser stay out.
 */
const COLD = [
  /^index\.js$/,
  /^manifest\/(schema|schema-issues|schema-export|validate|parse-yaml)\.js$/,
  /^manifest\/compose\//,
  /^plan\/(plan|plan-schema-export)\.js$/,
  /^live-plan\/load-saved-plan\.js$/,
  /^catalog\/(import-module-set|read-compose-files|read-compose-inputs|read-compose-project)\.js$/,
  /^workflows\//,
  /^cli\/views\/lint-workflows-view\.js$/,
  /^(backup|restore)\//,
  /^gate\/decide-restore\.js$/,
  /^engine\/swarm\//,
];

/**
 * Every other compiled module, so each is evaluated once at build time (the commands' lazily imported ones too), except
 * the logger's: pino reads worker_threads as it loads, which a snapshot cannot hold; it loads on a command's first log line.
 * Listed from src/, not dist/: tsc never deletes, so a checkout updated in place keeps the compiled files of modules
 * that no longer exist, and one of those importing a name that is gone would fail the bundle.
 */
const src = path.join(repo, "src");
const modules = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
  .map((e) => path.relative(src, path.join(e.parentPath, e.name)).replace(/\.ts$/, ".js"))
  .filter((f) => f !== path.join("cli", "make-logger.js") && !COLD.some((re) => re.test(f)))
  .map((f) => path.join(dist, f))
  .sort();

/**
 * The packages the snapshot must not hold (see COLD): each of their files, as it is evaluated, adds the package's name
 * to `globalThis.__platformctlEvaluated`, which the warm-up checks is empty once it is done (then removes it, so at
 * run time the mark does nothing).
 */
const KEPT_OUT = /node_modules[\\/](zod|yaml)[\\/].*\.(c?js|mjs)$/;
const markKeptOut = {
  name: "mark-kept-out",
  setup(b) {
    b.onLoad({ filter: KEPT_OUT }, async (args) => {
      const code = await readFile(args.path, "utf8");
      const mark = `globalThis.__platformctlEvaluated?.add(${JSON.stringify(KEPT_OUT.exec(args.path)?.[1])});`;
      // After a "use strict" directive, which must stay the first statement (yaml's CommonJS files open with one).
      const directive = /^\s*(["'])use strict\1;?/.exec(code)?.[0] ?? "";
      return { contents: `${directive}${mark}${code.slice(directive.length)}`, loader: "js" };
    });
  },
};

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
    plugins: [lazyBuiltins, quietModem, markKeptOut],
    // import.meta.url (version.ts, catalog-cache.ts, connect.ts) becomes this file's URL: dist/snapshot/ sits at the same
    // depth as dist/cli/ and dist/cli-bundle/, so their relative paths still name package.json and dist/build-id.json.
    define: { "import.meta.url": "__platformctlModuleUrl" },
    // (Named for where the file ends up, dist/snapshot/, not the directory it is built in.)
    banner: {
      js: 'globalThis.__platformctlEvaluated = new Set(); var __platformctlModuleUrl = require("node:url").pathToFileURL(`${__dirname}/../snapshot/platformctl.cjs`).href;',
    },
    legalComments: "none",
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning",
  });
} catch (err) {
  fallBack(`bundling failed: ${err instanceof Error ? err.message : String(err)}`);
}

/** The warm-up's catalog (scripts/snapshot-entry.mjs): a long-running service with a healthcheck, and a one-shot. */
const WARM_MODULES = {
  web: `apiVersion: platformctl/v1
kind: Module
metadata:
  name: web
  description: compiles the manifest code into the snapshot
spec:
  stateful: false
  runtime:
    expected_state: running
  services:
    web:
      image: busybox:1
      command: ["sleep", "100000"]
      restart: unless-stopped
      environment:
        A: "1"
      healthcheck:
        test: ["CMD", "true"]
        interval: 5s
`,
  job: `apiVersion: platformctl/v1
kind: Module
metadata:
  name: job
spec:
  runtime:
    expected_state: exited-success
  services:
    job:
      image: busybox:1
      command: ["true"]
      restart: "no"
`,
};
const warm = path.join(work, "warm");
for (const [name, text] of Object.entries(WARM_MODULES)) {
  mkdirSync(path.join(warm, "modules", name), { recursive: true });
  writeFileSync(path.join(warm, "modules", name, "module.yaml"), text);
}
// Validated by the plain entry first, into the manifest cache the warm-up then reads (so the snapshot never validates);
// the cache is used only under a STATE_DIR that exists, and the key holds the path as given (absolute here and there).
// Mode 0700 whatever the umask: a group-writable STATE_DIR gets no cache (src/state/only-ours-to-write.ts).
mkdirSync(path.join(warm, "state"), { recursive: true, mode: 0o700 });
const validated = spawnSync(
  process.execPath,
  [path.join(repo, "bin", "platformctl.js"), "validate", "--modules-dir", path.join(warm, "modules")],
  {
    cwd: warm,
    env: { PATH: process.env.PATH, STATE_DIR: path.join(warm, "state"), NO_COLOR: "1" },
    encoding: "utf8",
  },
);
if (validated.status !== 0)
  fallBack(`validating the warm-up catalog exited ${validated.status ?? validated.signal}\n${validated.stderr}${validated.stdout}`);

const r = spawnSync(process.execPath, ["--snapshot-blob", blob, "--build-snapshot", bundle], { cwd: work, encoding: "utf8" });
if (r.status !== 0 || r.stderr.trim() !== "") fallBack(`node --build-snapshot exited ${r.status ?? r.signal}\n${r.stderr}${r.stdout}`);
// Read by bin/platformctl: line 1 the directory it is valid in, line 2 the node binary that built it, as
// `stat -L -c %d:%i:%s:%Y` prints it (device, inode, size, mtime in seconds).
rmSync(warm, { recursive: true, force: true });
const node = statSync(process.execPath);
writeFileSync(path.join(work, "identity"), `${repo}\n${node.dev}:${node.ino}:${node.size}:${Math.floor(node.mtimeMs / 1000)}\n`);
rmSync(outdir, { recursive: true, force: true });
renameSync(work, outdir);
