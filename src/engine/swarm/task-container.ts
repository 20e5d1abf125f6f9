// The containers of a service's running tasks, on their nodes' engines: where a command runs "in the service" on a Swarm.
import { PlatformError } from "../../errors.js";
import type { Engine } from "../connect.js";
import { requestJson, seg } from "../dial.js";
import { EngineError } from "../errors.js";
import { tryRead } from "../reply-shape.js";
import { getService, listTasks } from "./observe-swarm.js";
import type { nodeEngines, PinnedNode } from "./pinned-node.js";
import { readNode } from "./swarm-replies.js";

/** A running task's container and the engine of the node it runs on. */
export interface TaskContainer {
  engine: Engine;
  containerId: string;
  node: PinnedNode;
}

/** The running tasks of one service, newest first: those on a node whose engine is known, and the nodes that are not. */
export interface TaskContainers {
  service: string;
  reachable: TaskContainer[];
  /** Hostnames of nodes running a task of the service that PLATFORMCTL_SWARM_NODE_HOSTS does not name (sorted). */
  unknownNodes: string[];
  /** The `swarm.node_host_unknown` error of the newest task's node, when no task is reachable. */
  unknownError?: PlatformError;
}

/**
 * Finds the running tasks of service `unit` and their containers on their nodes (the one lookup behind exec probes
 * and exec backups). Throws `not_found` for no such service and `conflict` when no task runs (the port's "not
 * running"); a malformed PLATFORMCTL_SWARM_NODE_HOSTS throws its usage error. A node the variable does not name is
 * listed in `unknownNodes`, never guessed.
 */
export async function runningTaskContainers(
  manager: Engine,
  engineOf: ReturnType<typeof nodeEngines>,
  unit: string,
  why: string,
  signal?: AbortSignal,
): Promise<TaskContainers> {
  const s = await getService(manager, unit, signal);
  if (!s) throw new EngineError({ kind: "not_found", operation: why, target: unit });
  const running = (await listTasks(manager, s.ID, signal))
    .filter((t) => t.Status.State === "running" && t.DesiredState === "running" && t.NodeID && t.Status.ContainerStatus?.ContainerID)
    .sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt));
  if (running.length === 0)
    throw new EngineError({ kind: "conflict", operation: why, target: s.Spec.Name, message: `service ${s.Spec.Name} has no running task` });
  const nodes = new Map<string, PinnedNode>();
  for (const id of new Set(running.map((t) => t.NodeID as string))) nodes.set(id, await inspectNode(manager, id, signal));
  const out: TaskContainers = { service: s.Spec.Name, reachable: [], unknownNodes: [] };
  const unknown = new Set<string>();
  for (const t of running) {
    const node = nodes.get(t.NodeID as string) as PinnedNode;
    try {
      out.reachable.push({ engine: engineOf(node, why), containerId: t.Status.ContainerStatus?.ContainerID as string, node });
    } catch (e) {
      if (!(e instanceof PlatformError && e.code === "swarm.node_host_unknown")) throw e;
      out.unknownError ??= e;
      unknown.add(node.hostname);
    }
  }
  out.unknownNodes = [...unknown].sort();
  return out;
}

/**
 * The newest running task of service `unit` on a node whose engine is known. Throws as runningTaskContainers, and
 * `swarm.node_host_unknown` (naming the newest task's node) when PLATFORMCTL_SWARM_NODE_HOSTS names none of them.
 */
export async function runningTaskContainer(
  manager: Engine,
  engineOf: ReturnType<typeof nodeEngines>,
  unit: string,
  why: string,
  signal?: AbortSignal,
): Promise<TaskContainer> {
  const found = await runningTaskContainers(manager, engineOf, unit, why, signal);
  const first = found.reachable[0];
  if (first) return first;
  throw found.unknownError as PlatformError;
}

/** A node's hostname and state from the manager; a reply without them reads as the node's id and `unknown`. */
async function inspectNode(manager: Engine, id: string, signal?: AbortSignal): Promise<PinnedNode> {
  const reply = await requestJson(manager, { method: "GET", path: `/nodes/${seg(id)}`, operation: "inspect node", target: id, signal });
  const n = tryRead(readNode, reply);
  return { id, hostname: n?.Description?.Hostname || id, state: n?.Status?.State ?? "unknown" };
}
