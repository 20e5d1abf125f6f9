// connectEngine/engineOptions: DOCKER_HOST handling, pinned version, no modem timeout, and the unreachable error.
import http from "node:http";
import https from "node:https";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PlatformError, UsageError } from "../../src/errors.js";
import { connectEngine, engineOptions } from "../../src/engine/connect.js";
import { EngineError } from "../../src/engine/errors.js";
import { startRecordingProxy } from "../helpers/recording-proxy.js";

const none = {
  host: undefined,
  port: undefined,
  pathPrefix: undefined,
  username: undefined,
  ca: undefined,
  cert: undefined,
  key: undefined,
  timeout: undefined,
  agent: undefined,
};

describe("engineOptions", () => {
  it("uses the local socket when DOCKER_HOST is unset, pinned to API v1.41 and with no timeout", () => {
    expect(engineOptions({})).toStrictEqual({
      endpoint: "unix:///var/run/docker.sock",
      dockerode: { ...none, socketPath: "/var/run/docker.sock", protocol: "http", version: "v1.41", agent: expect.any(http.Agent) },
    });
  });

  it("uses the socket path of a unix:// DOCKER_HOST", () => {
    expect(engineOptions({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" })).toStrictEqual({
      endpoint: "unix:///run/user/1000/docker.sock",
      dockerode: { ...none, socketPath: "/run/user/1000/docker.sock", protocol: "http", version: "v1.41", agent: expect.any(http.Agent) },
    });
  });

  it("gives a unix socket Node's default keep-alive agent with an empty TLS server name, so no request looks the host up as an IP", () => {
    const agent = engineOptions({}).dockerode.agent as unknown as { keepAlive: boolean; options: Record<string, unknown> };
    expect(agent).toBeInstanceOf(http.Agent);
    expect(agent).not.toBeInstanceOf(https.Agent);
    expect(agent.keepAlive).toBe(true);
    expect(agent.options).toMatchObject({ servername: "", scheduling: "lifo", timeout: 5000 });
  });

  it("connects to a tcp:// DOCKER_HOST over plain http with a keep-alive agent and no socket path", () => {
    const o = engineOptions({ DOCKER_HOST: "tcp://10.0.0.5:2375" });
    expect(o).toStrictEqual({
      endpoint: "tcp://10.0.0.5:2375",
      dockerode: {
        ...none,
        socketPath: undefined,
        host: "10.0.0.5",
        port: 2375,
        protocol: "http",
        pathPrefix: "/",
        version: "v1.41",
        agent: expect.any(http.Agent),
      },
    });
    expect(o.dockerode.agent).not.toBeInstanceOf(https.Agent);
    expect(o.dockerode.agent).toMatchObject({ keepAlive: true, keepAliveMsecs: 30_000 });
  });

  it("defaults the tcp port to 2375 without TLS and 2376 with TLS", () => {
    expect(engineOptions({ DOCKER_HOST: "tcp://engine.local" }).dockerode.port).toBe(2375);
    expect(
      engineOptions({ DOCKER_HOST: "tcp://engine.local", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/c" }, () => Buffer.from("x")).dockerode
        .port,
    ).toBe(2376);
  });

  it("turns on TLS with DOCKER_TLS_VERIFY=1 and reads ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH", () => {
    const read: string[] = [];
    const o = engineOptions({ DOCKER_HOST: "tcp://10.0.0.5:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" }, (p) => {
      read.push(p);
      return Buffer.from(`<${p}>`);
    });
    expect(read).toEqual(["/certs/ca.pem", "/certs/cert.pem", "/certs/key.pem"]);
    expect(o).toStrictEqual({
      endpoint: "tcp://10.0.0.5:2376 (TLS)",
      dockerode: {
        ...none,
        socketPath: undefined,
        host: "10.0.0.5",
        port: 2376,
        protocol: "https",
        pathPrefix: "/",
        version: "v1.41",
        ca: Buffer.from("</certs/ca.pem>"),
        cert: Buffer.from("</certs/cert.pem>"),
        key: Buffer.from("</certs/key.pem>"),
        agent: expect.any(https.Agent),
      },
    });
    expect(o.dockerode.agent).toMatchObject({ keepAlive: true });
  });

  it("reads TLS files from ~/.docker when DOCKER_CERT_PATH is unset", () => {
    const read: string[] = [];
    engineOptions({ DOCKER_HOST: "tcp://h:1", DOCKER_TLS_VERIFY: "1", HOME: "/home/op" }, (p) => {
      read.push(p);
      return Buffer.alloc(0);
    });
    expect(read).toEqual(["/home/op/.docker/ca.pem", "/home/op/.docker/cert.pem", "/home/op/.docker/key.pem"]);
  });

  it("names the missing TLS file in a usage error", () => {
    const missing = () => {
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    };
    expect(() => engineOptions({ DOCKER_HOST: "tcp://h:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/nope" }, missing)).toThrow(
      expect.objectContaining({ code: "engine.tls_config", message: expect.stringContaining("/nope/ca.pem") }),
    );
  });

  it("rejects a DOCKER_HOST scheme it does not implement with a usage error", () => {
    let err: unknown;
    try {
      engineOptions({ DOCKER_HOST: "ssh://op@host" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ code: "engine.host_unsupported" });
  });
});

describe("connectEngine", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("ignores docker-modem's own reading of process.env: only the env passed in decides, and no timeout is set", () => {
    vi.stubEnv("DOCKER_HOST", "tcp://192.0.2.1:2375");
    vi.stubEnv("DOCKER_CLIENT_TIMEOUT", "700");
    const modem = connectEngine({}).modem as unknown as { socketPath?: string; host?: string; timeout?: number; version?: string };
    expect(modem).toMatchObject({ socketPath: "/var/run/docker.sock", host: undefined, timeout: undefined, version: "v1.41" });
  });

  it("pings the local engine", async () => {
    await expect(connectEngine(process.env).ping()).resolves.toBeUndefined();
  });

  it("fails with engine.unreachable naming the endpoint tried and how to start an engine", async () => {
    const err = await connectEngine({ DOCKER_HOST: "unix:///nonexistent.sock" })
      .ping()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toBeInstanceOf(PlatformError);
    const e = err as EngineError;
    expect(e.code).toBe("engine.unreachable");
    expect(e.message).toBe("No Docker engine answers at unix:///nonexistent.sock (ENOENT).");
    expect(e.message).not.toContain("\n");
    expect(e.hint).toContain("bash scripts/engine.sh ensure");
    expect(e.hint).toContain("sudo dockerd");
    expect(e.cause).toBeDefined();
  });

  it("fails with engine.unreachable for a tcp endpoint that refuses connections", async () => {
    const err = (await connectEngine({ DOCKER_HOST: "tcp://127.0.0.1:1" })
      .ping()
      .catch((e: unknown) => e)) as EngineError;
    expect(err.code).toBe("engine.unreachable");
    expect(err.message).toBe("No Docker engine answers at tcp://127.0.0.1:1 (ECONNREFUSED).");
  });

  it("talks to an engine over tcp:// through the keep-alive agent, reusing one connection", async () => {
    const proxy = await startRecordingProxy({ tcp: true });
    try {
      const engine = connectEngine({ DOCKER_HOST: proxy.dockerHost });
      await engine.ping();
      await engine.ping();
      expect(proxy.requests).toEqual([
        { method: "GET", url: "/v1.41/_ping" },
        { method: "GET", url: "/v1.41/_ping" },
      ]);
      expect(proxy.connections).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});
