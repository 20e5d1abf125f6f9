// Connects to the Docker engine named by DOCKER_HOST (unix or tcp, optionally TLS), pinned to API v1.41.
import DockerModem from "docker-modem";
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { requestJson } from "./dial.js";
import { EngineError, isEngineError } from "./errors.js";

/** The API version every request uses, so a daemon upgrade cannot change the shapes we read. */
export const API_VERSION = "v1.41";

const DEFAULT_SOCKET = "/var/run/docker.sock";
const PING_TIMEOUT_MS = 10_000;

/**
 * A connected engine client. Only `src/engine` reaches into `modem`; everything else passes the Engine along.
 *
 * `modem` is dockerode's transport (docker-modem, the object `new Docker(opts).modem` would be), constructed directly:
 * every request goes through `dial` (src/engine/dial.ts), so dockerode's `Docker` class is never used, and loading it
 * costs ~450 ms per command because it eagerly loads its BuildKit session code (@grpc/grpc-js, protobufjs), which
 * platformctl never uses (measured: README "Performance").
 */
export interface Engine {
  readonly modem: DockerModem;
  /** Where the engine is reached, e.g. `unix:///var/run/docker.sock` or `tcp://10.0.0.5:2376 (TLS)`. */
  readonly endpoint: string;
  /** Resolves when the engine answers `/_ping`; otherwise throws an EngineError (`engine.unreachable`, …). */
  ping(signal?: AbortSignal): Promise<void>;
}

/**
 * The docker-modem constructor options platformctl sets. docker-modem merges its own reading of `process.env`
 * underneath these, so every key it could fill from there is set here explicitly (undefined when unused):
 * only the `env` given to `engineOptions` decides where requests go, and `timeout` stays unset.
 * `timeout` must never be set: it is an idle timer on every request that leaves waits pending forever.
 */
export interface ModemOptions {
  socketPath: string | undefined;
  host: string | undefined;
  port: number | undefined;
  protocol: "http" | "https";
  pathPrefix: string | undefined;
  username: undefined;
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  timeout: undefined;
  version: typeof API_VERSION;
  /** Keep-alive agent for tcp, so long idle waits are not cut by NAT or proxies; for unix sockets, `socketAgent()`. */
  agent: http.Agent | undefined;
}

export interface EngineOptions {
  endpoint: string;
  dockerode: ModemOptions;
}

export type ReadFile = (path: string) => Buffer;

/**
 * A TLS file's bytes, synchronously (the engine client is made synchronously; three small files), opened
 * non-blocking and read only when its own descriptor's stat says it is a regular file: a blocking open of a FIFO
 * would wait for a writer forever on the main thread, where no signal handler can run. Anything else fails with
 * code `EFTYPE` (the code `src/state/read-regular-file.ts` gives the same refusal).
 */
function readRegularFileSync(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: "EFTYPE" });
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Dockerode options for the engine `env` names (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), following the
 * docker CLI: unset -> the local socket; `unix:///path`; `tcp://host[:port]` (port 2375, or 2376 with TLS).
 * TLS is on when DOCKER_TLS_VERIFY is non-empty; it reads ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH
 * (default `~/.docker`) through `readFile`, the only I/O here.
 */
export function engineOptions(env: Record<string, string | undefined>, readFile: ReadFile = readRegularFileSync): EngineOptions {
  const host = env.DOCKER_HOST ?? "";
  const base = {
    host: undefined,
    port: undefined,
    pathPrefix: undefined,
    username: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    timeout: undefined,
    version: API_VERSION,
    agent: undefined,
  } as const;
  if (host === "" || host.startsWith("unix://")) {
    const socketPath = host.slice("unix://".length) || DEFAULT_SOCKET;
    return { endpoint: `unix://${socketPath}`, dockerode: { ...base, socketPath, protocol: "http", agent: socketAgent() } };
  }
  if (!host.startsWith("tcp://")) {
    const scheme = /^([a-z0-9+.-]+):\/\//i.exec(host)?.[1];
    throw new UsageError(
      "engine.host_unsupported",
      `DOCKER_HOST=${host} is not supported: use unix:///path/to/docker.sock or tcp://host:port`,
      {
        detail: scheme ? `The ${scheme}:// scheme is not implemented.` : "DOCKER_HOST needs a scheme.",
        hint: "Unset DOCKER_HOST to use the local engine, or set it to unix:// or tcp://.",
      },
    );
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch (e) {
    throw new UsageError("engine.host_invalid", `DOCKER_HOST=${host} is not a valid tcp://host:port address`, {
      cause: e,
      hint: "Example: DOCKER_HOST=tcp://10.0.0.5:2376",
    });
  }
  const tls = (env.DOCKER_TLS_VERIFY ?? "") !== "";
  const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
  const hostname = url.hostname;
  const endpoint = `tcp://${hostname}:${port}${tls ? " (TLS)" : ""}`;
  const agentOptions = { keepAlive: true, keepAliveMsecs: 30_000 };
  if (!tls) {
    return {
      endpoint,
      dockerode: {
        ...base,
        socketPath: undefined,
        host: hostname,
        port,
        protocol: "http",
        pathPrefix: "/",
        agent: uninspectable(new http.Agent(agentOptions)),
      },
    };
  }
  const certDir = env.DOCKER_CERT_PATH || join(env.HOME ?? "", ".docker");
  const read = (file: string): Buffer => {
    const path = join(certDir, file);
    try {
      return readFile(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === "EFTYPE" ? "not a regular file" : (code ?? "error");
      throw new UsageError("engine.tls_config", `Cannot read the TLS file ${path} for ${endpoint} (${why})`, {
        cause: e,
        hint: "Set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem, or unset DOCKER_TLS_VERIFY.",
      });
    }
  };
  // Required here, not at the top: https brings tls, which only a TLS engine needs (~5-15 ms of every command's start).
  const https = createRequire(import.meta.url)("node:https") as typeof import("node:https");
  return {
    endpoint,
    dockerode: {
      ...base,
      socketPath: undefined,
      host: hostname,
      port,
      protocol: "https",
      pathPrefix: "/",
      ca: read("ca.pem"),
      cert: read("cert.pem"),
      key: read("key.pem"),
      agent: uninspectable(new https.Agent(agentOptions)),
    },
  };
}

/**
 * The unix socket's agent: Node's default agent (keep-alive, lifo, 5 s idle timeout), plus an empty TLS server name.
 * Why: for every request the default agent works out a TLS server name from the host (`localhost`) with `net.isIP`,
 * whose IPv6 pattern costs ~5-10 ms of a short command's CPU (`node --cpu-prof`); a socket has no TLS to name.
 */
function socketAgent(): http.Agent {
  return uninspectable(new http.Agent({ keepAlive: true, scheduling: "lifo", timeout: 5000, servername: "" } as http.AgentOptions));
}

/** Creates the engine client for `env` (normally `process.env`); connects lazily, so call `ping()` to check. */
export function connectEngine(env: Record<string, string | undefined>, readFile: ReadFile = readRegularFileSync): Engine {
  const { endpoint, dockerode } = engineOptions(env, readFile);
  // The types lack `agent`/`pathPrefix`; docker-modem reads them.
  const modem = new DockerModem(dockerode as unknown as DockerModem.ConstructorOptions);
  const engine: Engine = {
    modem,
    endpoint,
    async ping(signal?: AbortSignal): Promise<void> {
      const timeout = AbortSignal.timeout(PING_TIMEOUT_MS);
      const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        await requestJson(engine, { method: "GET", path: "/_ping", operation: "ping", signal: both });
      } catch (e) {
        if (isEngineError(e, "unreachable") || (isEngineError(e, "aborted") && timeout.aborted && !signal?.aborted)) {
          const errno = e.errno === "ABORT_ERR" ? "ETIMEDOUT" : e.errno;
          throw new EngineError({
            kind: "unreachable",
            operation: "ping",
            endpoint,
            errno,
            cause: e,
            message: `No Docker engine answers at ${endpoint} (${errno ?? "no reply"}).`,
          });
        }
        throw e;
      }
    },
  };
  return engine;
}

/**
 * The agent as docker-modem should hold it: docker-modem formats every request's options, agent included, with
 * `util.inspect` (showHidden, unlimited depth) for its debug log even when that log is off, and a keep-alive agent's
 * sockets made that ~4 ms per request on a tcp engine (209 ms of a Swarm apply's CPU, `node --cpu-prof`).
 */
function uninspectable<T extends http.Agent>(agent: T): T {
  Object.defineProperty(agent, Symbol.for("nodejs.util.inspect.custom"), { value: () => "http.Agent", enumerable: false });
  return agent;
}
