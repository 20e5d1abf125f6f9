// The hand-written readers of engine replies: what they accept, what they drop, and the errors naming field and expectation.
import { describe, expect, it } from "vitest";
import { EngineError } from "../../src/engine/errors.js";
import { toObservedContainer } from "../../src/engine/inspect-container.js";
import { toHeldValues } from "../../src/engine/held-values.js";
import {
  arrayOf,
  bool,
  int,
  nullable,
  nullish,
  object,
  oneOf,
  readReply,
  recordOf,
  ReplyShapeError,
  str,
  tryRead,
} from "../../src/engine/reply-shape.js";

const shapeError = (fn: () => unknown): ReplyShapeError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ReplyShapeError) return e;
    throw e;
  }
  throw new Error("expected a ReplyShapeError");
};

describe("reply readers", () => {
  it("keeps only the listed fields of an object, so an unlisted Env never leaves the reader", () => {
    const read = object({ Config: object({ Image: str }) });
    expect(read({ Config: { Image: "busybox", Env: ["PW=secret"] }, Extra: 1 }, "")).toEqual({ Config: { Image: "busybox" } });
  });

  it("names the field path, what was expected and what came, for a wrong type deep in a reply", () => {
    const read = object({ State: object({ Health: nullish(object({ Log: arrayOf(object({ ExitCode: int })) })) }) });
    const e = shapeError(() => read({ State: { Health: { Log: [{ ExitCode: 0 }, { ExitCode: "1" }] } } }, ""));
    expect(e.message).toBe("State.Health.Log.1.ExitCode: expected integer, received string");
    expect(shapeError(() => read({}, "")).message).toBe("State: expected object, received undefined");
    expect(shapeError(() => int(1.5, "RestartCount")).message).toBe("RestartCount: expected integer, received number");
    expect(shapeError(() => bool(null, "Running")).message).toBe("Running: expected boolean, received null");
  });

  it("reads absent and null as undefined with nullish, keeps null with nullable, and refuses absent for nullable", () => {
    expect(nullish(str)(undefined, "a")).toBeUndefined();
    expect(nullish(str)(null, "a")).toBeUndefined();
    expect(nullable(int)(null, "a")).toBeNull();
    expect(shapeError(() => nullable(int)(undefined, "ExitCode")).message).toBe("ExitCode: expected integer, received undefined");
  });

  it("accepts only the closed set of a oneOf and says which values it expected", () => {
    expect(oneOf(["running", "exited"] as const)("exited", "Status")).toBe("exited");
    expect(shapeError(() => oneOf(["running", "exited"] as const)("zombie", "State.Status")).message).toBe(
      "State.Status: expected one of running, exited, received string",
    );
  });

  it("checks every value of a record and refuses an array where an object belongs", () => {
    expect(recordOf(str)({ a: "1", b: "2" }, "Labels")).toEqual({ a: "1", b: "2" });
    expect(shapeError(() => recordOf(str)({ a: 1 }, "Labels")).message).toBe("Labels.a: expected string, received number");
    expect(shapeError(() => recordOf(str)([], "Labels")).message).toBe("Labels: expected object, received array");
  });

  it("turns a reply that does not fit into EngineError unexpected naming the operation; tryRead gives undefined", () => {
    const read = object({ Id: str });
    expect(tryRead(read, { Id: 3 })).toBeUndefined();
    expect(tryRead(read, { Id: "abc" })).toEqual({ Id: "abc" });
    try {
      readReply(read, { Id: 3 }, "create container");
      throw new Error("expected an EngineError");
    } catch (e) {
      expect(e).toBeInstanceOf(EngineError);
      expect((e as EngineError).kind).toBe("unexpected");
      expect(`${(e as EngineError).message} ${(e as EngineError).detail ?? ""}`).toContain("Id: expected string, received number");
    }
  });
});

describe("container inspect narrowing", () => {
  const reply = {
    Id: "c1",
    Name: "/p_m_s",
    Created: "2026-11-30T10:00:00Z",
    Image: "sha256:1",
    RestartCount: 2,
    HostConfig: { RestartPolicy: { Name: "unless-stopped" } },
    Config: { Image: "busybox", Labels: { "dev.platformctl.module": "m", "dev.platformctl.service": "s" }, Env: ["PW=hunter2"] },
    State: {
      Status: "running",
      Running: true,
      OOMKilled: false,
      ExitCode: 0,
      Error: "",
      StartedAt: "2026-11-30T10:00:01Z",
      FinishedAt: "0001-01-01T00:00:00Z",
      Health: { Status: "healthy", Log: [{ ExitCode: 0, Output: "ok" }] },
    },
  };

  it("describes a container from a full reply without any environment value", () => {
    const c = toObservedContainer(reply);
    expect(c).toMatchObject({ id: "c1", name: "p_m_s", module: "m", service: "s", status: "running", restartCount: 2 });
    expect(c).toMatchObject({ restartPolicy: "unless-stopped", health: "healthy", finishedAt: undefined });
    expect(c.healthLog).toEqual([{ exitCode: 0, output: "ok" }]);
    expect(JSON.stringify(c)).not.toContain("hunter2");
  });

  it("fails as engine.unexpected naming the field when a reply lacks one platformctl relies on", () => {
    const { State, ...rest } = reply;
    const broken = { ...rest, State: { ...State, ExitCode: "0" } };
    expect(() => toObservedContainer(broken)).toThrow(EngineError);
    try {
      toObservedContainer(broken);
    } catch (e) {
      expect(`${(e as EngineError).message} ${(e as EngineError).detail ?? ""}`).toContain(
        "State.ExitCode: expected integer, received string",
      );
    }
  });

  it("reads held values only in the documented shape, null otherwise", () => {
    expect(toHeldValues(reply)).toEqual({ env: ["PW=hunter2"], entrypoint: null, cmd: null, healthcheck: null });
    expect(toHeldValues({ Config: { Env: [1] } })).toBeNull();
    expect(toHeldValues({})).toBeNull();
  });
});
