// PLATFORMCTL_SWARM_NODE_HOSTS (`node=DOCKER_HOST,...`): where each Swarm node's own engine is reached, for exec in a task.
import { UsageError } from "../../errors.js";

/** The variable's name, for messages. */
export const NODE_HOSTS_VAR = "PLATFORMCTL_SWARM_NODE_HOSTS";

/**
 * Node engine addresses by node hostname (or node id, as the entry names it): `tcp://host[:port]` only, since a
 * node's engine is another machine's. Empty when the variable is unset or empty: exec probes are then skipped.
 */
export type NodeHosts = ReadonlyMap<string, string>;

const NODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const EXAMPLE = `${NODE_HOSTS_VAR}=node1=tcp://10.0.0.11:2375,node2=tcp://10.0.0.12:2375`;

/** An entry as it may be quoted in a message: cut, and any user:password@ part of an address left out. */
function quote(entry: string): string {
  const shown = entry.replace(/\/\/[^/@\s]*@/g, "//…@");
  return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown);
}

function bad(index: number, entry: string, what: string): never {
  throw new UsageError("usage.swarm_node_hosts", `${NODE_HOSTS_VAR} entry ${index} (${quote(entry)}) ${what}`, {
    detail:
      "Expected a comma-separated list of node=DOCKER_HOST, the node's hostname (as `docker node ls` shows it) or id, and its engine as tcp://host:port.",
    hint: `Fix or unset ${NODE_HOSTS_VAR}, e.g. ${EXAMPLE}`,
  });
}

/** Parses the variable; throws `usage.swarm_node_hosts` naming the entry and what was expected. Pure. */
export function parseNodeHosts(value: string | undefined): NodeHosts {
  const hosts = new Map<string, string>();
  if (value === undefined || value.trim() === "") return hosts;
  const entries = value.split(",");
  entries.forEach((raw, i) => {
    const entry = raw.trim();
    const n = i + 1;
    // A trailing comma is harmless; an empty entry between two others is a typo worth naming.
    if (entry === "") {
      if (i === entries.length - 1) return;
      bad(n, entry, "is empty");
    }
    const eq = entry.indexOf("=");
    if (eq < 0) bad(n, entry, "has no '=': expected node=tcp://host:port");
    const node = entry.slice(0, eq).trim();
    const address = entry.slice(eq + 1).trim();
    if (!NODE.test(node)) bad(n, entry, "does not start with a node name (letters, digits, '.', '_', '-')");
    if (!address.startsWith("tcp://")) bad(n, entry, `gives node ${node} an address that is not tcp://host:port`);
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      bad(n, entry, `gives node ${node} an address that is not a valid tcp://host:port`);
    }
    if (url.hostname === "") bad(n, entry, `gives node ${node} an address that is not a valid tcp://host:port (no host)`);
    if (url.username !== "" || url.password !== "" || (url.pathname !== "" && url.pathname !== "/"))
      bad(n, entry, `gives node ${node} an address that is not tcp://host:port (no user, no path)`);
    if (hosts.has(node)) bad(n, entry, `names node ${node} a second time`);
    hosts.set(node, `tcp://${url.host}`);
  });
  return hosts;
}
