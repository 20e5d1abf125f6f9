// judgeHealth on plain data: every state a service can be in, restart loops from two observations, masking.
import { describe, expect, it } from "vitest";
import { judgeHealth, judgeMounts, needsSecondLook, RESTART_WINDOW_MS, type HealthInputs } from "../../src/health/judge-health.js";
import type { MountFinding } from "../../src/health/mount-sanity.js";
import type { Module } from "../../src/manifest/module.js";
import type { ObservedContainer } from "../../src/plan/observed-state.js";
import { aModule, aService, anObservedContainer, nameOf } from "../helpers/plan-data.js";

const web = aModule({ name: "web", services: [aService({ name: "web", expectedState: "running" })] });
const api = aModule({ name: "api", expectedState: "healthy", services: [aService({ name: "api", expectedState: "healthy" })] });
const job = aModule({
  name: "job",
  expectedState: "exited-success",
  services: [aService({ name: "job", expectedState: "exited-success" })],
});

function judge(modules: Module[], first: ObservedContainer[], over: Partial<HealthInputs> = {}) {
  // Two hours after anObservedContainer's startedAt: a restart back then is long ago.
  return judgeHealth({ modules, first, containerName: nameOf("p"), secrets: [], now: Date.parse("2026-11-22T12:00:00.000Z"), ...over });
}

const only = (modules: Module[], first: ObservedContainer[], over: Partial<HealthInputs> = {}) => {
  const v = judge(modules, first, over).modules[0]?.services[0];
  if (!v) throw new Error("no verdict");
  return v;
};

describe("judgeHealth: services expected running", () => {
  it("judges a running container healthy", () => {
    const v = only([web], [anObservedContainer(web, "web")]);
    expect(v).toMatchObject({ state: "running", healthy: true, exitCode: null, health: null, pending: false });
  });

  it("judges a missing container unhealthy and says to apply", () => {
    const r = judge([web], []);
    expect(r.healthy).toBe(false);
    expect(r.modules[0]?.services[0]).toMatchObject({ state: "missing", healthy: false, exitCode: null, container: null });
    expect(r.modules[0]?.services[0]?.reason).toContain("platformctl apply");
  });

  it("advises the maintenance lane, written out, for a missing container of a stateful module that has another container", () => {
    const db = aModule({
      name: "db",
      stateful: true,
      services: [aService({ name: "db", expectedState: "running" }), aService({ name: "migrate", expectedState: "exited-success" })],
    });
    const v = judge([db], [anObservedContainer(db, "migrate")]).modules[0]?.services.find((x) => x.name === "db");
    expect(v?.reason).toContain("maintenance lane");
    expect(v?.reason).toContain(
      "platformctl plan --module db --out plan.json; platformctl backup db; platformctl apply --module db --plan plan.json --maintenance --allow-stateful --backup-ref <backup file> --confirm <token>",
    );
    expect(v?.reason).not.toContain("--bootstrap");
  });

  it("names both bootstrap and the maintenance lane for a stateful module with no container at all", () => {
    const db = aModule({ name: "db", stateful: true, services: [aService({ name: "db", expectedState: "running" })] });
    const reason = judge([db], []).modules[0]?.services[0]?.reason ?? "";
    expect(reason).toContain("platformctl apply --module db --allow-stateful --confirm <token> --bootstrap");
    expect(reason).toContain("--maintenance");
  });

  it("judges an exited container unhealthy with its exit code", () => {
    const v = only(
      [web],
      [anObservedContainer(web, "web", { status: "exited", running: false, exitCode: 137, finishedAt: "2026-11-22T10:05:00.000Z" })],
    );
    expect(v).toMatchObject({ state: "exited", healthy: false, exitCode: 137 });
    expect(v.reason).toBe("exited with code 137");
  });

  it("never calls a one-shot stopped without a kept exit code (a parked Swarm job) exit 0, and quotes why it stopped", () => {
    const v = only(
      [job],
      [
        anObservedContainer(job, "job", {
          status: "exited",
          running: false,
          exitCode: null,
          error: "stopped by platformctl when its run outlived the module timeout",
          finishedAt: undefined,
        }),
      ],
    );
    expect(v).toMatchObject({ state: "exited", healthy: false, exitCode: null });
    expect(v.reason).toBe("stopped, with no exit code kept: stopped by platformctl when its run outlived the module timeout");
  });

  it("judges a container in status restarting as a restart loop, with its last exit code", () => {
    const v = only([web], [anObservedContainer(web, "web", { status: "restarting", running: true, exitCode: 1, restartCount: 4 })]);
    expect(v).toMatchObject({ state: "restarting", healthy: false, exitCode: 1 });
    expect(v.reason).toContain("restart loop");
  });

  it("quotes the runtime's error in a restart loop's reason (Swarm: the newest failed task's), masked", () => {
    const error = "task: non-zero exit (4) token=hunter2-secret";
    const v = only(
      [web],
      [anObservedContainer(web, "web", { status: "restarting", running: false, exitCode: 4, restartCount: 3, error })],
      {
        secrets: ["hunter2-secret"],
      },
    );
    expect(v).toMatchObject({ state: "restarting", healthy: false, exitCode: 4 });
    expect(v.reason).toBe("restart loop: restarting (restart count 3, last exit code 4): task: non-zero exit (4) token=***");
  });

  it("judges a momentarily running container whose restart count rose between observations as a restart loop", () => {
    const a = anObservedContainer(web, "web", { restartCount: 2 });
    const b = anObservedContainer(web, "web", { restartCount: 3, startedAt: "2026-11-22T10:00:01.000Z" });
    const v = only([web], [a], { second: [b] });
    // running again: the engine reports exit code 0, so the failed run's code is unknown rather than 0
    expect(v).toMatchObject({ state: "restarting", healthy: false, exitCode: null });
    expect(v.reason).toBe("restart loop: restarted while observed (restart count 3)");
  });

  it("keeps a container that restarted once long ago and stays up healthy, saying it restarted", () => {
    const a = anObservedContainer(web, "web", { restartCount: 1 });
    const v = only([web], [a], { second: [{ ...a }] });
    expect(v).toMatchObject({ state: "running", healthy: true });
    expect(v.reason).toContain("restarted 1 time");
  });

  it("judges a running container the restart policy restarted seconds ago as a restart loop, though the count did not rise while observed", () => {
    const a = anObservedContainer(web, "web", { restartCount: 3, startedAt: "2026-11-22T10:00:00.000Z" });
    const v = only([web], [a], { second: [{ ...a }], now: Date.parse("2026-11-22T10:00:04.000Z") });
    expect(v).toMatchObject({ state: "restarting", healthy: false });
    expect(v.reason).toBe("restart loop: restarted by its restart policy 4 s ago (restart count 3)");
  });

  it("keeps a container restarted just over the window ago healthy, and one started just inside it unhealthy", () => {
    const a = anObservedContainer(web, "web", { restartCount: 1, startedAt: "2026-11-22T10:00:00.000Z" });
    const started = Date.parse("2026-11-22T10:00:00.000Z");
    expect(only([web], [a], { now: started + RESTART_WINDOW_MS })).toMatchObject({ state: "running", healthy: true });
    expect(only([web], [a], { now: started + RESTART_WINDOW_MS - 1 })).toMatchObject({ state: "restarting", healthy: false });
  });

  it("does not call a container started seconds ago by hand (restart count 0) a restart loop", () => {
    const a = anObservedContainer(web, "web", { restartCount: 0, startedAt: "2026-11-22T10:00:00.000Z" });
    expect(only([web], [a], { now: Date.parse("2026-11-22T10:00:01.000Z") })).toMatchObject({ state: "running", healthy: true });
  });

  it("extends the window to the healthcheck's start period when that is longer", () => {
    const slow = aModule({
      name: "slow",
      expectedState: "healthy",
      services: [
        aService({
          name: "slow",
          expectedState: "healthy",
          healthcheck: { test: ["CMD", "true"], intervalNs: undefined, timeoutNs: undefined, startPeriodNs: 300e9, retries: undefined },
        }),
      ],
    });
    const a = anObservedContainer(slow, "slow", { restartCount: 1, startedAt: "2026-11-22T10:00:00.000Z", health: "healthy" });
    expect(only([slow], [a], { now: Date.parse("2026-11-22T10:04:00.000Z") })).toMatchObject({ state: "restarting", healthy: false });
    expect(only([slow], [a], { now: Date.parse("2026-11-22T10:05:00.000Z") })).toMatchObject({ state: "healthy", healthy: true });
  });

  it("does not call a recreated container (new id) a restart loop", () => {
    const a = anObservedContainer(web, "web", { restartCount: 0 });
    const b = anObservedContainer(web, "web", { id: "other", restartCount: 5 });
    expect(only([web], [a], { second: [b] })).toMatchObject({ state: "running", healthy: true });
  });

  it("does not require a healthcheck's verdict of a service expected only running", () => {
    const v = only([web], [anObservedContainer(web, "web", { health: "unhealthy" })]);
    expect(v).toMatchObject({ state: "unhealthy", healthy: true, health: "unhealthy" });
    expect(v.reason).toContain("not required");
  });

  it("judges a paused container unhealthy", () => {
    expect(only([web], [anObservedContainer(web, "web", { status: "paused" })])).toMatchObject({ state: "paused", healthy: false });
  });

  it("prefers the canonically named container when a service has two", () => {
    const stray = anObservedContainer(web, "web", { id: "stray", name: "p_web_web-copy", status: "exited", running: false, exitCode: 1 });
    const canonical = anObservedContainer(web, "web");
    expect(only([web], [stray, canonical])).toMatchObject({ healthy: true, container: "p_web_web" });
  });
});

describe("judgeHealth: services expected healthy", () => {
  it("judges a healthy healthcheck healthy", () => {
    expect(only([api], [anObservedContainer(api, "api", { health: "healthy" })])).toMatchObject({
      state: "healthy",
      healthy: true,
      health: "healthy",
    });
  });

  it("judges a starting healthcheck not healthy yet, and pending (waiting may help)", () => {
    const v = only([api], [anObservedContainer(api, "api", { health: "starting" })]);
    expect(v).toMatchObject({ state: "starting", healthy: false, pending: true });
    expect(judge([api], [anObservedContainer(api, "api", { health: "starting" })]).modules[0]?.pending).toBe(true);
  });

  it("says how long it waited for a healthcheck still starting", () => {
    const v = only([api], [anObservedContainer(api, "api", { health: "starting" })], { waitedSeconds: { api: 2 } });
    expect(v.reason).toBe("healthcheck still starting after waiting 2 s (timeout_seconds)");
  });

  it("judges an unhealthy healthcheck unhealthy and quotes its last probe output, secrets masked", () => {
    const c = anObservedContainer(api, "api", {
      health: "unhealthy",
      healthLog: [
        { exitCode: 1, output: "old" },
        { exitCode: 2, output: "db refused password hunter2-secret\n" },
      ],
    });
    const v = only([api], [c], { secrets: ["hunter2-secret"] });
    expect(v).toMatchObject({ state: "unhealthy", healthy: false, pending: false });
    expect(v.reason).toBe("healthcheck reports unhealthy; last probe exited 2: db refused password ***");
  });

  it("judges a running container without a healthcheck unhealthy", () => {
    const v = only([api], [anObservedContainer(api, "api", { health: undefined })]);
    expect(v).toMatchObject({ state: "running", healthy: false });
    expect(v.reason).toContain("no healthcheck");
  });

  it("judges a healthy-looking container in a restart loop unhealthy", () => {
    const a = anObservedContainer(api, "api", { health: "healthy", restartCount: 7 });
    expect(only([api], [a], { second: [{ ...a, restartCount: 8 }] })).toMatchObject({ state: "restarting", healthy: false });
  });
});

describe("judgeHealth: one-shots (exited-success)", () => {
  it("judges a one-shot that exited 0 healthy", () => {
    expect(only([job], [anObservedContainer(job, "job")])).toMatchObject({
      state: "exited",
      healthy: true,
      exitCode: 0,
      reason: "exited 0",
    });
  });

  it("judges a one-shot that exited 3 unhealthy, with its exit code", () => {
    const v = only([job], [anObservedContainer(job, "job", { exitCode: 3 })]);
    expect(v).toMatchObject({ state: "exited", healthy: false, exitCode: 3 });
    expect(v.reason).toBe("exited with code 3 (a one-shot must exit 0)");
  });

  it("judges an OOM-killed one-shot unhealthy even when it reports exit code 0", () => {
    expect(only([job], [anObservedContainer(job, "job", { oomKilled: true, exitCode: 137 })])).toMatchObject({
      state: "oom-killed",
      healthy: false,
      exitCode: 137,
    });
    expect(only([job], [anObservedContainer(job, "job", { oomKilled: true, exitCode: 0 })])).toMatchObject({
      state: "oom-killed",
      healthy: false,
    });
  });

  it("judges a one-shot that never ran unhealthy", () => {
    const v = only(
      [job],
      [anObservedContainer(job, "job", { status: "created", running: false, startedAt: undefined, finishedAt: undefined })],
    );
    expect(v).toMatchObject({ state: "never-started", healthy: false, exitCode: null });
  });

  it("judges a one-shot whose start failed unhealthy with the engine's error, masked", () => {
    const c = anObservedContainer(job, "job", {
      status: "created",
      running: false,
      exitCode: 127,
      error: "exec: tok-1234567 not found",
      startedAt: undefined,
      finishedAt: undefined,
    });
    const v = only([job], [c], { secrets: ["tok-1234567"] });
    expect(v).toMatchObject({ state: "start-error", healthy: false, exitCode: 127 });
    expect(v.reason).toBe("failed to start (exit code 127): exec: *** not found");
  });

  it("judges an exit 0 with an engine error unhealthy (the strict predicate)", () => {
    expect(only([job], [anObservedContainer(job, "job", { error: "mount failed" })])).toMatchObject({ state: "exited", healthy: false });
  });

  // For a process that exits within ~1 ms, dockerd 20.10 stamps StartedAt after FinishedAt (timestamps below measured
  // on the engine); plan and health share exitedSuccessfully(), which therefore does not compare the two.
  it("judges a fast one-shot healthy although the engine stamped FinishedAt 4 ms before StartedAt", () => {
    const c = anObservedContainer(job, "job", { startedAt: "2026-11-22T15:01:05.179952169Z", finishedAt: "2026-11-22T15:01:05.17562093Z" });
    expect(only([job], [c])).toMatchObject({ healthy: true });
  });

  it("judges a one-shot still running as pending, not healthy", () => {
    expect(only([job], [anObservedContainer(job, "job", { status: "running", running: true, finishedAt: undefined })])).toMatchObject({
      state: "running",
      healthy: false,
      pending: true,
    });
  });

  it("never calls a one-shot's restart count a loop", () => {
    const a = anObservedContainer(job, "job", { restartCount: 0 });
    expect(only([job], [a], { second: [{ ...a, restartCount: 1 }] })).toMatchObject({ healthy: true });
  });
});

describe("judgeHealth: modules", () => {
  it("is healthy only when every service of every module is", () => {
    const two = aModule({ name: "two", services: [aService({ name: "a" }), aService({ name: "b" })] });
    const r = judge([two, web], [anObservedContainer(two, "a"), anObservedContainer(web, "web")]);
    expect(r.healthy).toBe(false);
    expect(r.modules.map((m) => [m.name, m.healthy])).toEqual([
      ["two", false],
      ["web", true],
    ]);
    expect(r.modules[0]?.services.map((s) => s.state)).toEqual(["running", "missing"]);
  });

  it("is healthy for an empty selection", () => {
    expect(judge([], []).healthy).toBe(true);
  });
});

describe("judgeMounts", () => {
  const finding = (code: MountFinding["code"], module: string | null, service: string | null): MountFinding => ({
    code,
    module,
    service,
    path: "/data/state",
    message: "m",
    remedy: "r",
  });
  const report = () => judge([web, api], [anObservedContainer(web, "web"), anObservedContainer(api, "api")]);

  it("makes the service with a shadowed nested mount unhealthy, naming the finding", () => {
    const r = judgeMounts(report(), [finding("mount.shadowed", "web", "web")], false);
    expect(r.healthy).toBe(false);
    expect(r.modules.map((m) => [m.name, m.healthy])).toEqual([
      ["web", false],
      ["api", true],
    ]);
    expect(r.modules[0]?.services[0]?.reason).toBe("mount problem: mount.shadowed at /data/state (see the mount findings)");
  });

  it("makes the service with a missing bind source unhealthy", () => {
    expect(judgeMounts(report(), [finding("bind.source_missing", "api", "api")], false).modules[1]?.healthy).toBe(false);
  });

  it("keeps two writers, STATE_DIR in a bind and an unverified mount as warnings, unless strict", () => {
    const layout = [
      finding("bind.two_writers", "web", "web"),
      finding("state_dir.in_bind", "api", "api"),
      finding("mount.unverified", "api", "api"),
    ];
    expect(judgeMounts(report(), layout, false).healthy).toBe(true);
    const strict = judgeMounts(report(), layout, true);
    expect(strict.modules.map((m) => m.healthy)).toEqual([false, false]);
  });

  it("never lets a finding about no service (engine not local) change a verdict, even when strict", () => {
    expect(judgeMounts(report(), [finding("mount.not_checked", null, null)], true).healthy).toBe(true);
  });
});

describe("needsSecondLook: when a second observation ~1 s later could change a verdict", () => {
  const look = (modules: Module[], first: ObservedContainer[]) => needsSecondLook(modules, first, nameOf("p"));

  it("looks again at a running service under a restart policy that restarts it (a loop may hide between crashes)", () => {
    expect(look([web], [anObservedContainer(web, "web", { restartPolicy: "unless-stopped" })])).toBe(true);
    expect(look([web], [anObservedContainer(web, "web", { restartPolicy: "on-failure" })])).toBe(true);
  });

  it("looks again when the runtime does not say which restart policy a unit has", () => {
    expect(look([web], [anObservedContainer(web, "web", { restartPolicy: undefined })])).toBe(true);
  });

  it("does not look again at a service no restart policy restarts, nor at one already seen restarting", () => {
    expect(look([web], [anObservedContainer(web, "web", { restartPolicy: "no" })])).toBe(false);
    expect(look([web], [anObservedContainer(web, "web", { restartPolicy: "" })])).toBe(false);
    expect(look([web], [anObservedContainer(web, "web", { restartPolicy: "always", status: "restarting" })])).toBe(false);
  });

  it("looks again at a one-shot still running (it may finish), never at one that ended or never started", () => {
    expect(look([job], [anObservedContainer(job, "job", { status: "running", running: true, restartPolicy: "no" })])).toBe(true);
    expect(look([job], [anObservedContainer(job, "job", { restartPolicy: "always" })])).toBe(false);
    expect(look([job], [anObservedContainer(job, "job", { status: "created", startedAt: undefined, restartPolicy: "no" })])).toBe(false);
  });

  it("does not look again for a missing container, and looks again when any one judged service needs it", () => {
    expect(look([web, job], [])).toBe(false);
    expect(
      look(
        [web, job],
        [anObservedContainer(web, "web", { restartPolicy: "no" }), anObservedContainer(job, "job", { status: "running", running: true })],
      ),
    ).toBe(true);
  });
});
