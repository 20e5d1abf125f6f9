// Reading the Swarm manager's replies with the hand-written readers: the fields kept, those dropped, and a malformed reply's error.
import { describe, expect, it } from "vitest";
import { EngineError } from "../../../src/engine/errors.js";
import { readReply } from "../../../src/engine/reply-shape.js";
import { readNodes, readService, readTasks } from "../../../src/engine/swarm/swarm-replies.js";

/** A service as Engine 20.10's GET /services/{id} returns it (trimmed), with a secret in its environment. */
const aService = (over: Record<string, unknown> = {}) => ({
  ID: "svc1",
  Version: { Index: 12 },
  CreatedAt: "2026-11-30T10:00:00Z",
  UpdatedAt: "2026-11-30T10:00:01Z",
  Spec: {
    Name: "p_job_job",
    Labels: { "platformctl.project": "p" },
    Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
    TaskTemplate: {
      ContainerSpec: { Image: "busybox:1", Env: ["PASSWORD=hunter2"], StopGracePeriod: 5_000_000_000 },
      RestartPolicy: { Condition: "none", MaxAttempts: 0 },
      Placement: { Constraints: ["node.hostname==node2"] },
      ForceUpdate: 2,
    },
    ...over,
  },
  JobStatus: { JobIteration: { Index: 3 }, LastExecution: "2026-11-30T10:00:02Z" },
});

const detailOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e.detail;
    throw e;
  }
  throw new Error("expected an EngineError");
};

describe("Swarm reply readers", () => {
  it("keeps the fields the adapter reads, including the stop grace and restart condition, and never the environment", () => {
    const s = readReply(readService, aService(), "inspect service");
    expect(s.Spec.TaskTemplate.ContainerSpec).toEqual({ Image: "busybox:1", Healthcheck: undefined, StopGracePeriod: 5_000_000_000 });
    expect(s.Spec.TaskTemplate.RestartPolicy?.Condition).toBe("none");
    expect(s.Spec.TaskTemplate.Placement?.Constraints).toEqual(["node.hostname==node2"]);
    expect(s.Spec.Mode.ReplicatedJob?.TotalCompletions).toBe(1);
    expect(s.JobStatus?.JobIteration?.Index).toBe(3);
    expect(JSON.stringify(s)).not.toContain("hunter2");
  });

  it("reads a long-running service with null labels and no job status", () => {
    const s = readReply(readService, { ...aService({ Labels: null, Mode: { Replicated: { Replicas: 2 } } }), JobStatus: undefined }, "x");
    expect(s.Spec.Labels).toBeUndefined();
    expect(s.Spec.Mode).toEqual({ Replicated: { Replicas: 2 }, ReplicatedJob: undefined });
    expect(s.JobStatus).toBeUndefined();
  });

  it("fails a malformed reply as an unexpected engine reply naming the operation and the field path", () => {
    let caught: unknown;
    try {
      readReply(readService, aService({ Name: 7 }), "inspect service");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(EngineError);
    expect((caught as EngineError).kind).toBe("unexpected");
    expect((caught as EngineError).message).toContain("inspect service");
    expect((caught as EngineError).detail).toBe("Spec.Name: expected string, received number");
  });

  it("names the index of the task or node that does not fit in a list", () => {
    const task = { ID: "t", ServiceID: "s", CreatedAt: "c", DesiredState: "running", Status: { State: "running" } };
    expect(readReply(readTasks, [task], "list tasks")).toHaveLength(1);
    expect(detailOf(() => readReply(readTasks, [task, { ...task, Status: { State: 1 } }], "list tasks"))).toBe(
      "1.Status.State: expected string, received number",
    );
    expect(detailOf(() => readReply(readNodes, [{ ID: "n1" }], "list nodes"))).toBe("0.Spec: expected object, received undefined");
  });
});
