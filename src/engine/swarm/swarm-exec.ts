// Exec in a running task of a Swarm service, through the engine of the node the task runs on (PLATFORMCTL_SWARM_NODE_HOSTS).
import { z } from "zod";
import { PlatformError } from "../../errors.js";
import { ExecUnavailableError, type ExecResult } from "../../runtime/runtime.js";
import { execInContainer } from "../actions.js";
import type { Engine } from "../connect.js";
import { requestJson, seg } from "../dial.js";
import { EngineError, isEngineError } from "../errors.js";
import { NODE_HOSTS_VAR } from "./node-hosts.js";
import { getService, listTasks } from "./observe-swarm.js";
import type { nodeEngines, PinnedNode } from "./pinned-node.js";

const NodeSchema = z.object({
  ID: z.string(),
  Description: z.object({ Hostname: z.string() }).partial().optional(),
  Status: z.object({ State: z.string() }).partial().optional(),
});

/**
 * Runs `cmd` in one running task of service `ref`, within `timeoutMs` overall (lookups, the node's ping, the exec).
 * The manager cannot exec into a task: the container lives on a node, so the command goes to that node's engine,
 * named by PLATFORMCTL_SWARM_NODE_HOSTS (`engineOf`, by the node's hostname or id; a malformed variable throws its
 * usage error). No running task: `conflict`. No known address for any node running a task: `ExecUnavailableError`
 * (reported skipped by probes, never passed). A node engine that does not answer fails within the ping's bound. A
 * task whose container is gone by the time the exec reaches it (rescheduled mid-probe) is passed over for the next.
 */
export async function execInService(
  manager: Engine,
  engineOf: ReturnType<typeof nodeEngines>,
  ref: string,
  cmd: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ExecResult> {
  const started = Date.now();
  const deadline = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const s = await getService(manager, ref, both);
  if (!s) throw new EngineError({ kind: "not_found", operation: "exec in service", target: ref });
  const running = (await listTasks(manager, s.ID, both))
    .filter((t) => t.DesiredState === "running" && t.Status.State === "running" && t.NodeID && t.Status.ContainerStatus?.ContainerID)
    .sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt));
  if (running.length === 0)
    throw new EngineError({
      kind: "conflict",
      operation: "exec in service",
      target: s.Spec.Name,
      message: `service ${s.Spec.Name} has no running task`,
    });
  const nodes = new Map<string, PinnedNode>();
  for (const id of new Set(running.map((t) => t.NodeID as string))) nodes.set(id, await inspectNode(manager, id, both));
  const unknown = new Set<string>();
  let tried = 0;
  let last: unknown;
  for (const t of running) {
    const node = nodes.get(t.NodeID as string) as PinnedNode;
    let engine: Engine;
    try {
      engine = engineOf(node, `exec in service ${s.Spec.Name}`);
    } catch (e) {
      if (!(e instanceof PlatformError && e.code === "swarm.node_host_unknown")) throw e;
      unknown.add(node.hostname);
      continue;
    }
    tried++;
    await pingNode(engine, node.hostname, both, deadline);
    const left = timeoutMs - (Date.now() - started);
    if (left <= 0) return { exitCode: null, output: "", timedOut: true };
    try {
      return await execInContainer(engine, t.Status.ContainerStatus?.ContainerID as string, cmd, left, signal);
    } catch (e) {
      // The task ended (or moved) between the listing and the exec: try the next running one.
      if (!isEngineError(e, "not_found", "conflict")) throw e;
      last = e;
    }
  }
  if (tried === 0) {
    const names = [...unknown].sort();
    throw new ExecUnavailableError(
      `cannot exec in service ${s.Spec.Name}: no engine address is known for ${names.length === 1 ? "node" : "nodes"} ${names.join(", ")}, where its running ${running.length === 1 ? "task runs" : "tasks run"} (the manager cannot exec into a task on a node)`,
      { hint: `Set ${NODE_HOSTS_VAR}=${names[0]}=tcp://<that node's engine>:2375 to run exec probes there.` },
    );
  }
  throw new EngineError({
    kind: "conflict",
    operation: "exec in service",
    target: s.Spec.Name,
    message: `service ${s.Spec.Name}'s running tasks ended before the exec reached them`,
    cause: last,
  });
}

async function inspectNode(manager: Engine, id: string, signal: AbortSignal): Promise<PinnedNode> {
  const reply = await requestJson(manager, { method: "GET", path: `/nodes/${seg(id)}`, operation: "inspect node", target: id, signal });
  const r = NodeSchema.safeParse(reply);
  return {
    id,
    hostname: (r.success ? r.data.Description?.Hostname : undefined) || id,
    state: (r.success ? r.data.Status?.State : undefined) ?? "unknown",
  };
}

/** A node engine that does not answer fails within the ping's bound, naming the node and its address. */
async function pingNode(engine: Engine, node: string, signal: AbortSignal, deadline: AbortSignal): Promise<void> {
  try {
    await engine.ping(signal);
  } catch (e) {
    if (isEngineError(e, "unreachable", "unresponsive") || (isEngineError(e, "aborted") && deadline.aborted))
      throw new EngineError({
        kind: "unreachable",
        operation: "exec in task",
        endpoint: engine.endpoint,
        target: node,
        message: `node ${node}'s engine at ${engine.endpoint} (${NODE_HOSTS_VAR}) does not answer`,
        cause: e,
      });
    throw e;
  }
}
