// A transparent proxy in front of the engine socket that records every request line and byte sent to the engine.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RecordedRequest {
  method: string;
  /** The request target as sent, e.g. `/v1.41/containers/json?all=1&filters=…`. */
  url: string;
}

export interface RecordingProxy {
  /** DOCKER_HOST value that routes through the proxy. */
  dockerHost: string;
  requests: RecordedRequest[];
  /** Client connections accepted so far. */
  connections: number;
  /** Every byte clients sent (request lines, headers and bodies), as latin1 text. */
  sent(): string;
  clear(): void;
  /** Called for each request line as it passes. */
  onRequest: ((r: RecordedRequest) => void) | undefined;
  /** Called before a request is forwarded; the request (and its connection) waits until the promise settles. */
  beforeForward: ((r: RecordedRequest) => Promise<void> | void) | undefined;
  /** Cuts every open connection in both directions, as a daemon restart would. */
  dropConnections(): void;
  close(): Promise<void>;
}

const REQUEST_LINE = /(GET|POST|PUT|DELETE|HEAD|PATCH) (\S+) HTTP\/1\.[01]\r\n/g;

/** Listens on a fresh unix socket (or tcp on 127.0.0.1) and forwards to `target` (a socket path, or a tcp host and port). */
export async function startRecordingProxy(
  opts: { target?: string | { host: string; port: number }; tcp?: boolean } = {},
): Promise<RecordingProxy> {
  const target = opts.target ?? "/var/run/docker.sock";
  const sockets = new Set<net.Socket>();
  let sent: Buffer[] = [];
  const proxy: RecordingProxy = {
    dockerHost: "",
    requests: [],
    connections: 0,
    sent: () => Buffer.concat(sent).toString("latin1"),
    clear: () => {
      proxy.requests.length = 0;
      sent = [];
    },
    onRequest: undefined,
    beforeForward: undefined,
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      proxy.dropConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (path) rmSync(path, { force: true });
    },
  };
  const server = net.createServer((client) => {
    proxy.connections += 1;
    const upstream = typeof target === "string" ? net.connect(target) : net.connect(target);
    sockets.add(client).add(upstream);
    let text = "";
    let scanned = 0;
    client.on("data", (chunk: Buffer) => {
      sent.push(chunk);
      text += chunk.toString("latin1");
      const gates: Promise<void>[] = [];
      REQUEST_LINE.lastIndex = scanned;
      for (let m = REQUEST_LINE.exec(text); m; m = REQUEST_LINE.exec(text)) {
        const r = { method: m[1] as string, url: m[2] as string };
        proxy.requests.push(r);
        scanned = REQUEST_LINE.lastIndex;
        proxy.onRequest?.(r);
        const gate = proxy.beforeForward?.(r);
        if (gate) gates.push(gate);
      }
      if (gates.length === 0) return void upstream.write(chunk);
      client.pause();
      void Promise.allSettled(gates).then(() => {
        upstream.write(chunk);
        client.resume();
      });
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  let path: string | undefined;
  if (opts.tcp) {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    proxy.dockerHost = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  } else {
    path = join(tmpdir(), `pctl-proxy-${randomBytes(4).toString("hex")}.sock`);
    await new Promise<void>((r) => server.listen(path, r));
    proxy.dockerHost = `unix://${path}`;
  }
  return proxy;
}
