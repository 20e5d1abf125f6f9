// Volume content on a Swarm: read, written, made sure of and removed on the node a module is pinned to, through that node's engine.
import { setTimeout as delay } from "node:timers/promises";
import { PlatformError } from "../../errors.js";
import type { Module } from "../../manifest/module.js";
import { resourceName } from "../../plan/unit-name.js";
import type { EnsuredResource, Runtime } from "../../runtime/runtime.js";
import { ensureVolume, removeVolume } from "../actions.js";
import type { Engine } from "../connect.js";
import { requestJson, seg } from "../dial.js";
import { LABEL } from "../labels.js";
import { getService } from "./observe-swarm.js";
import { isEngineError } from "../errors.js";
import { readVolume, writeVolume } from "../volume-archive.js";
import { assertHelperImage } from "../helper-image.js";
import { findPinnedNode, nodeEngines, type PinnedNode } from "./pinned-node.js";

/** How long a volume removal waits for the containers of removed tasks to go (Swarm removes them asynchronously). */
const TASK_CONTAINERS_GONE_MS = 30_000;
const POLL_MS = 250;

type VolumeOps = Pick<Runtime, "checkVolumeAccess" | "readVolume" | "writeVolume" | "ensureVolume" | "removeVolume"> & {
  /** Remembers where the modules' volumes live (their placement constraints); called by `Runtime.admit`. No I/O. */
  remember(modules: readonly Module[]): void;
};

/**
 * Why not a Swarm job: a job cannot hand bytes back to the manager. Its logs are text (measured: 4,000,000 random
 * bytes came back from `service logs` as 7,432,030 bytes of replacement characters), base64 over logs round-trips but
 * needs a shell, tar and base64 in the image, writes the whole volume into the node's log file and runs at ~1.5 MB/s,
 * and a restore has no way in at all (a task has no stdin). The node's own engine has the archive endpoints Docker
 * backup uses (byte-exact, ~25 MB/s on the same cluster), so the volume is read and written exactly as on Docker:
 * by a helper container created — never started — on the pinned node, mounting the same volume, removed always.
 * The node is the one the module's own constraints select (GET /nodes on the manager), never a guess.
 */
export function swarmVolumes(manager: Engine, env: Readonly<Record<string, string | undefined>>): VolumeOps {
  const constraintsOf = new Map<string, readonly string[]>();
  const modulesOf = new Map<string, Set<string>>();
  const engineOf = nodeEngines(env);

  /** The node holding the volumes of `modules` (one node: modules sharing a volume must share a pin), and its engine. */
  async function nodeOf(modules: readonly string[], what: string, signal?: AbortSignal): Promise<{ engine: Engine; node: PinnedNode }> {
    if (modules.length === 0)
      throw new PlatformError("swarm.unsupported", `${what}: no module loaded by this command mounts it, so its node is unknown`, {
        hint: "Name the module that owns the volume (its manifest must be in --modules-dir).",
      });
    const nodes = new Map<string, PinnedNode>();
    for (const m of modules) {
      const n = await findPinnedNode(manager, constraintsOf.get(m) ?? [], `module ${m}`, signal);
      nodes.set(n.id, n);
    }
    if (nodes.size > 1)
      throw new PlatformError(
        "swarm.node_unavailable",
        `${what} is mounted by modules pinned to different nodes (${[...nodes.values()].map((n) => n.hostname).join(", ")})`,
        {
          detail: "A local volume exists once per node: these modules do not share data. Nothing was read or changed.",
          hint: `Pin ${modules.join(", ")} to the same node (spec.placement.constraints).`,
        },
      );
    const node = [...nodes.values()][0] as PinnedNode;
    return { engine: engineOf(node, what), node };
  }
  const nodeFor = async (modules: readonly string[], what: string, signal?: AbortSignal): Promise<Engine> =>
    (await nodeOf(modules, what, signal)).engine;

  const byVolume = (volume: string) => [...(modulesOf.get(volume) ?? [])].sort();

  return {
    remember(modules) {
      for (const m of modules) {
        constraintsOf.set(m.name, m.placementConstraints ?? []);
        for (const s of m.services)
          for (const v of s.volumes)
            if (v.type === "volume" && v.source) modulesOf.set(v.source, (modulesOf.get(v.source) ?? new Set()).add(m.name));
      }
    },
    async checkVolumeAccess(project, names, signal, helper) {
      for (const v of names) {
        const { engine, node } = await nodeOf(byVolume(v), `reaching volume ${resourceName(project, v)}`, signal);
        await engine.ping(signal);
        // The helper is created on that node, by its engine: the image must be there, not (only) on the manager.
        if (helper) await assertHelperImage(engine, helper, signal, node.hostname);
      }
    },
    async readVolume(project, volume, consume, opts) {
      const node = await nodeFor(byVolume(volume), `reading volume ${resourceName(project, volume)}`, opts.signal);
      return readVolume(node, project, volume, consume, opts);
    },
    async writeVolume(project, volume, tar, opts) {
      const node = await nodeFor(byVolume(volume), `writing volume ${resourceName(project, volume)}`, opts.signal);
      await writeVolume(node, project, volume, tar, opts);
    },
    async ensureVolume(project, module, name, signal, stateful): Promise<EnsuredResource> {
      const node = await nodeFor([module], `making sure of volume ${resourceName(project, name)}`, signal);
      return ensureVolume(node, project, module, name, signal, stateful);
    },
    async removeVolume(project, name, signal) {
      const full = resourceName(project, name);
      const node = await nodeFor(byVolume(name), `removing volume ${full}`, signal);
      const deadline = Date.now() + TASK_CONTAINERS_GONE_MS;
      for (;;) {
        try {
          return await removeVolume(node, project, name, signal);
        } catch (e) {
          // The containers of just-removed tasks still mount it for a moment; anything else mounting it is not ours to wait for.
          if (!isEngineError(e, "conflict") || Date.now() > deadline || !(await reapTaskContainers(manager, node, project, full, signal)))
            throw e;
          await delay(POLL_MS, undefined, { signal }).catch(() => undefined); // an abort ends the wait; the next request reports it
        }
      }
    },
  };
}

/**
 * Before a volume removal is retried: the stopped containers of tasks whose service is gone are removed (Docker
 * 20.10 leaves a completed job's container behind after `service rm`, moby#44312), but only the project's. True when
 * every container still mounting `full` is a task container Swarm will remove itself; false when anything else
 * mounts it (a running task, a container that is not a task): not ours to wait for.
 */
async function reapTaskContainers(manager: Engine, node: Engine, project: string, full: string, signal?: AbortSignal): Promise<boolean> {
  const reply = (await requestJson(node, {
    method: "GET",
    path: "/containers/json",
    query: { all: "1", filters: JSON.stringify({ volume: [full] }) },
    operation: "list containers mounting volume",
    target: full,
    signal,
  })) as { Id: string; State?: string; Labels?: Record<string, string> | null }[];
  for (const c of reply) {
    const service = c.Labels?.["com.docker.swarm.service.id"];
    if (service === undefined) return false;
    if (c.State === "running" || c.Labels?.[LABEL.project] !== project || (await getService(manager, service, signal))) continue;
    try {
      await requestJson(node, {
        method: "DELETE",
        path: `/containers/${seg(c.Id)}`,
        operation: "remove container of a removed task",
        target: c.Id,
        signal,
      });
    } catch (e) {
      if (!isEngineError(e, "not_found")) throw e; // Swarm removed it meanwhile
    }
  }
  return true;
}
