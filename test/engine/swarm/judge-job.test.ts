// Judging one Swarm job iteration from its tasks, from plain data shaped as Engine 20.10 returns them (bugs included).
import { describe, expect, it } from "vitest";
import { judgeJob } from "../../../src/engine/swarm/judge-job.js";
import type { SwarmTask } from "../../../src/engine/swarm/observe-swarm.js";

let n = 0;
function aTask(state: string, over: { iteration?: number; exitCode?: number; err?: string; container?: boolean } = {}): SwarmTask {
  n += 1;
  return {
    ID: `task${n}`,
    ServiceID: "svc",
    NodeID: "node",
    CreatedAt: `2026-11-30T10:00:${String(n).padStart(2, "0")}Z`,
    DesiredState: "complete",
    ...(over.iteration ? { JobIteration: { Index: over.iteration } } : {}),
    Status: {
      State: state,
      ...(over.err ? { Err: over.err } : {}),
      ...(over.container === false ? {} : { ContainerStatus: { ContainerID: `c${n}`, ExitCode: over.exitCode ?? 0 } }),
    },
  };
}

describe("judgeJob", () => {
  it("judges a completed task of the iteration a success and ignores earlier iterations' failures", () => {
    expect(judgeJob([aTask("failed", { exitCode: 3 }), aTask("complete", { iteration: 2 })], 2).kind).toBe("succeeded");
  });

  it("reports a failed task with its container's exit code", () => {
    expect(judgeJob([aTask("failed", { exitCode: 7 })], 0)).toMatchObject({ kind: "failed", exitCode: 7 });
  });

  it("ends at once on a pending task the scheduler cannot place, with its message", () => {
    const v = judgeJob([aTask("pending", { err: "no suitable node (1 node not available)", container: false })], 0);
    expect(v).toMatchObject({ kind: "unschedulable", error: "task pending: no suitable node (1 node not available)" });
  });

  it("never judges a success when Swarm ran two tasks for one completion (moby#42741), and names the bug", () => {
    const v = judgeJob([aTask("complete", { iteration: 1 }), aTask("running", { iteration: 1 })], 1);
    expect(v.kind).toBe("duplicated");
    expect(v.kind === "duplicated" && v.error).toContain("moby#42741");
  });

  it("keeps waiting while the iteration's task runs, and says when the iteration has no task at all (moby#42742)", () => {
    expect(judgeJob([aTask("running", { iteration: 4 })], 4)).toEqual({ kind: "waiting", ran: true, tasks: 1 });
    expect(judgeJob([aTask("complete", { iteration: 3 })], 4)).toEqual({ kind: "waiting", ran: false, tasks: 0 });
  });

  it("reads a rejected task as a start error with the runtime's message", () => {
    const v = judgeJob([aTask("rejected", { err: "No such image: x", container: false })], 0);
    expect(v).toMatchObject({ kind: "start-error", error: "task rejected: No such image: x", ran: false });
  });
});
