// The placement-constraint matcher that finds the node a pinned module's volumes live on (pure, plain data).
import { describe, expect, it } from "vitest";
import { matchesConstraints, type SwarmNode } from "../../../src/engine/swarm/pinned-node.js";

const aNode = (hostname: string, labels: Record<string, string> = {}, role = "worker"): SwarmNode => ({
  ID: `id-${hostname}`,
  Spec: { Role: role, Labels: labels },
  Description: { Hostname: hostname, Platform: { OS: "linux", Architecture: "x86_64" }, Engine: { Labels: {} } },
  Status: { State: "ready" },
});

describe("matchesConstraints", () => {
  it("matches a hostname, a node id and a node label by equality, case-insensitively as swarmkit does", () => {
    const n = aNode("db1", { "platformctl.store": "minio" });
    expect(matchesConstraints(n, ["node.hostname==db1"])).toBe(true);
    expect(matchesConstraints(n, ["node.hostname == DB1"])).toBe(true);
    expect(matchesConstraints(n, ["node.id==id-db1"])).toBe(true);
    expect(matchesConstraints(n, ["node.labels.platformctl.store==minio"])).toBe(true);
    expect(matchesConstraints(n, ["node.hostname==db2"])).toBe(false);
  });

  it("needs every constraint to hold, and reads a missing label as matching no == and every !=", () => {
    const n = aNode("db1", {}, "manager");
    expect(matchesConstraints(n, ["node.hostname==db1", "node.role==worker"])).toBe(false);
    expect(matchesConstraints(n, ["node.hostname==db1", "node.role!=worker"])).toBe(true);
    expect(matchesConstraints(n, ["node.labels.zone==a"])).toBe(false);
    expect(matchesConstraints(n, ["node.labels.zone!=a"])).toBe(true);
  });

  it("refuses a constraint it cannot evaluate instead of guessing a node", () => {
    expect(() => matchesConstraints(aNode("db1"), ["node.ip==10.0.0.1"])).toThrow(/is not one platformctl can resolve to a node/);
    expect(() => matchesConstraints(aNode("db1"), ["hostname=db1"])).toThrow(/swarm|resolve/);
  });
});
