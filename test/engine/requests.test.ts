// Pure request builders and labels, checked on exact output (names: test/plan/unit-name.test.ts).
import { describe, expect, it } from "vitest";
import { LABEL } from "../../src/engine/labels.js";
import {
  createBodyRequest,
  execCreateBody,
  execStartBody,
  labelledListQuery,
  listContainersQuery,
  listFilter,
  logsQuery,
  networkCreateBody,
  removeQuery,
  stopQuery,
  volumeCreateBody,
  waitQuery,
} from "../../src/engine/requests.js";

describe("labels", () => {
  it("keeps every label under the dev.platformctl prefix", () => {
    expect(LABEL).toStrictEqual({
      project: "dev.platformctl.project",
      module: "dev.platformctl.module",
      service: "dev.platformctl.service",
      specHash: "dev.platformctl.spec-hash",
      specFields: "dev.platformctl.spec-fields",
      imageRef: "dev.platformctl.image-ref",
      secretDigests: "dev.platformctl.secret-digests",
      stateful: "dev.platformctl.stateful",
    });
  });
});

describe("request builders", () => {
  it("filters lists on the project label only", () => {
    expect(listFilter("platform")).toStrictEqual({ label: ["dev.platformctl.project=platform"] });
    expect(listContainersQuery("platform")).toStrictEqual({ all: 1, filters: { label: ["dev.platformctl.project=platform"] } });
    expect(labelledListQuery("platform")).toStrictEqual({ filters: { label: ["dev.platformctl.project=platform"] } });
  });

  it("puts only the name in the create query and the whole spec, env included, in the body", () => {
    const body = { Image: "busybox:1", Env: ["TOKEN=s3cr3t"], Labels: { a: "b" } };
    const r = createBodyRequest("p_m_s", body);
    expect(r).toStrictEqual({ _query: { name: "p_m_s" }, _body: { Image: "busybox:1", Env: ["TOKEN=s3cr3t"], Labels: { a: "b" } } });
    expect(r._body).toBe(body);
  });

  it("labels networks with the project and volumes with the project and module", () => {
    expect(networkCreateBody("platform", "platform_backend")).toStrictEqual({
      Name: "platform_backend",
      Driver: "bridge",
      CheckDuplicate: true,
      Labels: { "dev.platformctl.project": "platform" },
    });
    expect(volumeCreateBody("platform", "minio", "platform_data")).toStrictEqual({
      Name: "platform_data",
      Driver: "local",
      Labels: { "dev.platformctl.project": "platform", "dev.platformctl.module": "minio" },
    });
  });

  it("builds wait, stop, remove and logs queries", () => {
    expect(waitQuery("next-exit")).toStrictEqual({ condition: "next-exit" });
    expect(stopQuery(10)).toStrictEqual({ t: 10 });
    expect(stopQuery(1.7)).toStrictEqual({ t: 1 });
    expect(stopQuery(-3)).toStrictEqual({ t: 0 });
    expect(removeQuery(true)).toStrictEqual({ force: true, v: false });
    expect(removeQuery(false)).toStrictEqual({ force: false, v: false });
    expect(logsQuery(50)).toStrictEqual({ stdout: 1, stderr: 1, tail: 50, timestamps: 0, follow: 0 });
  });

  it("builds a non-interactive exec with both output streams", () => {
    const cmd = ["sh", "-c", "echo hi"];
    expect(execCreateBody(cmd)).toStrictEqual({
      Cmd: ["sh", "-c", "echo hi"],
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    expect(execCreateBody(cmd).Cmd).not.toBe(cmd);
    expect(execStartBody()).toStrictEqual({ Detach: false, Tty: false });
  });
});
