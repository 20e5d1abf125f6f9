// parseNodeHosts on plain strings: what PLATFORMCTL_SWARM_NODE_HOSTS accepts, and how each mistake is named.
import { describe, expect, it } from "vitest";
import { parseNodeHosts } from "../../../src/engine/swarm/node-hosts.js";
import { PlatformError } from "../../../src/errors.js";

function refusal(value: string): PlatformError {
  try {
    parseNodeHosts(value);
  } catch (e) {
    if (e instanceof PlatformError) return e;
    throw e;
  }
  throw new Error(`parseNodeHosts accepted ${value}`);
}

describe("parseNodeHosts", () => {
  it("reads node=tcp://host:port entries, trimmed, with a trailing comma allowed", () => {
    const hosts = parseNodeHosts(" node1=tcp://10.0.0.11:2375, db-1.example=tcp://db1.example ,");
    expect([...hosts]).toEqual([
      ["node1", "tcp://10.0.0.11:2375"],
      ["db-1.example", "tcp://db1.example"],
    ]);
  });

  it("reads an unset or blank variable as no node known", () => {
    expect(parseNodeHosts(undefined).size).toBe(0);
    expect(parseNodeHosts("  ").size).toBe(0);
  });

  it.each([
    ["node1", "entry 1 (\"node1\") has no '='"],
    ["node1=tcp://a:1,,node2=tcp://b:2", 'entry 2 ("") is empty'],
    ["=tcp://a:1", "does not start with a node name"],
    ["node1=unix:///var/run/docker.sock", "gives node node1 an address that is not tcp://host:port"],
    ["node1=tcp://", "gives node node1 an address that is not a valid tcp://host:port"],
    ["node1=tcp://a:1/path", "(no user, no path)"],
    ["node1=tcp://a:1,node1=tcp://b:2", 'entry 2 ("node1=tcp://b:2") names node node1 a second time'],
  ])("refuses %j naming the variable, the entry and what was expected", (value, says) => {
    const e = refusal(value);
    expect(e.code).toBe("usage.swarm_node_hosts");
    expect(e.message).toContain("PLATFORMCTL_SWARM_NODE_HOSTS");
    expect(e.message).toContain(says);
    expect(e.detail).toContain("node=DOCKER_HOST");
    expect(e.hint).toContain("PLATFORMCTL_SWARM_NODE_HOSTS=node1=tcp://");
  });

  it("never quotes a password given in an address", () => {
    const e = refusal("node1=tcp://admin:hunter2@10.0.0.1:2375");
    expect(`${e.message} ${e.detail} ${e.hint}`).not.toContain("hunter2");
    expect(e.message).toContain("tcp://…@10.0.0.1:2375");
  });
});
