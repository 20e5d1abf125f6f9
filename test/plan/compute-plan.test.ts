// Table tests of the pure planner: plain data in, drift and actions out, with golden plan text.
import { describe, expect, it } from "vitest";
import { computePlan, exitedSuccessfully } from "../../src/plan/compute-plan.js";
import { renderPlanMarkdown, renderPlanText } from "../../src/cli/views/render-plan.js";
import { DRIFT_KINDS } from "../../src/plan/plan.js";
import { desiredSpec, fieldDigests, moduleSpecs, specHash } from "../../src/plan/desired-spec.js";
import { canonicalJson, sha256Hex } from "../../src/plan/canonical-json.js";
import type { Service } from "../../src/manifest/module.js";
import { aModule, aService, anObservedContainer, anObservedState, IMAGE_ID, planInputs } from "../helpers/plan-data.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const oneShot = aModule({
  name: "minio-init",
  stateful: true,
  expectedState: "exited-success",
  services: [aService({ name: "minio-init", expectedState: "exited-success", command: ["true"] })],
});
const web = aModule({ name: "web" });
const store = aModule({
  name: "minio",
  stateful: true,
  expectedState: "healthy",
  services: [
    aService({
      name: "minio",
      expectedState: "healthy",
      restart: "unless-stopped",
      healthcheck: { test: ["CMD", "true"], intervalNs: 1e9, timeoutNs: undefined, startPeriodNs: undefined, retries: 3 },
    }),
  ],
});

const planOf = (catalog = [web], containers = [anObservedContainer(web, "web")], over = {}) =>
  computePlan(planInputs(catalog, anObservedState(containers), over));
const kinds = (p: ReturnType<typeof computePlan>, module: string) =>
  p.modules.find((m) => m.name === module)?.drift.map((d) => d.kind) ?? [];
const actions = (p: ReturnType<typeof computePlan>, module: string) =>
  p.modules.find((m) => m.name === module)?.actions.map((a) => `${a.type}:${a.cause}`) ?? [];

describe("computePlan", () => {
  it("reports a module whose running container matches its spec as in sync with no actions", () => {
    const p = planOf();
    expect(p.modules[0]).toMatchObject({ name: "web", in_sync: true, drift: [], actions: [] });
    expect(p.summary).toEqual({ modules: 1, in_sync: 1, drifted: 0 });
  });

  it("plans create and start for a long-running service with no container", () => {
    const p = planOf([web], []);
    expect(kinds(p, "web")).toEqual(["service.missing"]);
    expect(actions(p, "web")).toEqual(["create:service.missing", "start:service.missing"]);
  });

  it("plans create and run-once for a one-shot with no container", () => {
    const p = planOf([oneShot], []);
    expect(kinds(p, "minio-init")).toEqual(["service.missing"]);
    expect(actions(p, "minio-init")).toEqual(["create:service.missing", "run-once:service.missing"]);
  });

  it("keeps an exited-0 one-shot in sync when its spec is unchanged, although it is not running", () => {
    const p = planOf([oneShot], [anObservedContainer(oneShot, "minio-init")]);
    expect(p.modules[0]?.in_sync).toBe(true);
    expect(p.modules[0]?.actions).toEqual([]);
  });

  it.each([
    ["exited 1", { exitCode: 1 }],
    ["killed (137)", { exitCode: 137 }],
    ["OOM-killed with exit code 0", { oomKilled: true }],
    [
      "a start error",
      { status: "created" as const, error: "exec: no such file", exitCode: 127, startedAt: undefined, finishedAt: undefined },
    ],
    ["never started", { status: "created" as const, startedAt: undefined, finishedAt: undefined }],
  ])("reports exited_success drift and plans run-once for a one-shot that %s", (_label, over) => {
    const p = planOf([oneShot], [anObservedContainer(oneShot, "minio-init", over)]);
    expect(kinds(p, "minio-init")).toEqual(["container.state.exited_success"]);
    expect(actions(p, "minio-init")).toEqual(["run-once:container.state.exited_success"]);
  });

  it("plans a wait, never a second start, for a one-shot that is still running", () => {
    const p = planOf([oneShot], [anObservedContainer(oneShot, "minio-init", { status: "running", running: true, finishedAt: undefined })]);
    expect(kinds(p, "minio-init")).toEqual(["container.state.exited_success"]);
    expect(actions(p, "minio-init")).toEqual(["wait:container.state.exited_success"]);
  });

  it.each(["exited", "created", "dead", "paused", "restarting"] as const)(
    "reports not_running and plans start for a running service whose container is %s",
    (status) => {
      const p = planOf([web], [anObservedContainer(web, "web", { status, running: status === "paused" || status === "restarting" })]);
      expect(kinds(p, "web")).toEqual(["container.state.not_running"]);
      expect(actions(p, "web")).toEqual(["start:container.state.not_running"]);
    },
  );

  it("reports unhealthy for a healthy service whose healthcheck fails and plans its recreation", () => {
    const p = planOf([store], [anObservedContainer(store, "minio", { health: "unhealthy" })]);
    expect(kinds(p, "minio")).toEqual(["container.state.unhealthy"]);
    expect(actions(p, "minio")).toEqual(["recreate:container.state.unhealthy", "start:container.state.unhealthy"]);
  });

  it("plans a wait without drift while a healthcheck is still starting", () => {
    const p = planOf([store], [anObservedContainer(store, "minio", { health: "starting" })]);
    expect(kinds(p, "minio")).toEqual([]);
    expect(actions(p, "minio")).toEqual(["wait:health.starting"]);
  });

  it("reports image.changed when the container runs another image reference", () => {
    const p = planOf([web], [anObservedContainer(web, "web", { imageRef: "platformctl-test/busybox:0" })]);
    expect(kinds(p, "web")).toEqual(["image.changed"]);
    expect(p.modules[0]?.drift[0]).toMatchObject({ observed: { image: "platformctl-test/busybox:0" }, expected: { image: TEST_IMAGE } });
    expect(actions(p, "web")).toEqual(["recreate:image.changed", "start:image.changed"]);
  });

  it("reports image.updated when the same reference now resolves to another local image id", () => {
    const p = computePlan(planInputs([web], anObservedState([anObservedContainer(web, "web")], { [TEST_IMAGE]: "sha256:2222" })));
    expect(kinds(p, "web")).toEqual(["image.updated"]);
    expect(p.modules[0]?.drift[0]).toMatchObject({ observed: { image_id: IMAGE_ID }, expected: { image_id: "sha256:2222" } });
  });

  it("warns, without drift, when the declared image is not present on the engine", () => {
    const p = computePlan(planInputs([web], anObservedState([anObservedContainer(web, "web")], { [TEST_IMAGE]: null })));
    expect(kinds(p, "web")).toEqual([]);
    expect(p.modules[0]?.warnings.join()).toContain("not present");
  });

  it("lists the changed fields, environment key names only, when the spec hash differs", () => {
    const before = aModule({ name: "web", services: [aService({ name: "web", environment: { A: "1", TOKEN: "${TOKEN}" } })] });
    const after = aModule({
      name: "web",
      services: [aService({ name: "web", command: ["sleep", "5"], environment: { A: "2", TOKEN: "${TOKEN}", B: "x" } })],
    });
    const p = planOf([after], [anObservedContainer(before, "web")]);
    expect(kinds(p, "web")).toEqual(["config.changed"]);
    expect(p.modules[0]?.drift[0]?.detail.fields).toEqual(["command", "environment.A", "environment.B"]);
    expect(JSON.stringify(p)).not.toContain('"2"');
  });

  it("reports a stop_signal added, changed or removed as config.changed on field stop_signal, and recreates", () => {
    const withSignal = (stopSignal: Service["stopSignal"]) => aModule({ name: "web", services: [aService({ name: "web", stopSignal })] });
    for (const [before, after] of [
      [undefined, "SIGINT"],
      ["SIGINT", "SIGQUIT"],
      ["SIGINT", undefined],
    ] as const) {
      const p = planOf([withSignal(after)], [anObservedContainer(withSignal(before), "web")]);
      expect(kinds(p, "web"), `${before} -> ${after}`).toEqual(["config.changed"]);
      expect(p.modules[0]?.drift[0]?.detail.fields).toEqual(["stop_signal"]);
      expect(actions(p, "web")).toEqual(["recreate:config.changed", "start:config.changed"]);
    }
    expect(planOf([withSignal("SIGINT")], [anObservedContainer(withSignal("SIGINT"), "web")]).modules[0]?.in_sync).toBe(true);
  });

  it("keeps the spec hash and field digests of a service without stop_signal exactly as they were before the field existed", () => {
    const svc = aService({ name: "web", command: ["serve"], stopGracePeriodSeconds: 30 });
    const { stop_signal, ...v1 } = desiredSpec(svc);
    expect(stop_signal).toBeUndefined();
    expect(specHash(desiredSpec(svc))).toBe(`v1:${sha256Hex(canonicalJson(v1))}`);
    expect(Object.keys(fieldDigests(desiredSpec(svc)))).not.toContain("stop_signal");
    expect(Object.keys(fieldDigests(desiredSpec(aService({ stopSignal: "SIGINT" }))))).toContain("stop_signal");
  });

  it("reports a changed resolved value as config.changed on that key, without the value, when digests are available", () => {
    const svc = aService({ name: "web", environment: { TOKEN: "${TOKEN}" } });
    const m = aModule({ name: "web", services: [svc] });
    const c = anObservedContainer(m, "web", {
      labels: { ...anObservedContainer(m, "web").labels, "dev.platformctl.secret-digests": JSON.stringify({ TOKEN: "aaaa" }) },
    });
    const p = planOf([m], [c], { secretDigests: { "web/web": { TOKEN: "bbbb" } } });
    expect(kinds(p, "web")).toEqual(["config.changed"]);
    expect(p.modules[0]?.drift[0]?.detail.fields).toEqual(["environment.TOKEN"]);
    expect(planOf([m], [c]).modules[0]?.in_sync).toBe(true);
  });

  it("reports duplicates, keeps the canonically named container, and removes extras only with --prune", () => {
    const keep = anObservedContainer(web, "web");
    const extra = anObservedContainer(web, "web", { id: "id-extra", name: "p_web_web-copy", createdAt: "2026-11-22T11:00:00.000Z" });
    const p = planOf([web], [extra, keep]);
    expect(kinds(p, "web")).toEqual(["container.duplicate"]);
    expect(p.modules[0]?.drift[0]?.detail.keep).toBe("p_web_web");
    expect(actions(p, "web")).toEqual([]);
    expect(actions(planOf([web], [extra, keep], { prune: true }), "web")).toEqual(["remove:container.duplicate"]);
  });

  it("reports containers of undeclared services and modules as orphaned, removed only with --prune", () => {
    const gone = anObservedContainer(web, "old", { module: "web", service: "old", name: "p_web_old" });
    const ghost = anObservedContainer(web, "x", { module: "ghost", service: "x", name: "p_ghost_x" });
    const p = planOf([web], [anObservedContainer(web, "web"), gone, ghost]);
    expect(kinds(p, "web")).toEqual(["container.orphaned"]);
    expect(p.modules.find((m) => m.name === "ghost")).toMatchObject({ declared: false, in_sync: false });
    expect(actions(planOf([web], [gone, ghost, anObservedContainer(web, "web")], { prune: true }), "ghost")).toEqual([
      "remove:container.orphaned",
    ]);
  });

  it("plans only the selected modules and leaves undeclared modules out unless named", () => {
    const ghost = anObservedContainer(web, "x", { module: "ghost", service: "x" });
    const p = planOf([web, oneShot], [ghost], { selected: ["minio-init"] });
    expect(p.modules.map((m) => m.name)).toEqual(["minio-init"]);
  });

  it("recreates and re-runs a one-shot whose spec changed", () => {
    const before = aModule({
      ...oneShot,
      services: [aService({ name: "minio-init", expectedState: "exited-success", command: ["false"] })],
    });
    const p = planOf([oneShot], [anObservedContainer(before, "minio-init", { exitCode: 1 })]);
    expect(kinds(p, "minio-init")).toEqual(["config.changed", "container.state.exited_success"]);
    expect(actions(p, "minio-init")).toEqual(["recreate:config.changed", "run-once:config.changed"]);
  });

  it("is deterministic: the same inputs give byte-identical JSON, whatever the order of observed containers", () => {
    const cs = [anObservedContainer(web, "web"), anObservedContainer(oneShot, "minio-init", { exitCode: 3 })];
    const a = JSON.stringify(planOf([web, oneShot], cs));
    const b = JSON.stringify(planOf([web, oneShot], [...cs].reverse()));
    expect(a).toBe(b);
  });

  it("changes the fingerprint when an observed fact changes but not when only the time does", () => {
    const a = planOf([oneShot], [anObservedContainer(oneShot, "minio-init")]);
    const b = planOf([oneShot], [anObservedContainer(oneShot, "minio-init")], { now: "2030-01-01T00:00:00.000Z" });
    const c = planOf([oneShot], [anObservedContainer(oneShot, "minio-init", { exitCode: 1 })]);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
    expect(a.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  describe("the stateful ratchet", () => {
    const flipped = aModule({ ...store, stateful: false });
    const labelled = { "dev.platformctl.stateful": "true" };
    const volume = (stateful: boolean) => ({ name: "p_minio-data", module: "minio", stateful });

    it("reports module.stateful_removed for a container labelled stateful when the manifest says stateful: false, and judges the module stateful", () => {
      const c = anObservedContainer(store, "minio");
      const p = planOf([flipped], [{ ...c, labels: { ...c.labels, ...labelled } }]);
      expect(kinds(p, "minio")).toEqual(["module.stateful_removed"]);
      expect(p.modules[0]?.stateful).toBe(true);
      expect(p.modules[0]?.actions).toEqual([]);
    });

    it("reports it for a volume created for the module with the stateful label", () => {
      const state = { ...anObservedState([anObservedContainer(store, "minio")]), volumes: [volume(true)] };
      const p = computePlan(planInputs([flipped], state));
      expect(p.modules[0]?.drift).toEqual([
        expect.objectContaining({
          kind: "module.stateful_removed",
          service: "minio",
          container: null,
          detail: { resource: "volume", volume: "p_minio-data" },
        }),
      ]);
    });

    it("reports nothing for resources without the label (created before it existed) or for a module still stateful", () => {
      const state = { ...anObservedState([anObservedContainer(store, "minio")]), volumes: [volume(false)] };
      expect(kinds(computePlan(planInputs([flipped], state)), "minio")).toEqual([]);
      expect(computePlan(planInputs([flipped], state)).modules[0]?.stateful).toBe(false);
      const c = anObservedContainer(store, "minio");
      expect(kinds(planOf([store], [{ ...c, labels: { ...c.labels, ...labelled } }]), "minio")).toEqual([]);
    });

    it("shows it above the table of the markdown plan and in the human plan", () => {
      const c = anObservedContainer(store, "minio");
      const p = planOf([flipped], [{ ...c, labels: { ...c.labels, ...labelled } }]);
      const md = renderPlanMarkdown(p);
      expect(md.indexOf("stateful flag removed")).toBeGreaterThan(-1);
      expect(md.indexOf("stateful flag removed")).toBeLessThan(md.indexOf("| module |"));
      expect(md).toContain("**yes (manifest says no)**");
      expect(renderPlanText(p)).toContain("module.stateful_removed");
    });
  });

  it("keeps the fingerprint when the same container was restarted (a stop backup) and changes it for a new container id", () => {
    const c = anObservedContainer(store, "minio");
    // A container never stopped has no FinishedAt; after the backup's stop and start it has one.
    const restarted = { ...c, startedAt: "2030-01-01T00:00:05.000Z", finishedAt: "2030-01-01T00:00:04.000Z" };
    expect(c.finishedAt === undefined || c.running).toBe(true);
    expect(planOf([store], [restarted]).fingerprint).toBe(planOf([store], [c]).fingerprint);
    expect(planOf([store], [{ ...c, id: "f".repeat(64) }]).fingerprint).not.toBe(planOf([store], [c]).fingerprint);
    expect(planOf([store], [{ ...c, status: "exited", running: false }]).fingerprint).not.toBe(planOf([store], [c]).fingerprint);
  });

  it("gives every drift kind of the closed set a producing case above", () => {
    expect(Object.keys(DRIFT_KINDS).sort()).toEqual(
      [
        "config.changed",
        "container.duplicate",
        "container.orphaned",
        "container.state.exited_success",
        "container.state.not_running",
        "container.state.unhealthy",
        "image.changed",
        "image.updated",
        "module.stateful_removed",
        "service.missing",
      ].sort(),
    );
  });
});

describe("exitedSuccessfully", () => {
  it("accepts an exit 0 whose FinishedAt is a few ms before StartedAt (sub-millisecond runs on Docker 20.10)", () => {
    const ok = anObservedContainer(oneShot, "minio-init", {
      startedAt: "2026-11-22T10:00:00.004Z",
      finishedAt: "2026-11-22T10:00:00.000Z",
    });
    expect(exitedSuccessfully(ok)).toBe(true);
  });

  it("accepts only exited, code 0, not OOM-killed, no start error, started and finished", () => {
    const ok = anObservedContainer(oneShot, "minio-init");
    expect(exitedSuccessfully(ok)).toBe(true);
    expect(exitedSuccessfully({ ...ok, oomKilled: true })).toBe(false);
    expect(exitedSuccessfully({ ...ok, startedAt: undefined })).toBe(false);
    expect(exitedSuccessfully({ ...ok, finishedAt: undefined })).toBe(false);
    expect(exitedSuccessfully({ ...ok, error: "boom" })).toBe(false);
    expect(exitedSuccessfully({ ...ok, status: "dead" })).toBe(false);
  });
});

describe("spec hash", () => {
  it("does not depend on the order of environment keys or networks", () => {
    const a = aModule({ services: [aService({ environment: { A: "1", B: "2" }, networks: ["x", "y"] })] });
    const b = aModule({ services: [aService({ environment: { B: "2", A: "1" }, networks: ["y", "x"] })] });
    expect(moduleSpecs(a).get("app")?.hash).toBe(moduleSpecs(b).get("app")?.hash);
  });
});

describe("plan views (golden text)", () => {
  const catalog = [store, oneShot, web];
  const observed = [
    anObservedContainer(store, "minio"),
    anObservedContainer(oneShot, "minio-init", { exitCode: 1 }),
    anObservedContainer(web, "x", { module: "ghost", service: "x", name: "p_ghost_x", status: "exited", running: false }),
  ];
  const plan = planOf(catalog, observed);

  it("renders the human plan", async () => {
    await expect(renderPlanText(plan)).toMatchFileSnapshot("golden/plan.txt");
  });

  it("renders the markdown plan", async () => {
    await expect(renderPlanMarkdown(plan)).toMatchFileSnapshot("golden/plan.md");
  });

  it("renders the JSON plan", async () => {
    await expect(`${JSON.stringify(plan, null, 2)}\n`).toMatchFileSnapshot("golden/plan.json");
  });
});
