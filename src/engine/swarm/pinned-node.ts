// The Swarm node a module's placement constraints pin it to, and that node's own engine (PLATFORMCTL_SWARM_NODE_HOSTS).
import { PlatformError } from "../../errors.js";
import { connectEngine, type Engine } from "../connect.js";
import { requestJson } from "../dial.js";
import { readReply } from "../reply-shape.js";
import { NODE_HOSTS_VAR, parseNodeHosts } from "./node-hosts.js";
import { readNodes, type SwarmNode } from "./swarm-replies.js";

export type { SwarmNode } from "./swarm-replies.js";

/** A node as the constraint matcher and messages see it. */
export interface PinnedNode {
  id: string;
  hostname: string;
  /** `ready`, `down`, `unknown`, `disconnected`. */
  state: string;
}

const CONSTRAINT = /^\s*([a-zA-Z0-9_.-]+)\s*(==|!=)\s*(.*?)\s*$/;

/** The value a node has for constraint key `key` (swarmkit's keys); undefined for a key platformctl cannot evaluate. */
function nodeValue(node: SwarmNode, key: string): string | undefined | null {
  const k = key.toLowerCase();
  if (k === "node.id") return node.ID;
  if (k === "node.hostname") return node.Description?.Hostname ?? "";
  if (k === "node.role") return node.Spec.Role ?? "";
  if (k === "node.platform.os") return node.Description?.Platform?.OS ?? "";
  if (k === "node.platform.arch") return node.Description?.Platform?.Architecture ?? "";
  // A label the node lacks matches no `==` and every `!=` (null), as in swarmkit.
  if (key.startsWith("node.labels.")) return node.Spec.Labels?.[key.slice("node.labels.".length)] ?? null;
  if (key.startsWith("engine.labels.")) return node.Description?.Engine?.Labels?.[key.slice("engine.labels.".length)] ?? null;
  return undefined;
}

/**
 * True when `node` satisfies every constraint (swarmkit's matching: `==`/`!=`, values compared case-insensitively).
 * Pure. Throws `swarm.node_unavailable` for a constraint it cannot read rather than guess a node.
 */
export function matchesConstraints(node: SwarmNode, constraints: readonly string[]): boolean {
  return constraints.every((c) => {
    const m = CONSTRAINT.exec(c);
    const value = m ? nodeValue(node, m[1] as string) : undefined;
    if (!m || value === undefined)
      throw new PlatformError(
        "swarm.node_unavailable",
        `placement constraint ${JSON.stringify(c)} is not one platformctl can resolve to a node`,
        {
          hint: 'Use node.hostname==<node>, node.id==<id> or node.labels.<key>==<value> (README "Running on Docker Swarm").',
        },
      );
    const equal = value !== null && value.toLowerCase() === (m[3] as string).toLowerCase();
    return m[2] === "==" ? equal : !equal;
  });
}

/**
 * The one node `constraints` pin to, read from the manager (GET /nodes). Throws `swarm.node_unavailable` when no node
 * or more than one satisfies them, or when that node is not `ready` (a down node's volumes cannot be reached).
 */
export async function findPinnedNode(
  manager: Engine,
  constraints: readonly string[],
  what: string,
  signal?: AbortSignal,
): Promise<PinnedNode> {
  const reply = await requestJson(manager, { method: "GET", path: "/nodes", operation: "list nodes", signal });
  const matching = readReply(readNodes, reply, "list nodes").filter((n) => matchesConstraints(n, constraints));
  const shown = JSON.stringify(constraints);
  const describe = (n: SwarmNode): PinnedNode => ({
    id: n.ID,
    hostname: n.Description?.Hostname ?? n.ID,
    state: n.Status?.State ?? "unknown",
  });
  if (matching.length !== 1)
    throw new PlatformError(
      "swarm.node_unavailable",
      `the placement constraints ${shown} of ${what} match ${matching.length === 0 ? "no node" : `${matching.length} nodes (${matching.map((n) => describe(n).hostname).join(", ")})`} of the Swarm`,
      {
        detail: "Its volumes live on the one node its constraints pin it to; nothing was read or changed.",
        hint: "Check the constraints against docker node ls (hostnames, labels), then run the same command again.",
      },
    );
  const node = describe(matching[0] as SwarmNode);
  if (node.state !== "ready")
    throw new PlatformError("swarm.node_unavailable", `node ${node.hostname}, where ${what} keeps its volumes, is ${node.state}`, {
      detail: "Its volumes are local to that node: nothing was read or changed.",
      hint: `Bring node ${node.hostname} back (docker node ls shows Ready), then run the same command again.`,
    });
  return node;
}

/**
 * Connects to the engines of single nodes, named by PLATFORMCTL_SWARM_NODE_HOSTS (TLS settings as for DOCKER_HOST);
 * one client per address. The variable is parsed on first use, so commands that never reach a node ignore it.
 */
export function nodeEngines(env: Readonly<Record<string, string | undefined>>): (node: PinnedNode, why: string) => Engine {
  const clients = new Map<string, Engine>();
  return (node, why) => {
    const hosts = parseNodeHosts(env[NODE_HOSTS_VAR]);
    const address = hosts.get(node.hostname) ?? hosts.get(node.id);
    if (!address)
      throw new PlatformError(
        "swarm.node_host_unknown",
        `${why} needs the engine of node ${node.hostname}, which ${NODE_HOSTS_VAR} does not name`,
        {
          detail:
            "The manager cannot reach a node's volumes or containers; platformctl talks to that node's own engine. Nothing was changed.",
          hint: `Set ${NODE_HOSTS_VAR}=${node.hostname}=tcp://<address>:2375 (comma-separate several nodes), then run the same command again.`,
        },
      );
    let engine = clients.get(address);
    if (!engine) {
      engine = connectEngine({ ...env, DOCKER_HOST: address });
      clients.set(address, engine);
    }
    return engine;
  };
}
