// `restore M --from REF --verify`: restores the backup into scratch volumes under a throwaway project, starts the module
// there, judges it by its health and smoke probes, removes everything it created and records the verification.
import { randomBytes } from "node:crypto";
import type { Module, SmokeProbe } from "../manifest/module.js";
import { isScratchProject, resourceName, scratchOf, scratchProjectName } from "../plan/unit-name.js";
import type { Runtime } from "../runtime/runtime.js";
import { readModuleSecrets } from "../secrets/module-secrets.js";
import { redact } from "../secrets/masker.js";
import { InternalError, InterruptedError, PlatformError } from "../errors.js";
import { appendBackupVerification } from "../state/backup-catalog.js";
import type { ActionRecord } from "../state/audit.js";
import { ensureStateDir } from "../state/state-dir.js";
import { abandonedScratch, forgetScratch, recordScratch } from "../state/verify-scratch.js";
import { checkHealth } from "../health/check-health.js";
import type { ServiceVerdict } from "../health/judge-health.js";
import { runProbes, type ProbeResult, probeKind } from "../health/run-probes.js";
import { decideRestore } from "../gate/decide-restore.js";
import { PolicyBlockedError } from "../gate/approve.js";
import { moduleVolumes } from "../policy/evaluate-restore.js";
import { createAndStart, fillVolumes, pipeDump, StepFailure, type StepContext } from "./restore-steps.js";

export interface VerifyRequest {
  runtime: Runtime;
  /** The live project; the scratch project is named after it and never shares a resource with it. */
  project: string;
  catalog: readonly Module[];
  module: Module;
  /** The backup ref as given. */
  ref: string;
  env: Readonly<Record<string, string | undefined>>;
  stateDir: string;
  cwd: string;
  /** Bound of each wait; undefined means the module's timeout_seconds. */
  timeoutSeconds: number | undefined;
  now: () => Date;
  signal: AbortSignal;
  progress: (text: string) => void;
}

export interface VerifyResult {
  module: string;
  file: string;
  sha256: string;
  scratch_project: string;
  outcome: "passed" | "failed";
  /** Why it failed (masked); null when it passed. */
  problem: string | null;
  verified_at: string;
  steps: ActionRecord[];
  /** Each service's verdict in the scratch project (empty when it failed before the health check). */
  services: ServiceVerdict[];
  probes: ProbeResult[];
  /** Scratch resources cleanup could not remove (each named); empty when everything is gone. */
  left_behind: string[];
  /** Scratch projects of earlier verifications killed before their cleanup, removed by this run. */
  swept: string[];
}

/** How long each cleanup call may take: cleanup runs after a signal too, so it cannot use the command's signal. */
const CLEANUP_CALL_MS = 60_000;

/**
 * The module as it runs in the scratch project: published ports dropped (they would collide with the live ones).
 * A read-write bind mount would share live host data, so the module cannot be verified in isolation: refused.
 */
function scratchModule(m: Module): Module {
  const shared = m.services.flatMap((s) =>
    s.volumes.filter((v) => v.type === "bind" && !v.readOnly).map((v) => `${s.name}: ${v.source} -> ${v.target}`),
  );
  if (shared.length > 0)
    throw new PlatformError(
      "restore.verify_unisolated",
      `module ${m.name} mounts host directories read-write, which a scratch copy would share with the live module`,
      {
        detail: shared.map((x) => `- ${x}`).join("\n"),
        hint: "Mount them read-only if the module only reads them; otherwise verify by hand on another host (runbooks/restore-stateful-module.md).",
      },
    );
  return { ...m, services: m.services.map((s) => ({ ...s, ports: [] })) };
}

/** A probe that reaches the host (http, tcp, command) would judge the live service, not the scratch copy. */
const scratchSafe = (p: SmokeProbe): boolean => probeKind(p) === "exec";

/** Cleanup passes at most: a request cut short by a signal may still complete on the engine after the first pass looked. */
const CLEANUP_PASSES = 4;

/**
 * Removes every unit, volume and network of the scratch project (only a project `scratchProjectName` made), each
 * call bounded on its own, pass after pass until an observation finds nothing and each of `volumes` is gone (at most
 * CLEANUP_PASSES); returns what could not be removed. `volumes` are the module's volume names, removed by name too: a
 * runtime may not observe volumes (Swarm: they live on the pinned node, which `removeVolume` reaches).
 */
export async function removeScratchProject(runtime: Runtime, scratch: string, volumes: readonly string[]): Promise<string[]> {
  if (!isScratchProject(scratch)) throw new InternalError(`refusing to remove project ${scratch}: it is not a scratch project`);
  const bounded = () => AbortSignal.timeout(CLEANUP_CALL_MS);
  const prefix = resourceName(scratch, "");
  const pending = new Set(volumes);
  let left: string[] = [];
  for (let pass = 0; pass < CLEANUP_PASSES; pass++) {
    const observed = await runtime.observe(scratch, [], { signal: bounded(), networks: true });
    if (observed.containers.length + observed.volumes.length + observed.networks.length + pending.size === 0) return [];
    left = [];
    for (const c of observed.containers)
      await runtime.removeUnit(c.id, { force: true, signal: bounded() }).catch(() => left.push(`container ${c.name}`)); // reported as left behind
    for (const v of observed.volumes)
      await runtime.removeVolume(scratch, v.name.slice(prefix.length), bounded()).catch(() => left.push(`volume ${v.name}`)); // reported as left behind
    for (const name of [...pending])
      await runtime.removeVolume(scratch, name, bounded()).then(
        (r) => (r === "absent" ? pending.delete(name) : undefined), // removed now: the next pass makes sure it stays gone
        () => left.push(`volume ${resourceName(scratch, name)}`), // reported as left behind
      );
    for (const n of observed.networks)
      await runtime.removeNetwork(scratch, n.name.slice(prefix.length), bounded()).catch(() => left.push(`network ${n.name}`)); // reported as left behind
  }
  return left;
}

/** Verifies a backup by restoring it where nothing live can be touched; records the outcome in the backup catalog. */
export async function verifyRestore(req: VerifyRequest): Promise<VerifyResult> {
  const gate = await decideRestore({
    env: req.env,
    stateDir: req.stateDir,
    module: req.module,
    catalog: req.catalog,
    mode: "verify",
    inputs: { allowStateful: false, confirm: undefined, backupRef: req.ref },
    drift: [],
    now: req.now(),
  });
  if (!gate.decision.eligible) throw new PolicyBlockedError(gate.decision, "restore --verify");
  const file = gate.file as string;
  const sha256 = gate.sha256 as string;
  const manifest = gate.manifest;
  const module = scratchModule(req.module);
  // The runtime learns where the module's volumes live (Swarm: the pinned node, where the scratch volumes go too).
  req.runtime.admit([module]);
  const stateDir = await ensureStateDir(req.stateDir);
  const swept = await sweepAbandoned(req, stateDir);
  const scratch = scratchProjectName(req.project, `${process.pid}x${randomBytes(3).toString("hex")}`);
  await recordScratch(stateDir, scratch, module.name);
  const steps: ActionRecord[] = [];
  const ctx: StepContext = {
    runtime: req.runtime,
    project: scratch,
    module,
    env: req.env,
    digestKey: undefined,
    timeoutMs: (req.timeoutSeconds ?? module.timeoutSeconds) * 1000,
    signal: req.signal,
    secrets: new Set(await readModuleSecrets(module, req.env)),
    progress: req.progress,
    done: (r) => steps.push(r),
  };
  const helperImage = module.services[0]?.image ?? "";
  let problem: string | null = null;
  let services: ServiceVerdict[] = [];
  let probes: ProbeResult[] = [];
  let left: string[] = [];
  let thrown: unknown;
  try {
    for (const v of moduleVolumes(module)) await req.runtime.ensureVolume(scratch, module.name, v, req.signal, module.stateful);
    // A volume archive fills the fresh volumes before the start; a dump goes into the started service's restore_command.
    if (!manifest?.dump) await fillVolumes(ctx, file, moduleVolumes(module), helperImage);
    await createAndStart(ctx);
    if (manifest?.dump) await pipeDump(ctx, file);
    req.progress("checking health and smoke probes");
    const health = await checkHealth({
      runtime: req.runtime,
      project: scratch,
      catalog: [module],
      selected: [module.name],
      wait: true,
      mounts: false,
      env: req.env,
      cwd: req.cwd,
      signal: req.signal,
    });
    const verdict = health.report.modules[0];
    services = verdict?.services ?? [];
    for (const s of health.secrets) ctx.secrets.add(s);
    const ran = await runProbes({
      runtime: req.runtime,
      project: scratch,
      module: { ...module, smoke: module.smoke.filter(scratchSafe) },
      containers: health.observed.containers,
      env: req.env,
      cwd: req.cwd,
      secrets: [...ctx.secrets],
      remoteMode: "skip",
      signal: req.signal,
    });
    probes = module.smoke.map(
      (p) =>
        ran.find((r) => r.name === p.name) ?? {
          name: p.name,
          kind: probeKind(p),
          status: "skipped",
          durationMs: 0,
          reason: "not run against a scratch copy: it reaches the host, so it would judge the live service",
          output: null,
          skipCause: "chosen",
        },
    );
    const unhealthy = services.filter((s) => !s.healthy).map((s) => s.name);
    const failed = probes.filter((p) => p.status === "failed").map((p) => p.name);
    if (!verdict?.healthy || unhealthy.length > 0) problem = `not healthy in the scratch project: ${unhealthy.join(", ") || module.name}`;
    else if (failed.length > 0) problem = `smoke probes failed: ${failed.join(", ")}`;
  } catch (e) {
    if (req.signal.aborted || !(e instanceof StepFailure))
      thrown = e; // an engine failure outside a step says nothing about the backup: not recorded
    else problem = redact(e.message, [...ctx.secrets]);
  }
  // Cleanup runs whatever happened above (a failure, a signal), each call bounded on its own.
  req.progress("removing the scratch project");
  left = await removeScratchProject(req.runtime, scratch, moduleVolumes(module)).catch((e: unknown) => [
    `the scratch project ${scratch} (cleanup failed: ${e instanceof Error ? e.message : String(e)})`,
  ]);
  if (left.length === 0) await forgetScratch(stateDir, scratch);
  if (thrown !== undefined) {
    if (!req.signal.aborted) throw thrown;
    // The CLI replaces the signal number with the one it saw.
    throw new InterruptedError(2, `verification of ${file} stopped before it finished; nothing was recorded`, {
      detail: left.length ? `Left behind (remove by hand): ${left.join(", ")}` : `The scratch project ${scratch} was removed.`,
    });
  }
  const verifiedAt = req.now().toISOString();
  const outcome = problem === null ? "passed" : "failed";
  await appendBackupVerification(stateDir, {
    type: "verification",
    file,
    module: module.name,
    size: gate.size,
    sha256,
    verified_at: verifiedAt,
    outcome,
    scratch_project: scratch,
    ...(problem === null ? {} : { problem }),
  });
  return {
    module: module.name,
    file,
    sha256,
    scratch_project: scratch,
    outcome,
    problem,
    verified_at: verifiedAt,
    steps,
    services,
    probes,
    left_behind: left,
    swept,
  };
}

/**
 * Removes the scratch projects of earlier verifications of this project whose process died before its cleanup (a
 * SIGKILL, a crash, a reboot); returns the ones now gone. One that cannot be removed stays recorded for the next run.
 */
async function sweepAbandoned(req: VerifyRequest, stateDir: string): Promise<string[]> {
  const gone: string[] = [];
  for (const { name, module } of await abandonedScratch(stateDir)) {
    if (scratchOf(name) !== req.project) continue;
    // Its module's volumes are removed by name (a runtime may not observe them); the runtime learns where they live.
    const m = req.catalog.find((x) => x.name === module);
    if (m) req.runtime.admit([m]);
    req.progress(`removing the leftovers of an interrupted verification (${name})`);
    const left = await removeScratchProject(req.runtime, name, m ? moduleVolumes(m) : []).catch(() => ["?"]); // kept recorded: retried next run
    if (left.length === 0) {
      await forgetScratch(stateDir, name);
      gone.push(name);
    }
  }
  return gone;
}
