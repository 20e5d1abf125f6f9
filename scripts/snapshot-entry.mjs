// The start-up snapshot's builder script (bundled into dist/snapshot/platformctl.cjs by build-snapshot.mjs): it loads the
// CLI once at build time, so a command starts from a heap where its modules are already evaluated, and hands the
// snapshot its main function. Nothing here may read the environment, the clock, randomness or the terminal into what
// it keeps: whatever this script computes is frozen into every later run. Per-run state lives only in what `main` creates.
import { statSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { startupSnapshot } from "node:v8";
import { applyModules } from "../dist/apply/apply-modules.js";
import { loadCatalogOrFail } from "../dist/cli/context.js";
import { main, restoreLauncherEnv } from "../dist/cli/main.js";
import { applyView } from "../dist/cli/views/apply-view.js";
import { systemClock } from "../dist/clock.js";
import { buildContainer } from "../dist/engine/container-body.js";
import { toHeldValues } from "../dist/engine/held-values.js";
import { toObservedContainer } from "../dist/engine/inspect-container.js";
import { computePlan, planFingerprint } from "../dist/plan/compute-plan.js";

/**
 * The warm-up's catalog, made by build-snapshot.mjs in this process's working directory: `warm/modules` (a long-running
 * service with a healthcheck, and the one-shot `job`), already validated into the manifest cache of `warm/state` by
 * the plain entry, so loading it here takes the cache's hit path and never evaluates the validators (zod and the
 * manifest schema, which only a changed manifest needs, stay out of the snapshot's heap: README "Performance").
 */
const WARM = path.resolve("warm");
const WARM_ENV = { STATE_DIR: path.join(WARM, "state") };

/**
 * An in-memory stand-in for the runtime port, only for the warm-up: it keeps Docker-shaped inspect replies and reads
 * them through the engine adapter's own readers, so apply's executor, lock, audit, gate and the adapter's reply
 * parsing run (and are compiled into the snapshot) without an engine. Anything apply should not call here throws.
 */
function warmRuntime() {
  const units = new Map();
  const IMAGE = `sha256:${"0".repeat(64)}`;
  const ZERO = "0001-01-01T00:00:00Z";
  const find = (ref) => units.get(ref) ?? [...units.values()].find((u) => u.Name === `/${ref}`);
  const unsupported = (name) => () => {
    throw new Error(`the warm-up's runtime does not ${name}`);
  };
  return {
    maintenance: { keeps: "renamed-unit" },
    endpoint: "warm-up",
    local: true,
    ping: async () => undefined,
    admit: () => [],
    async observe(project, refs, opts = {}) {
      const replies = [...units.values()].filter((u) => u.Config.Labels["dev.platformctl.project"] === project);
      for (const r of replies) opts.onHeld?.(r.Id, toHeldValues(r));
      return {
        project,
        containers: replies.map(toObservedContainer),
        images: Object.fromEntries(refs.map((r) => [r, IMAGE])),
        volumes: [],
        networks: [],
      };
    },
    async inspectUnit(ref, _signal, onHeld) {
      const r = find(ref);
      if (r) onHeld?.(toHeldValues(r));
      return r ? toObservedContainer(r) : null;
    },
    imageId: async () => IMAGE,
    heldValues: async (ref) => (find(ref) ? toHeldValues(find(ref)) : null),
    async createUnit(spec, opts) {
      const built = buildContainer(spec);
      opts.onSecrets?.(built.secrets);
      const id = String(units.size + 1).padStart(64, "0");
      const created = "2000-01-01T00:00:00.000000000Z";
      const State = { Status: "created", Running: false, OOMKilled: false, ExitCode: 0, Error: "", StartedAt: ZERO, FinishedAt: ZERO };
      units.set(id, {
        Id: id,
        Name: `/${opts.name}`,
        Created: created,
        Image: IMAGE,
        RestartCount: 0,
        HostConfig: built.body.HostConfig,
        Config: built.body,
        State,
        Mounts: [],
      });
      return { id, name: opts.name };
    },
    async runOneShot(ref) {
      const r = find(ref);
      r.State = { ...r.State, Status: "exited", StartedAt: "2000-01-01T00:00:01Z", FinishedAt: "2000-01-01T00:00:02Z" };
      const unit = toObservedContainer(r);
      return {
        outcome: { kind: "succeeded" },
        ranThisTime: true,
        timedOut: false,
        waitLost: false,
        exitCode: 0,
        oomKilled: false,
        startError: undefined,
        unit,
        durationMs: 1,
      };
    },
    createHelper: unsupported("create helpers"),
    startUnit: unsupported("start services"),
    stopUnit: unsupported("stop units"),
    removeUnit: unsupported("remove units"),
    renameUnit: unsupported("rename units"),
    tailLogs: unsupported("tail logs"),
    waitForState: unsupported("wait for a state"),
    waitForExit: unsupported("wait for an exit"),
    unitMounts: unsupported("list mounts"),
    readDevice: unsupported("read devices"),
  };
}

/** The warm catalog, from the manifest cache; throws when that was not a hit (the snapshot would hold the validators). */
async function cachedCatalog() {
  const cacheFile = path.join(WARM_ENV.STATE_DIR, "cache", "manifests.json");
  const before = statSync(cacheFile);
  const catalog = await loadCatalogOrFail(path.join(WARM, "modules"), WARM_ENV, WARM);
  const after = statSync(cacheFile);
  if (after.mtimeMs !== before.mtimeMs || after.size !== before.size)
    throw new Error("the warm-up catalog was not served from the manifest cache (build-snapshot.mjs validates it first)");
  return catalog;
}

/** `apply` of the one-shot twice (create and run, then `--rerun`) against warmRuntime. */
async function warmApply(sink) {
  const env = { ...WARM_ENV, STATE_DIR: path.join(WARM, "apply-state") };
  const runtime = warmRuntime();
  for (const rerun of [false, true]) {
    const catalog = await cachedCatalog();
    const view = applyView({ stdout: sink(), stderr: sink(), env, cwd: WARM }, false);
    const result = await applyModules({
      runtime,
      project: "warm",
      catalog,
      modules: ["job"],
      env,
      stateDir: env.STATE_DIR,
      inputs: { allowStateful: false, backupRef: undefined, confirm: undefined, bootstrap: false, rerun },
      maxBackupAgeSeconds: 86_400,
      timeoutSeconds: undefined,
      lockWaitMs: 0,
      savedPlan: undefined,
      cwd: WARM,
      clock: systemClock,
      prune: false,
      command: "platformctl apply --module job",
      signal: new AbortController().signal,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      progress: view.progress,
      actionDone: view.actionDone,
    });
    view.result(result);
    if (result.outcome !== "applied") throw new Error(`the warm-up apply ended ${result.outcome}: ${JSON.stringify(result.modules)}`);
  }
}

/**
 * Runs what touches no engine (--help of each command; the planner on plain data; apply against warmRuntime), so the
 * code they run is compiled into the snapshot instead of at every start. Their output goes nowhere; what they compute
 * is thrown away with their own objects.
 */
async function warm() {
  const sink = () => new Writable({ write: (_chunk, _enc, done) => done() });
  const io = { stdout: sink(), stderr: sink(), env: WARM_ENV, cwd: WARM };
  const run = (...args) => main(["node", "platformctl", ...args], io);
  await run("--help");
  for (const command of ["validate", "plan", "apply", "health", "smoke", "backup", "restore"]) await run(command, "--help");
  // The planner on plain data (nothing observed: every service to create), as plan and apply call it.
  const catalog = await cachedCatalog();
  const observed = { project: "warm", containers: [], images: {}, volumes: [], networks: [] };
  const containerName = (module, service) => `warm_${module}_${service}`;
  const inputs = { project: "warm", catalog, observed, now: "2000-01-01T00:00:00.000Z", containerName };
  planFingerprint(
    inputs,
    computePlan(inputs).modules.map((m) => m.name),
  );
  await warmApply(sink);
}

startupSnapshot.setDeserializeMainFunction(() => {
  restoreLauncherEnv();
  // Under --snapshot-blob, argv is [node, ...arguments] (the launcher passes them after `--`); main wants [node, script, ...].
  main([process.argv[0], "platformctl", ...process.argv.slice(1)]).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      // main never throws; if it does, the plain entry's behaviour (a non-zero exit) without a stack trace.
      process.stderr.write(`platformctl: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
});

warm().then(
  () => {
    // What build-snapshot.mjs keeps out of the heap (zod, the YAML parser): a module evaluated here imports it statically.
    const held = [...(globalThis.__platformctlEvaluated ?? [])];
    delete globalThis.__platformctlEvaluated;
    if (held.length) throw new Error(`the snapshot would hold ${held.join(" and ")}: a module it evaluates imports them statically`);
  },
  (e) => {
    throw new Error(`the snapshot's warm-up failed: ${e instanceof Error ? e.message : String(e)}`);
  },
);
