// The mutating calls: create keeps the spec out of the URL, idempotent start/stop/remove, owned networks/volumes, exec.
import { afterAll, describe, expect, it } from "vitest";
import {
  createContainer,
  ensureNetwork,
  ensureVolume,
  execInContainer,
  removeContainer,
  renameContainer,
  startContainer,
  stopContainer,
} from "../../src/engine/actions.js";
import Docker from "dockerode";
import { connectEngine, engineOptions } from "../../src/engine/connect.js";
import { EngineError } from "../../src/engine/errors.js";
import { LABEL } from "../../src/engine/labels.js";
import { aLabelledContainer, rawInspect, testDocker, testEngine } from "../helpers/docker.js";
import { testProject } from "../helpers/run-id.js";
import { startRecordingProxy } from "../helpers/recording-proxy.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const engine = testEngine();
const CANARY = "create-canary-Hq7Lw0pX";
const foreign: { kind: "network" | "volume"; name: string }[] = [];

afterAll(async () => {
  for (const f of foreign) {
    if (f.kind === "network")
      await testDocker()
        .getNetwork(f.name)
        .remove()
        .catch(() => undefined);
    else
      await testDocker()
        .getVolume(f.name)
        .remove()
        .catch(() => undefined);
  }
});

const bodyFor = (project: string, extra: object = {}) => ({
  Image: TEST_IMAGE,
  Cmd: ["sleep", "3600"],
  Env: [`TOKEN=${CANARY}`],
  Labels: { [LABEL.project]: project, [LABEL.module]: "m", [LABEL.service]: "s" },
  ...extra,
});

describe("createContainer", () => {
  it("sends the spec, env included, only in the request body: the URL carries just the name", async () => {
    const p = testProject("create");
    const proxy = await startRecordingProxy();
    try {
      const id = await createContainer(connectEngine({ DOCKER_HOST: proxy.dockerHost }), `${p}_m_s`, bodyFor(p));
      expect(proxy.requests).toEqual([{ method: "POST", url: `/v1.41/containers/create?name=${p}_m_s` }]);
      expect(proxy.sent()).toContain(CANARY); // the proxy saw the body, so it would have seen the canary in a URL
      expect((await rawInspect(engine, id)).Config.Env).toContain(`TOKEN=${CANARY}`);
    } finally {
      await proxy.close();
    }
  });

  it("(contrast) dockerode's plain createContainer would have put the env canary into the URL", async () => {
    const p = testProject("create-leak");
    const proxy = await startRecordingProxy();
    try {
      await new Docker(engineOptions({ DOCKER_HOST: proxy.dockerHost }).dockerode as Docker.DockerOptions).createContainer({
        name: `${p}_m_s`,
        ...bodyFor(p),
      });
      expect(decodeURIComponent(proxy.requests[0]?.url ?? "")).toContain(CANARY);
    } finally {
      await proxy.close();
    }
  });

  it("masks an env value the engine echoes in an error detail", async () => {
    const p = testProject("create-bad");
    const err = (await createContainer(
      engine,
      `${p}_m_s`,
      bodyFor(p, { Image: `platformctl-test/absent-${CANARY.toLowerCase()}:0`, Env: [`X=${CANARY.toLowerCase()}`] }),
    ).catch((e: unknown) => e)) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.kind).toBe("not_found");
    expect(err.detail).toContain("No such image");
    expect(`${err.message} ${err.detail}`).not.toContain(CANARY.toLowerCase());
    expect(err.detail).toContain("***");
  });
});

describe("start, stop, rename and remove", () => {
  it("starts once and reports already-running on the second start (304)", async () => {
    const id = await aLabelledContainer(engine, { project: testProject("start"), cmd: ["sleep", "3600"] });
    expect(await startContainer(engine, id)).toBe("started");
    expect(await startContainer(engine, id)).toBe("already-running");
    expect((await rawInspect(engine, id)).State.Running).toBe(true);
  });

  it("stops with a grace period and reports already-stopped the second time", async () => {
    const id = await aLabelledContainer(engine, { project: testProject("stop"), cmd: ["sleep", "3600"], start: true });
    expect(await stopContainer(engine, id, 0)).toBe("stopped");
    expect((await rawInspect(engine, id)).State).toMatchObject({ Status: "exited", ExitCode: 137 });
    expect(await stopContainer(engine, id, 0)).toBe("already-stopped");
  });

  it("renames a container and refuses a name that is taken", async () => {
    const p = testProject("rename");
    const a = await aLabelledContainer(engine, { project: p, service: "a", cmd: ["true"] });
    await aLabelledContainer(engine, { project: p, service: "b", cmd: ["true"] });
    await renameContainer(engine, a, `${p}_m_a-old`);
    expect((await rawInspect(engine, a)).Name).toBe(`/${p}_m_a-old`);
    await expect(renameContainer(engine, a, `${p}_mod_b`)).rejects.toMatchObject({ kind: "conflict" });
  });

  it("removes a container and reports absent when it is already gone", async () => {
    const id = await aLabelledContainer(engine, { project: testProject("remove"), cmd: ["sleep", "3600"], start: true });
    await expect(removeContainer(engine, id)).rejects.toMatchObject({ kind: "conflict" }); // running, no force
    expect(await removeContainer(engine, id, { force: true })).toBe("removed");
    expect(await removeContainer(engine, id)).toBe("absent");
  });
});

describe("ensureNetwork and ensureVolume", () => {
  it("creates a labelled project network once and finds it the second time", async () => {
    const p = testProject("net");
    expect(await ensureNetwork(engine, p, "backend")).toEqual({ name: `${p}_backend`, created: true });
    expect(await ensureNetwork(engine, p, "backend")).toEqual({ name: `${p}_backend`, created: false });
    const n = await testDocker().getNetwork(`${p}_backend`).inspect();
    expect(n.Labels).toEqual({ [LABEL.project]: p });
  });

  it("does not adopt a network of the same name that is not labelled for the project", async () => {
    const p = testProject("net-foreign");
    foreign.push({ kind: "network", name: `${p}_backend` });
    await testDocker().createNetwork({ Name: `${p}_backend` });
    await expect(ensureNetwork(engine, p, "backend")).rejects.toMatchObject({
      code: "engine.conflict",
      message: expect.stringContaining(`${p}_backend`),
    });
  });

  it("creates a labelled module volume once and finds it the second time", async () => {
    const p = testProject("vol");
    expect(await ensureVolume(engine, p, "minio", "data")).toEqual({ name: `${p}_data`, created: true });
    expect(await ensureVolume(engine, p, "minio", "data")).toEqual({ name: `${p}_data`, created: false });
    const v = await testDocker().getVolume(`${p}_data`).inspect();
    expect(v.Labels).toEqual({ [LABEL.project]: p, [LABEL.module]: "minio" });
  });

  it("does not adopt a volume of the same name that is not labelled for the project", async () => {
    const p = testProject("vol-foreign");
    foreign.push({ kind: "volume", name: `${p}_data` });
    await testDocker().createVolume({ Name: `${p}_data` });
    await expect(ensureVolume(engine, p, "minio", "data")).rejects.toMatchObject({ code: "engine.conflict" });
  });
});

describe("execInContainer", () => {
  it("returns the exit code and both output streams", async () => {
    const id = await aLabelledContainer(engine, { project: testProject("exec"), cmd: ["sleep", "3600"], start: true });
    const r = await execInContainer(engine, id, ["sh", "-c", "echo out; echo err >&2; exit 7"], 10_000);
    expect(r.exitCode).toBe(7);
    expect(r.timedOut).toBe(false);
    expect(r.output.split("\n").sort()).toEqual(["", "err", "out"]);
  });

  it("gives up at the timeout with a null exit code and the output so far", async () => {
    const id = await aLabelledContainer(engine, { project: testProject("exec-slow"), cmd: ["sleep", "3600"], start: true });
    // Returning with no exit code while `sleep 3600` still runs is the proof that the bound held (no wall-clock
    // threshold: CI load varies); the bound leaves the shell time to print under load.
    const r = await execInContainer(engine, id, ["sh", "-c", "echo started; sleep 3600"], 5_000);
    expect(r).toEqual({ exitCode: null, output: "started\n", timedOut: true });
  });
});
