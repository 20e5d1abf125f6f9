// What the Docker runtime leaves unused of a manifest (Swarm's replicas and placement): warnings from plain data.
import { describe, expect, it } from "vitest";
import { runtimeIgnoredFields, runtimeNameOf } from "../../src/manifest/runtime-ignored-fields.js";
import { aModule, aService } from "../helpers/plan-data.js";

describe("runtimeIgnoredFields", () => {
  const swarmShaped = aModule({
    name: "web",
    services: [aService({ name: "api", replicas: 3 }), aService({ name: "one", replicas: 1 }), aService({ name: "plain" })],
    placementConstraints: ["node.labels.zone==a"],
  });

  it("warns on the Docker runtime for replicas other than 1, located by file and path, and not for placement (one engine is one node)", () => {
    expect(runtimeIgnoredFields("docker", [swarmShaped])).toEqual([
      {
        file: "modules/web/module.yaml",
        line: 0,
        column: 0,
        path: "spec.services.api.replicas",
        code: "runtime.ignored_field",
        message: "3 replicas are ignored on the Docker runtime (one container per service on one engine); it applies with --runtime swarm",
        hint: "Nothing, if the catalog also serves a Swarm (`--runtime swarm`); otherwise remove the field.",
      },
    ]);
  });

  it("says nothing on the Swarm runtime, which uses both fields", () => {
    expect(runtimeIgnoredFields("swarm", [swarmShaped])).toEqual([]);
  });

  it("says nothing for a module without Swarm fields", () => {
    expect(runtimeIgnoredFields("docker", [aModule({ placementConstraints: [] })])).toEqual([]);
  });
});

describe("runtimeNameOf", () => {
  it("reads PLATFORMCTL_RUNTIME, defaults to docker and knows no other names", () => {
    expect(runtimeNameOf({})).toBe("docker");
    expect(runtimeNameOf({ PLATFORMCTL_RUNTIME: "" })).toBe("docker");
    expect(runtimeNameOf({ PLATFORMCTL_RUNTIME: "swarm" })).toBe("swarm");
    expect(runtimeNameOf({ PLATFORMCTL_RUNTIME: "kubernetes" })).toBeUndefined();
  });
});
