// Engine failure classification: by HTTP status and errno only, with cause kept and no request body in the message.
import { describe, expect, it } from "vitest";
import { PlatformError } from "../../src/errors.js";
import { EngineError, isEngineError, kindForStatus, toEngineError } from "../../src/engine/errors.js";
import { startContainer, createContainer } from "../../src/engine/actions.js";
import { testProject } from "../helpers/run-id.js";
import { testEngine } from "../helpers/docker.js";
import { LABEL } from "../../src/engine/labels.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const call = { operation: "start container", target: "p_m_s" };

describe("engine error classification", () => {
  it("maps HTTP status codes to kinds", () => {
    expect([200, 204, 304, 400, 404, 409, 500, 503, 401].map(kindForStatus)).toEqual([
      undefined,
      undefined,
      "not_modified",
      "bad_request",
      "not_found",
      "conflict",
      "server",
      "server",
      "unexpected",
    ]);
  });

  it("classifies by statusCode even when the message says something else", () => {
    const e = toEngineError(Object.assign(new Error("no such container (but really a conflict)"), { statusCode: 409 }), call);
    expect(e.kind).toBe("conflict");
    expect(e.code).toBe("engine.conflict");
    expect(e.statusCode).toBe(409);
  });

  it("classifies connection errnos as unreachable", () => {
    for (const code of ["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET"]) {
      expect(toEngineError(Object.assign(new Error("x"), { code }), call).kind).toBe("unreachable");
    }
  });

  it("classifies an abort as aborted, by error name or by the caller's signal", () => {
    expect(toEngineError(Object.assign(new Error("x"), { name: "AbortError" }), call).kind).toBe("aborted");
    expect(toEngineError(Object.assign(new Error("x"), { code: "ABORT_ERR" }), call).kind).toBe("aborted");
    const ac = new AbortController();
    ac.abort();
    expect(toEngineError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), call, ac.signal).kind).toBe("aborted");
  });

  it("keeps the cause, passes an EngineError through unchanged, and is a PlatformError", () => {
    const cause = Object.assign(new Error("boom"), { statusCode: 500 });
    const e = toEngineError(cause, call);
    expect(e.cause).toBe(cause);
    expect(e).toBeInstanceOf(PlatformError);
    expect(toEngineError(e, { operation: "other" })).toBe(e);
    expect(isEngineError(e, "server")).toBe(true);
    expect(isEngineError(e, "not_found")).toBe(false);
    expect(isEngineError(new Error("x"))).toBe(false);
  });

  it("writes a one-line message naming the operation, target and status", () => {
    const e = new EngineError({
      kind: "not_found",
      operation: "start container",
      target: "p_m_s",
      statusCode: 404,
      engineMessage: "No such container:\n p_m_s",
    });
    expect(e.message).toBe("Docker engine: start container p_m_s failed: not found (HTTP 404)");
    expect(e.detail).toBe("No such container: p_m_s");
  });

  it("reports a missing container from the real engine as not_found", async () => {
    const err = await startContainer(testEngine(), "platformctl-no-such-container-xyz").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ kind: "not_found", statusCode: 404, code: "engine.not_found" });
  });

  it("reports a create with a taken name as conflict without any of the create body in the message or detail", async () => {
    const engine = testEngine();
    const p = testProject("err-conflict");
    const name = `${p}_m_s`;
    const body = { Image: TEST_IMAGE, Cmd: ["true"], Env: ["TOKEN=canary-err-4f9a2b"], Labels: { [LABEL.project]: p } };
    await createContainer(engine, name, body);
    const err = (await createContainer(engine, name, body).catch((e: unknown) => e)) as EngineError;
    expect(err.kind).toBe("conflict");
    expect(`${err.message} ${err.detail ?? ""} ${err.hint ?? ""}`).not.toContain("canary-err-4f9a2b");
    expect(err.detail).toContain("already in use");
  });
});
