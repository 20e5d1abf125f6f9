// Exec in a running task of a Swarm service, through the engine of the node the task runs on (PLATFORMCTL_SWARM_NODE_HOSTS).
import { ExecUnavailableError, type ExecResult } from "../../runtime/runtime.js";
import { execInContainer } from "../actions.js";
import type { Engine } from "../connect.js";
import { EngineError, isEngineError } from "../errors.js";
import { NODE_HOSTS_VAR } from "./node-hosts.js";
import type { nodeEngines } from "./pinned-node.js";
import { runningTaskContainers } from "./task-container.js";

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
  const found = await runningTaskContainers(manager, engineOf, ref, "exec in service", both);
  let last: unknown;
  for (const t of found.reachable) {
    await pingNode(t.engine, t.node.hostname, both, deadline);
    const left = timeoutMs - (Date.now() - started);
    if (left <= 0) return { exitCode: null, output: "", timedOut: true };
    try {
      return await execInContainer(t.engine, t.containerId, cmd, left, signal);
    } catch (e) {
      // The task ended (or moved) between the listing and the exec: try the next running one.
      if (!isEngineError(e, "not_found", "conflict")) throw e;
      last = e;
    }
  }
  if (found.reachable.length === 0) {
    const names = found.unknownNodes;
    throw new ExecUnavailableError(
      `cannot exec in service ${found.service}: no engine address is known for ${names.length === 1 ? "node" : "nodes"} ${names.join(", ")}, where its running ${names.length === 1 ? "task runs" : "tasks run"} (the manager cannot exec into a task on a node)`,
      { hint: `Set ${NODE_HOSTS_VAR}=${names[0]}=tcp://<that node's engine>:2375 to run exec probes there.` },
    );
  }
  throw new EngineError({
    kind: "conflict",
    operation: "exec in service",
    target: found.service,
    message: `service ${found.service}'s running tasks ended before the exec reached them`,
    cause: last,
  });
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
