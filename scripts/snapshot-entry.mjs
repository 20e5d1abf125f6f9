// The start-up snapshot's builder script (bundled into dist/snapshot/platformctl.cjs by build-snapshot.mjs): it loads the
// whole CLI once at build time, so a command starts from a heap where every module is already evaluated, and hands the
// snapshot its main function. Nothing here may read the environment, the clock, randomness or the terminal: whatever
// this script computes is frozen into every later run. Per-run state lives only in what `main` creates.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { startupSnapshot } from "node:v8";
import { loadModules } from "../dist/catalog/load-modules.js";
import { main, restoreExtraCaCerts } from "../dist/cli/main.js";
import { computePlan, planFingerprint } from "../dist/plan/compute-plan.js";

const MODULE = `apiVersion: platformctl/v1
kind: Module
metadata:
  name: warm
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
`;

/**
 * Runs commands that touch neither the engine nor STATE_DIR's caches (--help of each command, validate of a sample
 * catalog in a temporary directory) and the planner on plain data, so the code they run is compiled into the snapshot
 * instead of at every start.
 * Their output goes nowhere; what they compute is thrown away with their own objects.
 */
async function warm() {
  const dir = mkdtempSync(path.join(tmpdir(), "platformctl-snapshot-"));
  try {
    mkdirSync(path.join(dir, "modules", "warm"), { recursive: true });
    writeFileSync(path.join(dir, "modules", "warm", "module.yaml"), MODULE);
    const sink = () => new Writable({ write: (_chunk, _enc, done) => done() });
    const io = { stdout: sink(), stderr: sink(), env: { PLATFORMCTL_NO_CACHE: "1", STATE_DIR: path.join(dir, "state") }, cwd: dir };
    const run = (...args) => main(["node", "platformctl", ...args], io);
    await run("--help");
    for (const command of ["validate", "plan", "apply", "health", "smoke", "backup", "restore"]) await run(command, "--help");
    await run("validate", "--modules-dir", "modules");
    await run("validate", "--modules-dir", "modules", "--json");
    // The planner on plain data (nothing observed: every service to create), as plan and apply call it.
    const catalog = await loadModules(path.join(dir, "modules"));
    const observed = { project: "warm", containers: [], images: {}, volumes: [], networks: [] };
    const containerName = (module, service) => `warm_${module}_${service}`;
    const inputs = { project: "warm", catalog: catalog.modules, observed, now: "2000-01-01T00:00:00.000Z", containerName };
    planFingerprint(
      inputs,
      computePlan(inputs).modules.map((m) => m.name),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

startupSnapshot.setDeserializeMainFunction(() => {
  restoreExtraCaCerts();
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

warm().catch((e) => {
  throw new Error(`the snapshot's warm-up failed: ${e instanceof Error ? e.message : String(e)}`);
});
