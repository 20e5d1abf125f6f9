// The create request buildContainer makes for representative services, checked as exact, whole objects.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildContainer } from "../../src/engine/container-body.js";
import type { Module, Service } from "../../src/manifest/module.js";
import { moduleSpecs } from "../../src/plan/desired-spec.js";
import { aModule, aService } from "../helpers/plan-data.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const S = 1_000_000_000;

/** The labels every platformctl container carries; the spec hash and its per-field digests come from the plan's desired spec. */
function platformLabels(project: string, m: Module, s: Service): Record<string, string> {
  const spec = moduleSpecs(m).get(s.name);
  if (!spec) throw new Error(`no spec for ${s.name}`);
  return {
    "dev.platformctl.project": project,
    "dev.platformctl.module": m.name,
    "dev.platformctl.service": s.name,
    "dev.platformctl.spec-hash": spec.hash,
    "dev.platformctl.spec-fields": JSON.stringify(spec.fields),
    "dev.platformctl.image-ref": s.image,
  };
}

describe("the create request of a long-running service with every field set", () => {
  const web = aService({
    name: "web",
    image: "registry.example.org/web:2.1",
    entrypoint: ["/bin/entry", "--profile=${PROFILE:-prod}"],
    command: ["serve", "--price", "$$5", "--token", "${API_TOKEN}"],
    environment: { API_TOKEN: "${API_TOKEN}", GREETING: "cost $$5 at ${HOST:-localhost}", PLAIN: "1" },
    restart: "unless-stopped",
    networks: ["frontend", "backend"],
    volumes: [
      { type: "volume", source: "data", target: "/var/lib/web", readOnly: false },
      { type: "volume", source: undefined, target: "/cache", readOnly: false },
      { type: "bind", source: "./conf", target: "/etc/web", readOnly: true },
      { type: "bind", source: "${LOG_DIR}", target: "/var/log/web", readOnly: false },
      { type: "tmpfs", source: undefined, target: "/tmp", readOnly: false },
    ],
    healthcheck: {
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/health"],
      intervalNs: 5 * S,
      timeoutNs: 2 * S,
      startPeriodNs: 10 * S,
      retries: 3,
    },
    labels: { "org.example.team": "edge" },
    user: "1000:1000",
    workingDir: "/srv/web",
    ports: [
      { target: 8080, published: 80, hostIp: "127.0.0.1", protocol: "tcp" },
      { target: 8443, published: 443, hostIp: undefined, protocol: "tcp" },
      { target: 9000, published: undefined, hostIp: undefined, protocol: "tcp" },
      { target: 5353, published: 5353, hostIp: undefined, protocol: "udp" },
    ],
    stopGracePeriodSeconds: 15,
    stopSignal: "SIGINT",
    memLimitBytes: 256 * 1024 * 1024,
  });
  const module = aModule({ name: "web", dir: "/srv/catalog/modules/web", services: [web] });
  const env = { API_TOKEN: "tok-9fQ2", LOG_DIR: "/var/log/platform/web" };
  const built = buildContainer({ project: "platform", module, service: web, env, digestKey: undefined });

  it("names the container project_module_service and builds exactly this body", () => {
    expect(built.name).toBe("platform_web_web");
    expect(built.body).toStrictEqual({
      Image: "registry.example.org/web:2.1",
      Entrypoint: ["/bin/entry", "--profile=prod"],
      Cmd: ["serve", "--price", "$5", "--token", "tok-9fQ2"],
      Env: ["API_TOKEN=tok-9fQ2", "GREETING=cost $5 at localhost", "PLAIN=1"],
      Labels: { "org.example.team": "edge", ...platformLabels("platform", module, web) },
      User: "1000:1000",
      WorkingDir: "/srv/web",
      StopTimeout: 15,
      StopSignal: "SIGINT",
      ExposedPorts: { "8080/tcp": {}, "8443/tcp": {}, "9000/tcp": {}, "5353/udp": {} },
      Healthcheck: {
        Test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/health"],
        Interval: 5 * S,
        Timeout: 2 * S,
        StartPeriod: 10 * S,
        Retries: 3,
      },
      HostConfig: {
        RestartPolicy: { Name: "unless-stopped" },
        Mounts: [
          { Type: "volume", Source: "platform_data", Target: "/var/lib/web", ReadOnly: false },
          { Type: "volume", Target: "/cache", ReadOnly: false },
          { Type: "bind", Source: "/srv/catalog/modules/web/conf", Target: "/etc/web", ReadOnly: true },
          { Type: "bind", Source: "/var/log/platform/web", Target: "/var/log/web", ReadOnly: false },
          { Type: "tmpfs", Target: "/tmp", ReadOnly: false },
        ],
        PortBindings: {
          "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "80" }],
          "8443/tcp": [{ HostIp: "", HostPort: "443" }],
          "5353/udp": [{ HostIp: "", HostPort: "5353" }],
        },
        Memory: 256 * 1024 * 1024,
        MemorySwap: 256 * 1024 * 1024,
        NetworkMode: "platform_frontend",
      },
      NetworkingConfig: { EndpointsConfig: { platform_frontend: { Aliases: ["web"] } } },
    });
  });

  it("connects the first network at create and lists the others to connect after, with the named volumes it needs", () => {
    expect(built.extraNetworks).toStrictEqual(["platform_backend"]);
    expect(built.volumes).toStrictEqual({ platform_data: "data" });
  });

  it("hands the values it resolved from the environment to the masker, once each: not defaults, literals or bind paths", () => {
    expect(built.secrets).toStrictEqual(["tok-9fQ2"]);
  });
});

describe("the create request of a minimal one-shot", () => {
  const job = aService({
    name: "migrate",
    image: TEST_IMAGE,
    command: ["sh", "-c", "exit $$CODE"],
    environment: {},
    restart: "no",
    expectedState: "exited-success",
  });
  const module = aModule({ name: "migrate", services: [job], expectedState: "exited-success" });
  const built = buildContainer({ project: "p", module, service: job, env: {}, digestKey: undefined });

  it("sets only image, command, env, labels, restart policy and mounts: no ports, healthcheck, memory, network or stop keys", () => {
    expect(built).toStrictEqual({
      name: "p_migrate_migrate",
      body: {
        Image: TEST_IMAGE,
        Cmd: ["sh", "-c", "exit $CODE"],
        Env: [],
        Labels: platformLabels("p", module, job),
        HostConfig: { RestartPolicy: { Name: "no" }, Mounts: [] },
      },
      extraNetworks: [],
      volumes: {},
      secrets: [],
    });
  });
});

describe("restart policies", () => {
  it.each(["no", "always", "unless-stopped", "on-failure"] as const)(
    "passes restart: %s through as the engine's policy name, without a retry count",
    (restart) => {
      const s = aService({ name: "svc", restart });
      const built = buildContainer({
        project: "p",
        module: aModule({ name: "m", services: [s] }),
        service: s,
        env: {},
        digestKey: undefined,
      });
      expect(built.body.HostConfig.RestartPolicy).toStrictEqual({ Name: restart });
    },
  );
});

describe("environment from env files and the secret-digests label", () => {
  const svc = aService({ name: "api", environment: { DB_PASSWORD: "${DB_PASSWORD}", MODE: "fast", OVERRIDDEN: "from-manifest" } });
  const module = aModule({ name: "api", services: [svc] });
  const key = new Uint8Array(32).fill(7);
  const built = buildContainer({
    project: "p",
    module,
    service: svc,
    env: { DB_PASSWORD: "pw-Lk3v" },
    digestKey: key,
    envFileValues: { OVERRIDDEN: "from-file", FILE_ONLY: "file-secret-8Hq", EMPTY: "" },
  });

  it("adds env-file keys the manifest does not set, sorted, before the manifest's own (which win)", () => {
    expect(built.body.Env).toStrictEqual([
      "EMPTY=",
      "FILE_ONLY=file-secret-8Hq",
      "DB_PASSWORD=pw-Lk3v",
      "MODE=fast",
      "OVERRIDDEN=from-manifest",
    ]);
  });

  it("labels keyed digests of the referenced values only (HMAC-SHA256 of KEY=value, 32 hex digits), never the values", () => {
    const digest = createHmac("sha256", key).update("DB_PASSWORD=pw-Lk3v").digest("hex").slice(0, 32);
    expect(built.body.Labels).toStrictEqual({
      ...platformLabels("p", module, svc),
      "dev.platformctl.secret-digests": JSON.stringify({ DB_PASSWORD: digest }),
    });
    expect(JSON.stringify(built.body.Labels)).not.toContain("pw-Lk3v");
  });

  it("masks env-file values and resolved references, but not empty values", () => {
    expect([...built.secrets].sort()).toStrictEqual(["file-secret-8Hq", "from-file", "pw-Lk3v"]);
  });
});
