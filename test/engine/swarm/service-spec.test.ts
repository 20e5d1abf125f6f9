// The Swarm service create body, built from plain data: exact output, no engine.
import { describe, expect, it } from "vitest";
import { assertPinnedIfStateful, buildService, isPinned } from "../../../src/engine/swarm/service-spec.js";
import { aModule, aService } from "../../helpers/plan-data.js";

const specFor = (module = aModule()) => ({
  project: "p",
  module,
  service: module.services[0] ?? aService(),
  env: { TOKEN: "s3cret" },
  digestKey: undefined,
  envFileValues: {},
});

describe("buildService", () => {
  it("builds a replicated service with 0 tasks, its replicas in a label, dnsrr endpoints and labels on service and containers", () => {
    const m = aModule({
      name: "web",
      services: [
        aService({ name: "web", command: ["sleep", "9"], replicas: 3, restart: "always", networks: ["back"], stopGracePeriodSeconds: 2 }),
      ],
      placementConstraints: ["node.labels.zone==a"],
    });
    const { spec, networks, job } = buildService(specFor(m), "p_web_web", "sha256:abc");
    expect(job).toBe(false);
    expect(networks).toEqual(["p_back"]);
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 0 } });
    expect(spec.EndpointSpec).toEqual({ Mode: "dnsrr" });
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: "any" });
    expect(spec.TaskTemplate.Placement).toEqual({ Constraints: ["node.labels.zone==a"] });
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: "p_back", Aliases: ["web"] }]);
    expect(spec.TaskTemplate.ContainerSpec).toMatchObject({ Image: m.services[0]?.image, Args: ["sleep", "9"], StopGracePeriod: 2e9 });
    expect(spec.Labels).toMatchObject({
      "dev.platformctl.project": "p",
      "dev.platformctl.module": "web",
      "dev.platformctl.service": "web",
      "dev.platformctl.replicas": "3",
      "dev.platformctl.image-id": "sha256:abc",
    });
    expect(spec.TaskTemplate.ContainerSpec.Labels["dev.platformctl.spec-hash"]).toBe(spec.Labels["dev.platformctl.spec-hash"]);
    expect(Object.keys(spec.Labels)).not.toContain("com.docker.stack.namespace");
  });

  it("builds a one-shot as a replicated job of one completion that is never restarted", () => {
    const m = aModule({
      name: "init",
      services: [aService({ name: "init", expectedState: "exited-success", environment: { T: "${TOKEN}" } })],
    });
    const built = buildService(specFor(m), "p_init_init", null);
    expect(built.job).toBe(true);
    expect(built.spec.Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } });
    expect(built.spec.TaskTemplate.RestartPolicy).toEqual({ Condition: "none" });
    expect(built.secrets).toEqual(["s3cret"]);
    expect(JSON.stringify(built.spec.Labels)).not.toContain("s3cret");
  });
});

describe("the stateful pinning rule", () => {
  it("counts hostname, node id and node label equalities as pinning, and nothing else", () => {
    for (const c of ["node.hostname==db1", "node.id==abc", "node.labels.store==minio"])
      expect(isPinned({ placementConstraints: [c] })).toBe(true);
    for (const c of ["node.role==worker", "node.hostname!=db1"]) expect(isPinned({ placementConstraints: [c] })).toBe(false);
    expect(isPinned({ placementConstraints: [] })).toBe(false);
  });

  it("refuses an unpinned stateful module naming its manifest and the field to add", () => {
    const m = aModule({ name: "store", stateful: true });
    expect(() => assertPinnedIfStateful(m)).toThrow(
      expect.objectContaining({ code: "swarm.unpinned_stateful", hint: expect.stringContaining("spec.placement.constraints") }),
    );
    expect(() =>
      assertPinnedIfStateful(aModule({ name: "store", stateful: true, placementConstraints: ["node.hostname==n3"] })),
    ).not.toThrow();
    expect(() => assertPinnedIfStateful(aModule({ name: "cache" }))).not.toThrow();
  });
});
