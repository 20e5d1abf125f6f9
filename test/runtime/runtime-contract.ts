// The contract every Runtime implementation must pass, registered for one implementation by describeRuntimeContract.
import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import type { Healthcheck, Module, Service } from "../../src/manifest/module.js";
import { replacementUnitName, resourceName, unitName } from "../../src/plan/unit-name.js";
import { isRuntimeError, type Runtime, type UnitSpec } from "../../src/runtime/runtime.js";
import { aModule, aService } from "../helpers/plan-data.js";
import { testProject } from "../helpers/run-id.js";
import { readTar, tarOf } from "../helpers/tar.js";

export interface RuntimeContractFixture {
  runtime: Runtime;
  /** An image present on the runtime with `sh`, `sleep`, `echo`, `true` and `false` (nothing is pulled). */
  image: string;
}

const ms = 1_000_000;
/**
 * A healthcheck probing every 200 ms: `test` is a `CMD-SHELL` command. Its timeout is generous and it takes 3
 * failures to be unhealthy, so a probe that passes is never judged unhealthy on a loaded machine.
 */
const fastCheck = (shell: string, over: Partial<Healthcheck> = {}): Healthcheck => ({
  test: ["CMD-SHELL", shell],
  intervalNs: 200 * ms,
  timeoutNs: 20_000 * ms,
  startPeriodNs: 0,
  retries: 3,
  ...over,
});

/**
 * Registers the contract tests for the runtime `make` opens. Every project they use starts with the test run's id,
 * so the suite teardown removes whatever a failed test leaves; each test also removes the units it made.
 */
export function describeRuntimeContract(name: string, make: () => RuntimeContractFixture): void {
  describe(`the Runtime contract, run against ${name}`, () => {
    const { runtime, image } = make();
    const made: { project: string }[] = [];

    afterAll(async () => {
      for (const { project } of made) {
        const o = await runtime.observe(project, []);
        for (const c of o.containers) await runtime.removeUnit(c.id, { force: true });
      }
    });

    /** A fresh project and a one-service module of `image` in it, with `svc` overriding the service. */
    function scene(label: string, svc: Partial<Service> = {}, mod: Partial<Module> = {}) {
      const project = testProject(`rt-${label}`);
      made.push({ project });
      const service = aService({ name: "svc", image, ...svc });
      const module = aModule({ name: "mod", services: [service], ...mod });
      const spec: UnitSpec = { project, module, service, env: {}, digestKey: undefined, envFileValues: {} };
      const name = unitName(project, module.name, service.name);
      const create = (as = name) => runtime.createUnit(spec, { name: as });
      return { project, module, service, spec, name, create };
    }

    describe("observe", () => {
      it("observes a project with nothing in it as empty, and reports a present image's id and an absent one as null", async () => {
        const project = testProject("rt-empty");
        const absent = "platformctl-test/absent-image:never";
        const o = await runtime.observe(project, [image, absent]);
        expect(o).toMatchObject({ project, containers: [], volumes: [], networks: [] });
        expect(o.images[image]).toMatch(/^sha256:/);
        expect(o.images[absent]).toBeNull();
        expect(await runtime.imageId(absent)).toBeNull();
      });

      it("observes a populated project: its unit, volume and network with their module, and nothing of another project", async () => {
        const s = scene("populated", {
          networks: ["backend"],
          volumes: [{ type: "volume", source: "data", target: "/data", readOnly: false }],
        });
        const other = scene("other");
        const created = await s.create();
        await other.create();
        const o = await runtime.observe(s.project, [], { networks: true });
        expect(o.containers.map((c) => ({ id: c.id, name: c.name, module: c.module, service: c.service, status: c.status }))).toEqual([
          { id: created.id, name: s.name, module: "mod", service: "svc", status: "created" },
        ]);
        expect(o.volumes).toEqual([{ name: resourceName(s.project, "data"), module: "mod", stateful: false }]);
        expect(o.networks).toEqual([{ name: resourceName(s.project, "backend") }]);
        expect((await runtime.observe(s.project, [])).networks).toEqual([]);
        expect((await runtime.observe(s.project, [], { modules: ["another"] })).containers).toEqual([]);
        expect((await runtime.observe(s.project, [], { modules: ["mod"] })).containers.map((c) => c.id)).toEqual([created.id]);
      });
    });

    describe("unit lifecycle", () => {
      it("creates, starts, stops and removes a unit, reporting a repeated step as already done", async () => {
        const s = scene("lifecycle", { command: ["sleep", "3600"] });
        const { id, name } = await s.create();
        expect(name).toBe(s.name);
        expect((await runtime.inspectUnit(s.name))?.status).toBe("created");
        expect(await runtime.startUnit(id)).toBe("started");
        expect(await runtime.startUnit(id)).toBe("already-running");
        expect((await runtime.waitForState(id, "running", { timeoutMs: 20_000 })).outcome).toBe("reached");
        expect(await runtime.stopUnit(id, 1)).toBe("stopped");
        expect(await runtime.stopUnit(id, 1)).toBe("already-stopped");
        expect((await runtime.inspectUnit(id))?.running).toBe(false);
        expect(await runtime.removeUnit(id)).toBe("removed");
        expect(await runtime.removeUnit(id)).toBe("absent");
        expect(await runtime.inspectUnit(id)).toBeNull();
      });

      it("refuses a unit under a name already taken with a conflict, and renames a replacement into place", async () => {
        const s = scene("rename", { command: ["true"] });
        await s.create();
        const taken = await s.create().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isRuntimeError(taken, "conflict")).toBe(true);
        await runtime.removeUnit(s.name, { force: true });
        const next = await s.create(replacementUnitName(s.name));
        await runtime.renameUnit(next.id, s.name);
        expect((await runtime.inspectUnit(s.name))?.id).toBe(next.id);
        expect(await runtime.inspectUnit(replacementUnitName(s.name))).toBeNull();
      });

      it("stops before creating when a ${VAR} the unit needs is unset, naming the variable and creating nothing", async () => {
        const s = scene("unresolved", { environment: { PW: "${CONTRACT_UNSET_VAR}" } });
        const e = await s.create().then(
          () => undefined,
          (x: unknown) => x as { code?: string; message?: string },
        );
        expect(e?.code).toBe("apply.unresolved_reference");
        expect(e?.message).toContain("CONTRACT_UNSET_VAR");
        expect(await runtime.inspectUnit(s.name)).toBeNull();
      });

      it("hands the resolved values to onSecrets before creating the unit", async () => {
        const s = scene("secrets", { command: ["true"], environment: { PW: "${CONTRACT_PW}" } });
        const seen: string[] = [];
        await runtime.createUnit(
          { ...s.spec, env: { CONTRACT_PW: "contract-secret-value" } },
          { name: s.name, onSecrets: (v) => seen.push(...v) },
        );
        expect(seen).toEqual(["contract-secret-value"]);
      });

      it("ensures a project network and volume once: created the first time, found the second", async () => {
        const s = scene("ensure");
        expect(await runtime.ensureNetwork(s.project, "net")).toEqual({ name: resourceName(s.project, "net"), created: true });
        expect(await runtime.ensureNetwork(s.project, "net")).toEqual({ name: resourceName(s.project, "net"), created: false });
        expect(await runtime.ensureVolume(s.project, "mod", "vol")).toEqual({ name: resourceName(s.project, "vol"), created: true });
        expect(await runtime.ensureVolume(s.project, "mod", "vol")).toEqual({ name: resourceName(s.project, "vol"), created: false });
      });

      it("marks a volume ensured for a stateful module as stateful, and observes the mark (the stateful ratchet)", async () => {
        const s = scene("ratchet");
        await runtime.ensureVolume(s.project, "mod", "plain");
        await runtime.ensureVolume(s.project, "mod", "kept", undefined, true);
        const o = await runtime.observe(s.project, []);
        expect(o.volumes.map((v) => [v.name, v.stateful]).sort()).toEqual([
          [resourceName(s.project, "kept"), true],
          [resourceName(s.project, "plain"), false],
        ]);
      });
    });

    describe("values held and helpers", () => {
      it("reads the values a unit was created with (for masking only), and null for a unit that does not exist", async () => {
        const s = scene("held", { command: ["echo", "${CONTRACT_ARG}"], environment: { PW: "${CONTRACT_PW}" } });
        await runtime.createUnit({ ...s.spec, env: { CONTRACT_PW: "held-secret-1", CONTRACT_ARG: "held-arg-2" } }, { name: s.name });
        const held = await runtime.heldValues(s.name);
        expect(held?.env).toContain("PW=held-secret-1");
        expect(held?.cmd).toEqual(["echo", "held-arg-2"]);
        expect(await runtime.heldValues(`${s.name}-absent`)).toBeNull();
      });

      it("creates a helper unit with a project volume mounted, marked as its module's `_role` service, that runs once", async () => {
        const s = scene("helper");
        await runtime.ensureVolume(s.project, "mod", "data");
        const helper = await runtime.createHelper({
          project: s.project,
          module: "mod",
          role: "probe",
          nonce: 1,
          image,
          command: ["sh", "-c", "echo made > /v/file && cat /v/file"],
          mounts: [{ type: "volume", volume: "data", target: "/v", readOnly: false }],
        });
        const seen = await runtime.inspectUnit(helper.id);
        expect(seen).toMatchObject({ name: helper.name, module: "mod", service: "_probe" });
        expect((await runtime.runOneShot(helper.id, { timeoutMs: 30_000 })).outcome.kind).toBe("succeeded");
        expect((await runtime.tailLogs(helper.id, 5)).map((l) => l.text)).toEqual(["made"]);
        expect(await runtime.removeUnit(helper.id, { force: true })).toBe("removed");
        const files = await runtime.readVolume(s.project, "data", readTar, { helperImage: image });
        expect(files.filter((e) => e.type === "file").map((e) => e.name.replace(/^\.\//, ""))).toEqual(["file"]);
      });
    });

    describe("one-shot runs", () => {
      it("reports exit 0 as succeeded and proves the run happened", async () => {
        const s = scene("exit0", { command: ["sh", "-c", "echo done"] });
        const { id } = await s.create();
        const r = await runtime.runOneShot(id, { timeoutMs: 30_000 });
        expect(r).toMatchObject({
          outcome: { kind: "succeeded" },
          ranThisTime: true,
          timedOut: false,
          exitCode: 0,
          oomKilled: false,
          startError: undefined,
        });
        expect(r.unit?.status).toBe("exited");
      });

      it("reports exit 3 as failed with its code", async () => {
        const s = scene("exit3", { command: ["sh", "-c", "exit 3"] });
        const { id } = await s.create();
        const r = await runtime.runOneShot(id, { timeoutMs: 30_000 });
        expect(r).toMatchObject({ outcome: { kind: "failed", exitCode: 3 }, ranThisTime: true, timedOut: false, exitCode: 3 });
      });

      it("stops a run that outlives its bound, keeps the unit and reports it timed out, not succeeded", async () => {
        const s = scene("timeout", { command: ["sleep", "3600"] });
        const { id } = await s.create();
        const r = await runtime.runOneShot(id, { timeoutMs: 800, graceSeconds: 1 });
        expect(r.timedOut).toBe(true);
        expect(r.outcome.kind).not.toBe("succeeded");
        expect((await runtime.inspectUnit(id))?.running).toBe(false);
      });

      it("reports a binary that cannot start as a start error, not as a run", async () => {
        const s = scene("badbin", { command: ["/nonexistent-contract-binary"] });
        const { id } = await s.create();
        const r = await runtime.runOneShot(id, { timeoutMs: 30_000 });
        expect(r).toMatchObject({ outcome: { kind: "start-error" }, ranThisTime: false, timedOut: false });
        expect(r.startError).toContain("/nonexistent-contract-binary");
      });

      it("throws not_found for a one-shot that does not exist", async () => {
        const e = await runtime.runOneShot(`${testProject("rt-missing")}_mod_svc`, { timeoutMs: 5_000 }).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(isRuntimeError(e, "not_found")).toBe(true);
      });

      it("waits for the exit of a one-shot started elsewhere, and gives up at its bound leaving a long one running", async () => {
        const quick = scene("exit-wait", { command: ["sh", "-c", "sleep 1; exit 4"] });
        const q = await quick.create();
        await runtime.startUnit(q.id);
        const r = await runtime.waitForExit(q.id, { timeoutMs: 30_000 });
        expect(r.outcome).toBe("exited");
        expect(r.unit?.exitCode).toBe(4);
        const slow = scene("exit-wait-slow", { command: ["sleep", "3600"] });
        const l = await slow.create();
        await runtime.startUnit(l.id);
        expect((await runtime.waitForExit(l.id, { timeoutMs: 600 })).outcome).toBe("timed-out");
        expect((await runtime.inspectUnit(l.id))?.running).toBe(true);
      });
    });

    describe("waiting for a state", () => {
      it("reaches healthy for a unit whose healthcheck passes", async () => {
        const s = scene("healthy", { command: ["sleep", "3600"], healthcheck: fastCheck("true") });
        const { id } = await s.create();
        await runtime.startUnit(id);
        const r = await runtime.waitForState(id, "healthy", { timeoutMs: 30_000 });
        expect(r.outcome).toBe("reached");
        expect(r.unit?.health).toBe("healthy");
      });

      it("ends early with unhealthy, and with no-healthcheck when there is none to wait for", async () => {
        const bad = scene("unhealthy", { command: ["sleep", "3600"], healthcheck: fastCheck("false") });
        const b = await bad.create();
        await runtime.startUnit(b.id);
        expect((await runtime.waitForState(b.id, "healthy", { timeoutMs: 30_000 })).outcome).toBe("unhealthy");
        const none = scene("no-check", { command: ["sleep", "3600"] });
        const n = await none.create();
        await runtime.startUnit(n.id);
        expect((await runtime.waitForState(n.id, "healthy", { timeoutMs: 30_000 })).outcome).toBe("no-healthcheck");
      });

      it("gives up at its bound on a healthcheck that is still starting", async () => {
        const s = scene("starting", {
          command: ["sleep", "3600"],
          healthcheck: fastCheck("true", { intervalNs: 3600_000 * ms, startPeriodNs: 3600_000 * ms }),
        });
        const { id } = await s.create();
        await runtime.startUnit(id);
        const r = await runtime.waitForState(id, "healthy", { timeoutMs: 1_000 });
        expect(r.outcome).toBe("timed-out");
        expect(r.unit?.health).toBe("starting");
      });

      it("reports a unit that exits instead of running as exited", async () => {
        const s = scene("exits", { command: ["sh", "-c", "exit 2"] });
        const { id } = await s.create();
        await runtime.startUnit(id);
        const r = await runtime.waitForState(id, "running", { timeoutMs: 30_000, stableMs: 2_000 });
        expect(r.outcome).toBe("exited");
        expect(r.unit?.exitCode).toBe(2);
      });
    });

    describe("exec and logs", () => {
      it("runs a probe in a running unit and reports its exit code and output", async () => {
        const s = scene("exec", { command: ["sleep", "3600"] });
        const { id } = await s.create();
        await runtime.startUnit(id);
        const r = await runtime.exec(id, ["sh", "-c", "echo out; echo err >&2; exit 7"], 20_000);
        expect(r).toMatchObject({ exitCode: 7, timedOut: false });
        expect(r.output.split("\n").sort()).toEqual(["", "err", "out"]);
        expect(await runtime.exec(id, ["true"], 20_000)).toEqual({ exitCode: 0, output: "", timedOut: false });
      });

      it("bounds a probe that does not finish: timed out, no exit code", async () => {
        const s = scene("exec-hang", { command: ["sleep", "3600"] });
        const { id } = await s.create();
        await runtime.startUnit(id);
        expect(await runtime.exec(id, ["sleep", "3600"], 800)).toMatchObject({ exitCode: null, timedOut: true });
      });

      it("streams a command's stdout byte for byte apart from its stderr, and reports its exit code", async () => {
        const s = scene("exec-stream", { command: ["sleep", "3600"] });
        const { id } = await s.create();
        await runtime.startUnit(id);
        const out = collector();
        const r = await runtime.execStream(id, ["sh", "-c", "printf '\\000\\001\\377out\\n'; echo err >&2; exit 3"], {
          stdout: out.stream,
          timeoutMs: 30_000,
        });
        expect(r).toMatchObject({ exitCode: 3, timedOut: false, stdoutBytes: 7, stderrTail: "err\n" });
        expect(out.bytes()).toEqual(Buffer.from([0, 1, 0xff, 0x6f, 0x75, 0x74, 0x0a]));
      });

      it("pipes stdin into a command and streams megabytes of binary stdout back unchanged", async () => {
        const s = scene("exec-stdin", { command: ["sleep", "3600"] });
        const { id } = await s.create();
        await runtime.startUnit(id);
        const blob = randomBytes(3 * 1024 * 1024 + 17);
        const stored = await runtime.execStream(id, ["sh", "-c", "cat > /tmp/blob"], {
          stdout: collector().stream,
          stdin: Readable.from([blob.subarray(0, 1000), blob.subarray(1000)]),
          timeoutMs: 60_000,
        });
        expect(stored).toMatchObject({ exitCode: 0, timedOut: false, stdoutBytes: 0 });
        const out = collector();
        const back = await runtime.execStream(id, ["cat", "/tmp/blob"], { stdout: out.stream, timeoutMs: 60_000 });
        expect(back).toMatchObject({ exitCode: 0, stdoutBytes: blob.length });
        expect(out.bytes().equals(blob)).toBe(true);
      });

      it("reports the exit code and stderr of a command that exits without reading the stdin piped into it", async () => {
        const s = scene("exec-stdin-unread", { command: ["sleep", "3600"] });
        const { id } = await s.create();
        await runtime.startUnit(id);
        const r = await runtime.execStream(id, ["sh", "-c", "echo refused >&2; exit 2"], {
          stdout: collector().stream,
          stdin: Readable.from([randomBytes(8 * 1024 * 1024)]),
          timeoutMs: 60_000,
        });
        expect(r).toMatchObject({ exitCode: 2, timedOut: false, stderrTail: "refused\n" });
      });

      it("cuts off a streamed command at its deadline: timed out, no exit code", async () => {
        const s = scene("exec-stream-hang", { command: ["sleep", "3600"] });
        const { id } = await s.create();
        await runtime.startUnit(id);
        const r = await runtime.execStream(id, ["sleep", "3600"], { stdout: collector().stream, timeoutMs: 800 });
        expect(r).toMatchObject({ exitCode: null, timedOut: true });
      });

      it("refuses a streamed command in a unit that is not running (conflict) or does not exist (not_found)", async () => {
        const s = scene("exec-stream-stopped", { command: ["sleep", "3600"] });
        const { id } = await s.create();
        const run = (unit: string) => runtime.execStream(unit, ["true"], { stdout: collector().stream, timeoutMs: 30_000 });
        await expect(run(id)).rejects.toSatisfy((e) => isRuntimeError(e, "conflict"));
        await expect(run(`${s.name}-absent`)).rejects.toSatisfy((e) => isRuntimeError(e, "not_found"));
      });

      it("tails the last lines of a unit's output, stdout and stderr apart", async () => {
        const s = scene("logs", { command: ["sh", "-c", "echo one; echo two >&2; echo three"] });
        const { id } = await s.create();
        await runtime.runOneShot(id, { timeoutMs: 30_000 });
        const lines = await runtime.tailLogs(id, 10);
        expect(lines.filter((l) => l.stream === "stdout").map((l) => l.text)).toEqual(["one", "three"]);
        expect(lines.filter((l) => l.stream === "stderr").map((l) => l.text)).toEqual(["two"]);
        expect((await runtime.tailLogs(id, 1)).length).toBe(1);
      });

      it("lists a unit's mounts with their destination", async () => {
        const s = scene("mounts", { volumes: [{ type: "volume", source: "data", target: "/data", readOnly: true }] });
        const { id } = await s.create();
        expect((await runtime.unitMounts(id)).map((m) => ({ type: m.type, destination: m.destination, readOnly: m.readOnly }))).toEqual([
          { type: "volume", destination: "/data", readOnly: true },
        ]);
      });
    });

    describe("volume content", () => {
      it("reads a volume's content as a tar stream, and leaves no helper unit behind", async () => {
        const s = scene("vol-read", {
          command: ["sh", "-c", "mkdir -p /data/sub && echo hello > /data/a.txt && echo deep > /data/sub/b.txt"],
          volumes: [{ type: "volume", source: "data", target: "/data", readOnly: false }],
        });
        const { id } = await s.create();
        expect((await runtime.runOneShot(id, { timeoutMs: 30_000 })).outcome.kind).toBe("succeeded");
        const entries = await runtime.readVolume(s.project, "data", readTar, { helperImage: image });
        const files = Object.fromEntries(
          entries.filter((e) => e.type === "file").map((e) => [e.name.replace(/^\.\//, ""), e.content.toString("utf8")]),
        );
        expect(files).toEqual({ "a.txt": "hello\n", "sub/b.txt": "deep\n" });
        expect((await runtime.observe(s.project, [])).containers.map((c) => c.id)).toEqual([id]);
      });

      it("writes a tar stream into a volume, where a reader finds it", async () => {
        const s = scene("vol-write");
        await runtime.ensureVolume(s.project, "mod", "data");
        await runtime.writeVolume(s.project, "data", tarOf({ "restored.txt": "from the archive\n" }), { helperImage: image });
        const entries = await runtime.readVolume(s.project, "data", readTar, { helperImage: image });
        expect(entries.filter((e) => e.type === "file").map((e) => [e.name.replace(/^\.\//, ""), e.content.toString("utf8")])).toEqual([
          ["restored.txt", "from the archive\n"],
        ]);
        expect((await runtime.observe(s.project, [])).containers).toEqual([]);
      });

      it("throws not_found for a volume that does not exist", async () => {
        const e = await runtime.readVolume(testProject("rt-novol"), "data", readTar, { helperImage: image }).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(isRuntimeError(e, "not_found")).toBe(true);
      });
    });

    it("answers a ping and names its endpoint", async () => {
      await runtime.ping();
      expect(runtime.endpoint.length).toBeGreaterThan(0);
    });
  });
}

/** A stdout sink that keeps every byte written to it. */
function collector(): { stream: PassThrough; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, bytes: () => Buffer.concat(chunks) };
}
