// classifyState: the order of the checks is the contract (docker-engine.md §2.4).
import { describe, expect, it } from "vitest";
import { classifyState, type ContainerStateFacts } from "../../src/engine/classify-state.js";

const state = (s: Partial<ContainerStateFacts>): ContainerStateFacts => ({
  status: "exited",
  running: false,
  exitCode: 0,
  oomKilled: false,
  error: "",
  restartCount: 0,
  ...s,
});

describe("classifyState", () => {
  it("calls a created container without an error never-started, even though its exit code is 0", () => {
    expect(classifyState(state({ status: "created" }))).toEqual({ kind: "never-started" });
  });

  it("calls a created container with State.Error a start error, keeping code and message", () => {
    expect(classifyState(state({ status: "created", exitCode: 127, error: "exec: no such file" }))).toEqual({
      kind: "start-error",
      exitCode: 127,
      error: "exec: no such file",
    });
  });

  it("checks OOM before the exit code, so an OOM kill with exit 0 or 137 is never success or a plain kill", () => {
    expect(classifyState(state({ exitCode: 137, oomKilled: true }))).toEqual({ kind: "oom-killed", exitCode: 137 });
    expect(classifyState(state({ exitCode: 0, oomKilled: true }))).toEqual({ kind: "oom-killed", exitCode: 0 });
  });

  it("reads 137 without OOM as killed by signal 9 and 143 as signal 15", () => {
    expect(classifyState(state({ exitCode: 137 }))).toEqual({ kind: "killed", signal: 9, exitCode: 137 });
    expect(classifyState(state({ exitCode: 143 }))).toEqual({ kind: "killed", signal: 15, exitCode: 143 });
  });

  it("reads an exited unit with no exit code kept as failed, never as succeeded", () => {
    expect(classifyState(state({ exitCode: null }))).toEqual({ kind: "failed", exitCode: null });
  });

  it("reads exit 0 as succeeded and other codes as failed", () => {
    expect(classifyState(state({ exitCode: 0 }))).toEqual({ kind: "succeeded" });
    expect(classifyState(state({ exitCode: 3 }))).toEqual({ kind: "failed", exitCode: 3 });
    expect(classifyState(state({ exitCode: 128 }))).toEqual({ kind: "failed", exitCode: 128 });
    expect(classifyState(state({ exitCode: 255 }))).toEqual({ kind: "failed", exitCode: 255 });
  });

  it("reports restarting before running, and paused as running", () => {
    expect(classifyState(state({ status: "restarting", running: true, exitCode: 2, restartCount: 3 }))).toEqual({
      kind: "restarting",
      restartCount: 3,
    });
    expect(classifyState(state({ status: "running", running: true }))).toEqual({ kind: "running" });
    expect(classifyState(state({ status: "paused", running: true }))).toEqual({ kind: "running" });
  });
});
