// The Docker Swarm adapter: the Runtime port carried out on a Swarm manager (a unit is a Swarm service; a one-shot a replicated job).
import { NODE_HOSTS_VAR, parseNodeHosts } from "./node-hosts.js";
import { readReply } from "../reply-shape.js";
import { readCreated } from "./swarm-replies.js";
import { PlatformError } from "../../errors.js";
import type { Module } from "../../manifest/module.js";
import type { Engine } from "../connect.js";
import { openStream, readBody, requestJson, seg } from "../dial.js";
import { demuxFrames, frameLines } from "../demux.js";
import { EngineError, isEngineError } from "../errors.js";
import { LABEL } from "../labels.js";
import { imageId } from "../observe.js";
import { logsQuery } from "../requests.js";
import { replacementUnitName, resourceName, unitName } from "../../plan/unit-name.js";
import type { ObservedState } from "../../plan/observed-state.js";
import { runtimeIgnoredFields } from "../../manifest/runtime-ignored-fields.js";
import type { CreatedUnit, Runtime, UnitSpec } from "../../runtime/runtime.js";
import type { LogLine, OneShotResult } from "../../runtime/runtime.js";
import {
  describeService,
  getService,
  isJob,
  isTerminal,
  iterationTasks,
  jobIteration,
  listNetworks,
  listServices,
  listTasks,
  type SwarmService,
} from "./observe-swarm.js";
import {
  assertPinnedIfStateful,
  buildService,
  overlayNetworkBody,
  PARKED_CONSTRAINT,
  SWARM_LABEL,
  type ServiceSpec,
} from "./service-spec.js";
import { execInService } from "./swarm-exec.js";
import { waitForEarlierIterationsStopped, waitForJob, waitForNoTasks, waitForService } from "./swarm-wait.js";
import { execStream } from "../exec-stream.js";
import { nodeEngines } from "./pinned-node.js";
import { swarmMaintenance } from "./swarm-maintenance.js";
import { swarmVolumes } from "./swarm-volumes.js";
import { assertServiceNames } from "./service-name.js";
import { runningTaskContainer } from "./task-container.js";

/** Lines of a job run's output kept when it ends (apply shows the last 50 of a failure). */
const SAVED_TAIL_LINES = 200;
/** Default stop grace of a task (Docker's), when the spec sets none. */
const DEFAULT_GRACE_S = 10;

/** A recreate's replacement, held until the old service is gone (Swarm cannot rename a service). */
const STAGED = "staged:";

/** A job task that would not stop when its job was parked: named with its node, so a person can remove it there. */
function stillRunning(unit: string, left: readonly { ID: string; NodeID?: string | undefined }[]): EngineError {
  return new EngineError({
    kind: "conflict",
    operation: "stop job",
    target: unit,
    message: `job ${unit} still runs ${left.map((t) => `task ${t.ID} on node ${t.NodeID ?? "?"}`).join(", ")} after it was parked to stop it; remove that container on its node (docker rm -f) and try again`,
  });
}

/** What the Swarm runtime does not do yet: said plainly, never pretended. */
function unsupported(what: string): never {
  throw new PlatformError("swarm.unsupported", `${what} is not supported on the Swarm runtime yet`, {
    hint: 'Use the Docker runtime (unset PLATFORMCTL_RUNTIME) for this command; README.md "Running on Docker Swarm" lists what works.',
  });
}

/**
 * The Runtime of a Swarm, through its manager's engine (DOCKER_HOST). Mapping of the port:
 * - `createUnit` creates the service with 0 tasks (a container is created stopped); `startUnit` scales it to its
 *   `replicas`. A one-shot is a `replicated-job` (TotalCompletions 1, restart condition none), which runs as soon as
 *   it exists: `runOneShot` right after this adapter created it waits for that first run instead of starting a
 *   second one; on any other job, `runOneShot` re-runs it through `ForceUpdate` (only an approved plan asks for it).
 * - A recreate's replacement (`replacementUnitName`) is staged in memory, validated and resolved, and created under
 *   the service's own name by `renameUnit` once the old service is removed: Swarm cannot rename a service.
 * - The maintenance lane updates a service in place and Swarm keeps its previous spec (swarm-maintenance.ts).
 * - Volumes are created by the node a task lands on (labelled through the mount's VolumeOptions); a stateful module
 *   must be pinned to one node (`spec.placement.constraints`), else `createUnit` refuses it before any change.
 * - Volume content (backup, restore) is read and written on the node the module is pinned to, through that node's own
 *   engine (PLATFORMCTL_SWARM_NODE_HOSTS), as on Docker (see swarm-volumes.ts for why not a job); `admit` records the
 *   modules' constraints that locate their volumes. `execStream` runs in a running task's container on its node.
 * - `exec` runs in a running task's container through the engine of the node it runs on; without that node's
 *   address (PLATFORMCTL_SWARM_NODE_HOSTS) it throws `ExecUnavailableError` (probes report it skipped).
 * Holds the client, the staged replacements and the ids of jobs it created in this process.
 */
export function swarmRuntime(engine: Engine, env: Readonly<Record<string, string | undefined>> = {}): Runtime {
  // Checked up front, so every Swarm command (plan and apply too, not only those that reach a node) refuses a malformed value.
  parseNodeHosts(env[NODE_HOSTS_VAR]);
  const volumes = swarmVolumes(engine, env);
  /** The modules `admit` was given, by name: what `ensureVolume` checks the service names of. */
  const admitted = new Map<string, Module>();
  const engineOf = nodeEngines(env);
  const staged = new Map<string, { spec: UnitSpec; secrets: string[] }>();
  const fresh = new Set<string>();
  /** The output of each job run this process waited for, by service id and name: its current iteration's only. */
  const tails = new Map<string, LogLine[]>();

  async function readLogs(path: string, target: string, lines: number, signal?: AbortSignal): Promise<LogLine[]> {
    const call = { method: "GET", path, query: logsQuery(lines), operation: "read logs", target, signal } as const;
    const res = await openStream(engine, call);
    const body = await readBody(res, { operation: call.operation, target, endpoint: engine.endpoint }, signal);
    return frameLines(demuxFrames(body, false));
  }

  /**
   * The output of job `s`'s run `iteration`: its newest task that started a container (`GET /tasks/{id}/logs`), so
   * earlier runs never mix in as they do in the service's log. Empty when that task has no container.
   */
  async function iterationLogs(s: SwarmService, iteration: number, lines: number, signal?: AbortSignal): Promise<LogLine[]> {
    const tasks = iterationTasks(await listTasks(engine, s.ID, signal), iteration);
    const t = tasks.find((x) => (x.Status.ContainerStatus?.ContainerID ?? "") !== "");
    return t ? readLogs(`/tasks/${seg(t.ID)}/logs`, t.ID, lines, signal) : [];
  }

  /**
   * Parks job `s` (PARKED_CONSTRAINT, see there) so its running task is shut down, and waits within its stop grace
   * + 30 s for every task of the earlier iterations to stop. Returns the tasks still running at that bound.
   */
  async function park(s: SwarmService, signal?: AbortSignal) {
    await update(
      s.ID,
      (spec) => {
        const own = (spec.TaskTemplate.Placement?.Constraints ?? []).filter((c) => c !== PARKED_CONSTRAINT);
        spec.TaskTemplate.Placement = { ...spec.TaskTemplate.Placement, Constraints: [...own, PARKED_CONSTRAINT] };
      },
      signal,
    );
    const after = await getService(engine, s.ID, signal);
    const graceNs = (s.Spec.TaskTemplate.ContainerSpec as { StopGracePeriod?: number }).StopGracePeriod;
    const graceS = graceNs === undefined ? DEFAULT_GRACE_S : Math.ceil(graceNs / 1e9);
    return waitForEarlierIterationsStopped(engine, s.ID, after ? jobIteration(after) : jobIteration(s) + 1, {
      timeoutMs: (graceS + 30) * 1000,
      signal,
    });
  }

  /** Runs the end of a job run: keeps its output (task history is pruned), and parks a run that outlived its bound. */
  async function finishRun(s: SwarmService, iteration: number, r: OneShotResult, signal?: AbortSignal): Promise<OneShotResult> {
    // Output only decorates the run's report: a node that cannot be read from leaves the saved tail empty.
    const lines = await iterationLogs(s, iteration, SAVED_TAIL_LINES, signal).catch(() => [] as LogLine[]);
    tails.set(s.ID, lines);
    tails.set(s.Spec.Name, lines);
    if (!r.timedOut) return r;
    const left = await park(s, signal);
    if (left.length === 0) return { ...r, afterTimeout: "parked" };
    const where = left.map((t) => `task ${t.ID} (${t.Status.State}) on node ${t.NodeID ?? "?"}`).join(", ");
    return {
      ...r,
      afterTimeout: "still-running",
      note: `${r.note ? `${r.note}; ` : ""}after parking the job, ${where} still runs: remove its container on that node by hand (docker rm -f on the node)`,
    };
  }

  async function create(spec: UnitSpec, name: string, signal?: AbortSignal): Promise<CreatedUnit> {
    const built = buildService(spec, name, await imageId(engine, spec.service.image, signal));
    for (const n of spec.service.networks) await ensureOverlay(spec.project, n, signal);
    const reply = await requestJson(engine, {
      method: "POST",
      path: "/services/create",
      body: built.spec,
      operation: "create service",
      target: name,
      signal,
    });
    const id = readReply(readCreated, reply, "create service").ID;
    if (built.job) fresh.add(id);
    return { id, name };
  }

  async function ensureOverlay(project: string, name: string, signal?: AbortSignal) {
    const full = resourceName(project, name);
    const read = async () => {
      try {
        const r = (await requestJson(engine, {
          method: "GET",
          path: `/networks/${seg(full)}`,
          operation: "inspect network",
          target: full,
          signal,
        })) as {
          Labels?: Record<string, string> | null;
        };
        if (r.Labels?.[LABEL.project] !== project)
          throw new EngineError({
            kind: "conflict",
            operation: "use network",
            target: full,
            message: `network ${full} exists and is not project ${project}'s`,
          });
        return true;
      } catch (e) {
        if (isEngineError(e, "not_found")) return false;
        throw e;
      }
    };
    if (await read()) return { name: full, created: false };
    await requestJson(engine, {
      method: "POST",
      path: "/networks/create",
      body: overlayNetworkBody(project, full),
      operation: "create network",
      target: full,
      signal,
    });
    return { name: full, created: true };
  }

  /** Updates a service's spec (read raw, so every field Swarm keeps survives); `change` edits the spec in place. */
  async function update(ref: string, change: (spec: ServiceSpec & { Mode: Record<string, unknown> }) => void, signal?: AbortSignal) {
    const raw = (await requestJson(engine, {
      method: "GET",
      path: `/services/${seg(ref)}`,
      operation: "inspect service",
      target: ref,
      signal,
    })) as {
      ID: string;
      Version: { Index: number };
      Spec: ServiceSpec & { Mode: Record<string, unknown> };
    };
    change(raw.Spec);
    await requestJson(engine, {
      method: "POST",
      path: `/services/${seg(raw.ID)}/update`,
      query: { version: raw.Version.Index },
      body: raw.Spec,
      operation: "update service",
      target: ref,
      signal,
    });
  }

  async function inspect(ref: string, signal?: AbortSignal) {
    if (ref.startsWith(STAGED)) return null;
    const s = await getService(engine, ref, signal);
    return s ? describeService(s, await listTasks(engine, s.ID, signal)) : null;
  }

  return {
    maintenance: swarmMaintenance(engine, async (spec, signal) => {
      for (const n of spec.service.networks) await ensureOverlay(spec.project, n, signal);
    }),
    endpoint: `${engine.endpoint} (Swarm)`,
    local: false,
    ping: (signal) => engine.ping(signal),
    admit: (modules) => {
      for (const m of modules) {
        assertPinnedIfStateful(m);
        admitted.set(m.name, m);
      }
      volumes.remember(modules);
      return runtimeIgnoredFields("swarm", modules);
    },
    async observe(project, refs, opts): Promise<ObservedState> {
      const signal = opts?.signal;
      const [listed, images, networks] = await Promise.all([
        listServices(engine, project, signal),
        Promise.all([...new Set(refs)].sort().map(async (ref) => [ref, await imageId(engine, ref, signal)] as const)),
        opts?.networks ? listNetworks(engine, project, signal) : [],
      ]);
      // Tasks are listed only for the modules asked for (one request per service).
      const wanted = opts?.modules && new Set(opts.modules);
      const services = wanted ? listed.filter((s) => wanted.has(s.Spec.Labels?.[LABEL.module] ?? "")) : listed;
      const containers = await Promise.all(services.map(async (s) => describeService(s, await listTasks(engine, s.ID, signal))));
      const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      containers.sort((a, b) => cmp(a.module, b.module) || cmp(a.service, b.service) || cmp(a.name, b.name));
      // Volumes live on the nodes; the manager does not list them (the stateful ratchet reads the services' labels).
      return { project, containers, images: Object.fromEntries(images), volumes: [], networks };
    },
    inspectUnit: (unit, signal) => inspect(unit, signal),
    imageId: (ref, signal) => imageId(engine, ref, signal),
    async heldValues(unit, signal) {
      if (unit.startsWith(STAGED)) return null;
      try {
        const raw = (await requestJson(engine, {
          method: "GET",
          path: `/services/${seg(unit)}`,
          operation: "inspect service",
          target: unit,
          signal,
        })) as {
          Spec?: {
            TaskTemplate?: { ContainerSpec?: { Env?: string[]; Command?: string[]; Args?: string[]; Healthcheck?: { Test?: string[] } } };
          };
        };
        const c = raw.Spec?.TaskTemplate?.ContainerSpec ?? {};
        return { env: c.Env ?? [], entrypoint: c.Command ?? null, cmd: c.Args ?? null, healthcheck: c.Healthcheck?.Test ?? null };
      } catch (e) {
        if (isEngineError(e, "not_found")) return null;
        throw e;
      }
    },
    async createUnit(spec, opts) {
      assertServiceNames(spec.project, spec.module);
      assertPinnedIfStateful(spec.module);
      const canonical = unitName(spec.project, spec.module.name, spec.service.name);
      if (opts.name === replacementUnitName(canonical)) {
        const built = buildService(spec, canonical, null);
        opts.onSecrets?.(built.secrets);
        staged.set(`${STAGED}${opts.name}`, { spec, secrets: built.secrets });
        return { id: `${STAGED}${opts.name}`, name: opts.name };
      }
      opts.onSecrets?.(buildService(spec, opts.name, null).secrets);
      return create(spec, opts.name, opts.signal);
    },
    createHelper: () => unsupported("a helper unit (backup, restore, volume access)"),
    async startUnit(unit, signal) {
      const s = await getService(engine, unit, signal);
      if (!s) throw new EngineError({ kind: "not_found", operation: "start service", target: unit });
      if (isJob(s)) return "already-running";
      const want = Number(s.Spec.Labels?.[SWARM_LABEL.replicas] ?? "1");
      if ((s.Spec.Mode.Replicated?.Replicas ?? 0) === want) return "already-running";
      await update(
        s.ID,
        (spec) => {
          spec.Mode = { Replicated: { Replicas: want } };
        },
        signal,
      );
      return "started";
    },
    async stopUnit(unit, graceSeconds, signal) {
      const s = await getService(engine, unit, signal);
      if (!s) throw new EngineError({ kind: "not_found", operation: "stop service", target: unit });
      const tasks = await listTasks(engine, s.ID, signal);
      if (isJob(s)) {
        if (!tasks.some((t) => !isTerminal(t) && t.Status.State !== "pending")) return "already-stopped";
        const left = await park(s, signal);
        if (left.length > 0) throw stillRunning(unit, left);
        return "stopped";
      }
      if ((s.Spec.Mode.Replicated?.Replicas ?? 0) === 0) return "already-stopped";
      await update(
        s.ID,
        (spec) => {
          spec.Mode = { Replicated: { Replicas: 0 } };
        },
        signal,
      );
      const r = await waitForNoTasks(engine, s.ID, { timeoutMs: (graceSeconds + 30) * 1000, signal });
      if (r.outcome === "timed-out")
        throw new EngineError({
          kind: "unresponsive",
          operation: "stop service",
          target: unit,
          message: `service ${unit} still has running tasks ${graceSeconds + 30} s after it was scaled to 0`,
        });
      return "stopped";
    },
    async removeUnit(unit, opts) {
      if (unit.startsWith(STAGED)) return staged.delete(unit) ? "removed" : "absent";
      // `service rm` leaves a running job task running, orphaned (moby#44312, Engine 20.10): park it first.
      const s = await getService(engine, unit, opts?.signal);
      if (s && isJob(s)) {
        const tasks = await listTasks(engine, s.ID, opts?.signal);
        if (tasks.some((t) => !isTerminal(t) && t.Status.State !== "pending")) {
          const left = await park(s, opts?.signal);
          if (left.length > 0) throw stillRunning(unit, left);
        }
      }
      try {
        await requestJson(engine, {
          method: "DELETE",
          path: `/services/${seg(unit)}`,
          operation: "remove service",
          target: unit,
          signal: opts?.signal,
        });
        return "removed";
      } catch (e) {
        if (isEngineError(e, "not_found")) return "absent";
        throw e;
      }
    },
    async renameUnit(unit, newName, signal) {
      const held = staged.get(unit);
      if (!held) unsupported("renaming a service");
      staged.delete(unit);
      await create(held.spec, newName, signal);
    },
    ensureNetwork: (project, name, signal) => ensureOverlay(project, name, signal),
    ensureVolume(project, module, name, signal, stateful) {
      // A volume is often the first thing made for a project (restore --verify's scratch one): its names are checked first.
      const m = admitted.get(module);
      if (m) assertServiceNames(project, m);
      return volumes.ensureVolume(project, module, name, signal, stateful);
    },
    removeVolume: volumes.removeVolume,
    async removeNetwork(project, name, signal) {
      const full = resourceName(project, name);
      try {
        const r = (await requestJson(engine, {
          method: "GET",
          path: `/networks/${seg(full)}`,
          operation: "inspect network",
          target: full,
          signal,
        })) as {
          Labels?: Record<string, string> | null;
        };
        if (r.Labels?.[LABEL.project] !== project) throw new EngineError({ kind: "conflict", operation: "remove network", target: full });
        await requestJson(engine, { method: "DELETE", path: `/networks/${seg(full)}`, operation: "remove network", target: full, signal });
        return "removed";
      } catch (e) {
        if (isEngineError(e, "not_found")) return "absent";
        throw e;
      }
    },
    async runOneShot(unit, opts) {
      const s = await getService(engine, unit, opts.signal);
      if (!s) throw new EngineError({ kind: "not_found", operation: "run job", target: unit });
      if (!isJob(s)) unsupported("running a long-running service as a one-shot");
      tails.delete(s.ID);
      tails.delete(s.Spec.Name);
      if (fresh.delete(s.ID)) return finishRun(s, jobIteration(s), await waitForJob(engine, s.ID, jobIteration(s), opts), opts.signal);
      const before = jobIteration(s);
      await update(
        s.ID,
        (spec) => {
          spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
          // A job parked after a timeout runs again: its own constraints only.
          const p = spec.TaskTemplate.Placement;
          if (p?.Constraints) p.Constraints = p.Constraints.filter((c) => c !== PARKED_CONSTRAINT);
        },
        opts.signal,
      );
      const after = await getService(engine, s.ID, opts.signal);
      if (!after) throw new EngineError({ kind: "not_found", operation: "run job", target: unit });
      // The update moves JobIteration on (not necessarily by 1): the run to wait for is the new one.
      const iteration = Math.max(jobIteration(after), before + 1);
      return finishRun(after, iteration, await waitForJob(engine, s.ID, iteration, opts), opts.signal);
    },
    waitForState: (unit, target, opts) => waitForService(engine, unit, target, opts),
    waitForExit: (unit, opts) => waitForNoTasks(engine, unit, opts),
    exec: (unit, cmd, timeoutMs, signal) => execInService(engine, engineOf, unit, cmd, timeoutMs, signal),
    async execStream(unit, cmd, opts) {
      const task = await runningTaskContainer(engine, engineOf, unit, "run exec in service", opts.signal);
      return execStream(task.engine, task.containerId, cmd, opts);
    },
    async tailLogs(unit, lines, signal) {
      const saved = tails.get(unit);
      if (saved) return lines > 0 ? saved.slice(-lines) : [];
      const s = await getService(engine, unit, signal);
      if (!s) throw new EngineError({ kind: "not_found", operation: "read logs of service", target: unit });
      if (isJob(s)) return iterationLogs(s, jobIteration(s), lines, signal);
      return readLogs(`/services/${seg(s.ID)}/logs`, unit, lines, signal);
    },
    unitMounts: () => unsupported("reading a task's mounts"),
    readDevice: () => unsupported("reading a task's devices"),
    checkVolumeAccess: volumes.checkVolumeAccess,
    readVolume: volumes.readVolume,
    writeVolume: volumes.writeVolume,
  };
}
