// The container of a service's running task, on its node's engine: where a command runs "in the service" on a Swarm.
import type { Engine } from "../connect.js";
import { requestJson, seg } from "../dial.js";
import { EngineError } from "../errors.js";
import { getService, listTasks } from "./observe-swarm.js";
import type { nodeEngines, PinnedNode } from "./pinned-node.js";

/** A running task's container and the engine of the node it runs on. */
export interface TaskContainer {
  engine: Engine;
  containerId: string;
  node: string;
}

/**
 * Finds a running task of service `unit` (the newest) and its container on its node. Throws `not_found` for no such
 * service, `conflict` when no task runs (the port's "not running"), and `swarm.node_host_unknown` when
 * PLATFORMCTL_SWARM_NODE_HOSTS does not name that node's engine.
 */
export async function runningTaskContainer(
  manager: Engine,
  engineOf: ReturnType<typeof nodeEngines>,
  unit: string,
  why: string,
  signal?: AbortSignal,
): Promise<TaskContainer> {
  const s = await getService(manager, unit, signal);
  if (!s) throw new EngineError({ kind: "not_found", operation: why, target: unit });
  const running = (await listTasks(manager, s.ID, signal))
    .filter((t) => t.Status.State === "running" && t.DesiredState === "running" && t.NodeID && t.Status.ContainerStatus?.ContainerID)
    .sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt));
  const task = running[0];
  if (!task)
    throw new EngineError({ kind: "conflict", operation: why, target: unit, message: `service ${s.Spec.Name} has no running task` });
  const n = (await requestJson(manager, {
    method: "GET",
    path: `/nodes/${seg(task.NodeID as string)}`,
    operation: "inspect node",
    target: task.NodeID,
    signal,
  })) as {
    Description?: { Hostname?: string };
    Status?: { State?: string };
  };
  const node: PinnedNode = {
    id: task.NodeID as string,
    hostname: n.Description?.Hostname ?? (task.NodeID as string),
    state: n.Status?.State ?? "unknown",
  };
  return { engine: engineOf(node, why), containerId: task.Status.ContainerStatus?.ContainerID as string, node: node.hostname };
}
