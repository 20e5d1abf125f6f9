// Adoption of Compose-created containers in the pure core: which containers a module owns, and the inspected-config comparison.
import { describe, expect, it } from "vitest";
import {
  adoptionOf,
  argvDigest,
  compareAdopted,
  composeLabels,
  desiredDigests,
  envDigests,
  matchAdoption,
  type DesiredDigests,
} from "../../src/plan/adoption.js";
import { computePlan, planFingerprint } from "../../src/plan/compute-plan.js";
import type { Module, Service } from "../../src/manifest/module.js";
import type { ObservedConfig, ObservedContainer, ObservedImageConfig } from "../../src/plan/observed-state.js";
import { aModule, aService, anObservedContainer, anObservedState, IMAGE_ID, planInputs } from "../helpers/plan-data.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const KEY = new Uint8Array(32).fill(7);
const COMPOSE = { files: ["../../compose.yaml"], services: [], project: undefined, envFile: undefined, dependsOn: {} };

/** The image's defaults: busybox-like (PATH, Cmd sh), digested with KEY. */
const IMAGE: ObservedImageConfig = {
  env: envDigests(KEY, ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]),
  command: argvDigest(KEY, ["sh"]),
  entrypoint: null,
  user: "",
  workingDir: "",
  stopSignal: "",
  healthcheck: null,
  volumes: [],
};

const STORE = aService({
  name: "store",
  command: ["sh", "-c", "exec sleep 100000"],
  environment: { MODE: "plain", TOKEN: "${STORE_TOKEN}" },
  restart: "unless-stopped",
  networks: ["default"],
  volumes: [{ type: "volume", source: "data", target: "/data", readOnly: false }],
  healthcheck: { test: ["CMD", "true"], intervalNs: 1e9, timeoutNs: undefined, startPeriodNs: undefined, retries: 3 },
  expectedState: "healthy",
});

/** The config `docker compose up -d` leaves for STORE in project `p` (the engine filled PATH in from the image). */
function composeConfig(over: Partial<ObservedConfig> = {}, token = "t0ken"): ObservedConfig {
  return {
    env: envDigests(KEY, ["MODE=plain", `TOKEN=${token}`, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]),
    command: argvDigest(KEY, ["sh", "-c", "exec sleep 100000"]),
    entrypoint: null,
    user: "",
    workingDir: "",
    stopSignal: "",
    restart: "unless-stopped",
    healthcheck: { test: argvDigest(KEY, ["CMD", "true"]), intervalNs: 1e9, timeoutNs: 0, startPeriodNs: 0, retries: 3 },
    mounts: [{ type: "volume", name: "p_data", source: "/var/lib/docker/volumes/p_data/_data", target: "/data", readOnly: false }],
    networks: ["p_default"],
    ports: [],
    memoryBytes: 0,
    stopTimeoutSeconds: null,
    ...over,
  };
}

const compare = (
  over: { service?: Service; config?: ObservedConfig; image?: ObservedImageConfig | null; desired?: DesiredDigests } = {},
) => {
  const service = over.service ?? STORE;
  return compareAdopted({
    service,
    moduleDir: "/srv/platform/modules/store",
    composeProject: "p",
    config: over.config ?? composeConfig(),
    labels: {},
    image: over.image === undefined ? IMAGE : over.image,
    desired: over.desired ?? desiredDigests(service, { STORE_TOKEN: "t0ken" }, KEY),
  });
};

describe("which containers a module owns", () => {
  const modules = [
    aModule({ name: "store", stateful: true, services: [STORE], compose: { ...COMPOSE, services: ["store"] } }),
    aModule({ name: "native" }),
  ];
  const adoption = adoptionOf(modules, "p");

  it("has one rule per service of a Compose-sourced module and counts its named volumes as the module's", () => {
    expect(adoption).toEqual({
      rules: [{ composeProject: "p", service: "store", module: "store" }],
      volumes: [{ name: "p_data", composeProject: "p", module: "store" }],
    });
    const named = adoptionOf([aModule({ ...modules[0], compose: { ...COMPOSE, project: "home", services: ["store"] } } as Module)], "p");
    expect(named.rules[0]?.composeProject).toBe("home");
    expect(named.volumes[0]?.name).toBe("home_data");
  });

  it("matches a container by Compose's project and service labels, whatever its name, but never a one-off", () => {
    const labels = { "com.docker.compose.project": "p", "com.docker.compose.service": "store" };
    expect(matchAdoption(labels, adoption)).toEqual({ composeProject: "p", service: "store", module: "store" });
    expect(matchAdoption({ ...labels, "com.docker.compose.oneoff": "False" }, adoption)?.module).toBe("store");
    expect(matchAdoption({ ...labels, "com.docker.compose.oneoff": "True" }, adoption)).toBeUndefined();
    expect(matchAdoption({ ...labels, "com.docker.compose.project": "other" }, adoption)).toBeUndefined();
    expect(matchAdoption({ "com.docker.compose.project": "p", "com.docker.compose.service": "native" }, adoption)).toBeUndefined();
  });

  it("drops Compose's config-hash from a replacement whose config changed, and keeps it when the config is the one Compose made", () => {
    const labels = { "com.docker.compose.project": "p", "com.docker.compose.config-hash": "abc" };
    expect(composeLabels(labels, "config.changed")).toEqual({ "com.docker.compose.project": "p" });
    expect(composeLabels(labels, "image.changed")).toEqual({ "com.docker.compose.project": "p" });
    expect(composeLabels(labels)).toEqual({ "com.docker.compose.project": "p" });
    expect(composeLabels(labels, "container.state.unhealthy")).toEqual(labels);
    expect(composeLabels(labels, "image.updated")).toEqual(labels);
  });

  it("carries only Compose's labels over to a replacement", () => {
    expect(composeLabels({ "com.docker.compose.project": "p", "dev.platformctl.module": "m", "org.example": "x" })).toEqual({
      "com.docker.compose.project": "p",
    });
  });
});

describe("comparing an adopted container's inspected config with its service", () => {
  it("finds an untouched `docker compose up -d` container equal, the image's PATH and restart policy included", () => {
    expect(compare()).toEqual({ changed: [], unknown: [] });
    expect(compare({ service: { ...STORE, restart: "no" }, config: composeConfig({ restart: "" }) })).toEqual({ changed: [], unknown: [] });
  });

  it("names each differing field, environment per key, and never a value", () => {
    const r = compare({
      config: composeConfig(
        {
          user: "1000",
          stopSignal: "SIGINT",
          restart: "always",
          networks: ["p_default", "p_other"],
          mounts: [],
          command: argvDigest(KEY, ["sh"]),
          healthcheck: null,
        },
        "rotated",
      ),
    });
    expect(r).toEqual({
      changed: ["command", "environment.TOKEN", "healthcheck", "networks", "restart", "stop_signal", "user", "volumes"],
      unknown: [],
    });
    expect(JSON.stringify(r)).not.toContain("rotated");
  });

  it("reports a reference whose value is not available as unknown, not as changed", () => {
    const desired = desiredDigests(STORE, {}, KEY);
    expect(desired.environment.TOKEN).toBeNull();
    expect(compare({ desired })).toEqual({ changed: [], unknown: ["environment.TOKEN"] });
  });

  it("expects the image's Cmd, Entrypoint, WorkingDir, User and StopSignal where the service leaves them unset", () => {
    const service = { ...STORE, command: undefined };
    const image = { ...IMAGE, workingDir: "/srv", user: "app", stopSignal: "SIGQUIT" };
    const config = composeConfig({ command: argvDigest(KEY, ["sh"]), workingDir: "/srv", user: "app", stopSignal: "SIGQUIT" });
    expect(compare({ service, image, config })).toEqual({ changed: [], unknown: [] });
    expect(compare({ service, image, config: { ...config, workingDir: "/" } }).changed).toEqual(["working_dir"]);
    // The service's own entrypoint: the engine gives it no image Cmd.
    const ep = { ...STORE, entrypoint: ["/bin/true"], command: undefined };
    expect(compare({ service: ep, config: composeConfig({ entrypoint: argvDigest(KEY, ["/bin/true"]), command: null }) }).changed).toEqual(
      [],
    );
  });

  it("ignores an anonymous volume the image declares, but not an extra mount it does not", () => {
    const extra = { type: "volume", name: "f".repeat(64), source: "/x", target: "/cache", readOnly: false };
    const config = composeConfig({ mounts: [...composeConfig().mounts, extra] });
    expect(compare({ config, image: { ...IMAGE, volumes: ["/cache"] } }).changed).toEqual([]);
    expect(compare({ config }).changed).toEqual(["volumes"]);
    const otherVolume = composeConfig({ mounts: [{ ...composeConfig().mounts[0], name: "q_data" } as ObservedConfig["mounts"][number]] });
    expect(compare({ config: otherVolume }).changed).toEqual(["volumes"]);
  });

  it("reads Compose's published ports, memory limit and grace period as the engine holds them, and names each that differs", () => {
    // "18081:80", "127.0.0.1:18082:81/udp", "82" (unpublished), "0.0.0.0:18083:83": as docker-compose 1.29.2 wrote them.
    const service: Service = {
      ...STORE,
      ports: [
        { target: 80, published: 18081, hostIp: undefined, protocol: "tcp" },
        { target: 81, published: 18082, hostIp: "127.0.0.1", protocol: "udp" },
        { target: 82, published: undefined, hostIp: undefined, protocol: "tcp" },
        { target: 83, published: 18083, hostIp: "0.0.0.0", protocol: "tcp" },
      ],
      memLimitBytes: 512 * 1024 * 1024,
      stopGracePeriodSeconds: 90,
    };
    const config = composeConfig({
      ports: ["127.0.0.1:18082:81/udp", ":18081:80/tcp", ":18083:83/tcp", "::82/tcp"],
      memoryBytes: 536870912,
      stopTimeoutSeconds: 90,
    });
    expect(compare({ service, config })).toEqual({ changed: [], unknown: [] });
    expect(
      compare({ service, config: { ...config, ports: [":18081:80/tcp", "::82/tcp", ":18083:83/tcp", ":18082:81/udp"].sort() } }).changed,
    ).toEqual(["ports"]);
    expect(compare({ service, config: { ...config, memoryBytes: 256 * 1024 * 1024 } }).changed).toEqual(["mem_limit"]);
    expect(compare({ service, config: { ...config, stopTimeoutSeconds: null } }).changed).toEqual(["stop_grace_period"]);
    // Unset in the service: no published port, no limit, no StopTimeout (the engine's default).
    expect(compare({ config: composeConfig({ ports: [":8080:80/tcp"], memoryBytes: 1, stopTimeoutSeconds: 10 }) }).changed).toEqual([
      "mem_limit",
      "ports",
      "stop_grace_period",
    ]);
  });

  it("compares a tmpfs mount, which Compose creates as a Mounts entry inspect reports", () => {
    const service: Service = {
      ...STORE,
      volumes: [...STORE.volumes, { type: "tmpfs", source: undefined, target: "/scratch", readOnly: false }],
    };
    const tmpfs = { type: "tmpfs", name: "", source: "", target: "/scratch", readOnly: false };
    expect(compare({ service, config: composeConfig({ mounts: [...composeConfig().mounts, tmpfs] }) }).changed).toEqual([]);
    expect(compare({ service }).changed).toEqual(["volumes"]);
    expect(compare({ config: composeConfig({ mounts: [...composeConfig().mounts, tmpfs] }) }).changed).toEqual(["volumes"]);
  });

  it("cannot judge what the image fills in when the image is absent, and says so", () => {
    const r = compare({ service: { ...STORE, command: undefined }, image: null });
    expect(r.changed).toEqual([]);
    expect(r.unknown).toEqual(["command", "entrypoint", "environment.PATH", "stop_signal", "user", "working_dir"]);
  });
});

describe("the plan of an adopted container", () => {
  const store = aModule({ name: "store", stateful: true, services: [STORE], compose: { ...COMPOSE, services: ["store"] } });
  const oneShot = aService({ name: "init", command: ["sh", "-c", "exit 1"], expectedState: "exited-success", networks: ["default"] });
  const init = aModule({
    name: "init",
    stateful: true,
    expectedState: "exited-success",
    services: [oneShot],
    compose: { ...COMPOSE, services: ["init"] },
  });
  const adopted = (m: Module, service: string, over: Partial<ObservedContainer>): ObservedContainer =>
    anObservedContainer(m, service, {
      name: `p_${service}_1`,
      labels: { "com.docker.compose.project": "p", "com.docker.compose.service": service },
      specHash: undefined,
      imageRef: undefined,
      compose: { project: "p", service },
      ...over,
    });
  const initConfig = composeConfig({
    env: IMAGE.env,
    command: argvDigest(KEY, ["sh", "-c", "exit 1"]),
    restart: "no",
    healthcheck: null,
    mounts: [],
  });
  const digests = {
    "store/store": desiredDigests(STORE, { STORE_TOKEN: "t0ken" }, KEY),
    "init/init": desiredDigests(oneShot, {}, KEY),
  };
  const plan = (containers: ObservedContainer[], over: { store?: Module } = {}) =>
    computePlan(
      planInputs(
        [over.store ?? store, init],
        { ...anObservedState(containers), imageConfigs: { [TEST_IMAGE]: IMAGE } },
        { adoptionDigests: digests },
      ),
    );

  it("is in sync for a matching store and shows only container.state.exited_success, with a re-run of the same container, for a failed one-shot", () => {
    const p = plan([
      adopted(store, "store", { config: composeConfig() }),
      adopted(init, "init", { config: initConfig, status: "exited", running: false, exitCode: 1, finishedAt: "2026-11-22T10:00:01.000Z" }),
    ]);
    expect(p.modules.map((m) => [m.name, m.in_sync, m.drift.map((d) => d.kind)])).toEqual([
      ["store", true, []],
      ["init", false, ["container.state.exited_success"]],
    ]);
    expect(p.modules[1]?.actions).toEqual([
      { type: "run-once", service: "init", container: "p_init_1", cause: "container.state.exited_success" },
    ]);
  });

  it("recreates a failed Compose one-shot whose config changed, under its Compose name, and runs the replacement (not the old container)", () => {
    const changed = { ...initConfig, command: argvDigest(KEY, ["sh", "-c", "exit 2"]) };
    const p = plan([
      adopted(store, "store", { config: composeConfig() }),
      adopted(init, "init", { config: changed, status: "exited", running: false, exitCode: 1, finishedAt: "2026-11-22T10:00:01.000Z" }),
    ]);
    expect(p.modules[1]?.drift.map((d) => [d.kind, d.detail.fields ?? null])).toEqual([
      ["config.changed", ["command"]],
      ["container.state.exited_success", null],
    ]);
    expect(p.modules[1]?.actions).toEqual([
      { type: "recreate", service: "init", container: "p_init_1", cause: "config.changed" },
      { type: "run-once", service: "init", container: "p_init_1", cause: "config.changed" },
    ]);
  });

  it("names the differing fields in config.changed and recreates under the Compose name", () => {
    const p = plan([adopted(store, "store", { config: composeConfig({ user: "1000" }, "rotated") })]);
    const s = p.modules[0];
    expect(s?.drift).toEqual([
      {
        kind: "config.changed",
        service: "store",
        container: "p_store_1",
        observed: { spec_hash: null },
        expected: { spec_hash: expect.stringMatching(/^v1:/) },
        detail: { fields: ["environment.TOKEN", "user"], compared: "inspected container" },
      },
    ]);
    expect(s?.actions.map((a) => [a.type, a.container])).toEqual([
      ["recreate", "p_store_1"],
      ["start", "p_store_1"],
    ]);
  });

  it("shows a changed image reference as image.changed, from the container's Config.Image", () => {
    const moved = { ...store, services: [{ ...STORE, image: "platformctl-test/busybox:2" }] };
    const p = plan([adopted(moved, "store", { config: composeConfig(), configImage: TEST_IMAGE, imageId: IMAGE_ID })], { store: moved });
    expect(p.modules[0]?.drift.map((d) => [d.kind, d.observed, d.expected])).toEqual([
      ["image.changed", { image: TEST_IMAGE }, { image: "platformctl-test/busybox:2" }],
    ]);
  });

  it("warns when the Compose project differs from the plan's project, since apply would name new volumes differently", () => {
    const other = { ...store, compose: { ...COMPOSE, project: "home", services: ["store"] } };
    const p = plan([adopted(other, "store", { config: composeConfig({ mounts: [], networks: [] }) })], { store: other });
    expect(p.modules[0]?.warnings).toEqual([
      'spec.compose.project is "home" but this plan is for project "p": Compose\'s containers are adopted, but apply refuses to create one (its volumes and networks would be p_<name>, not Compose\'s); run with --project home',
    ]);
    expect(plan([adopted(store, "store", { config: composeConfig() })]).modules[0]?.warnings).toEqual([]);
  });

  it("changes the fingerprint when an adopted container's comparison changes though the container and its id stay the same", () => {
    const inSync = plan([adopted(store, "store", { config: composeConfig() })]);
    const rotated = plan([adopted(store, "store", { config: composeConfig({}, "rotated") })]);
    expect(inSync.modules[0]?.in_sync).toBe(true);
    expect(rotated.modules[0]?.in_sync).toBe(false);
    expect(rotated.fingerprint).not.toBe(inSync.fingerprint);
  });

  it("changes the fingerprint when a value an adopted container is compared on changes, even when the plan shows the same drift", () => {
    const lasting = new Uint8Array(32).fill(9);
    const withValues = (token: string) =>
      computePlan(
        planInputs(
          [store, init],
          { ...anObservedState([adopted(store, "store", { config: composeConfig({}, "live") })]), imageConfigs: { [TEST_IMAGE]: IMAGE } },
          {
            adoptionDigests: { "store/store": desiredDigests(STORE, { STORE_TOKEN: token }, KEY) },
            adoptedValueDigests: { "store/store": desiredDigests(STORE, { STORE_TOKEN: token }, lasting) },
          },
        ),
      );
    const [a, b] = [withValues("first"), withValues("second")];
    expect([a.modules[0]?.drift, a.modules[0]?.actions]).toEqual([b.modules[0]?.drift, b.modules[0]?.actions]);
    expect(a.modules[0]?.drift.map((d) => d.detail.fields)).toEqual([["environment.TOKEN"]]);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(withValues("first").fingerprint).toBe(a.fingerprint);
    expect(JSON.stringify(a)).not.toContain(desiredDigests(STORE, { STORE_TOKEN: "first" }, lasting).environment.TOKEN as string);
  });

  it("fingerprints a plan with the comparisons it planned on: the same fingerprint planFingerprint computes on its own", () => {
    const inputs = planInputs(
      [store, init],
      {
        ...anObservedState([
          adopted(store, "store", { config: composeConfig({ user: "1000" }, "rotated") }),
          adopted(store, "store", { id: "b".repeat(64), name: "p_store_2", config: composeConfig() }),
          adopted(init, "init", {
            config: initConfig,
            status: "exited",
            running: false,
            exitCode: 1,
            finishedAt: "2026-11-22T10:00:01.000Z",
          }),
        ]),
        imageConfigs: { [TEST_IMAGE]: IMAGE },
      },
      { adoptionDigests: digests },
    );
    const p = computePlan(inputs);
    expect(p.modules.map((m) => m.drift.map((d) => d.kind))).toEqual([
      ["container.duplicate", "config.changed"],
      ["container.state.exited_success"],
    ]);
    expect(p.fingerprint).toBe(planFingerprint(inputs, ["store", "init"]));
    expect(p.fingerprint).not.toBe(planFingerprint({ ...inputs, adoptionDigests: {} }, ["store", "init"]));
  });

  it("reports an adopted container whose config was not observed as changed, never as in sync", () => {
    const p = plan([adopted(store, "store", { config: undefined })]);
    expect(p.modules[0]?.drift.map((d) => d.detail.fields)).toEqual([["(unknown: the container's config was not observed)"]]);
  });
});
