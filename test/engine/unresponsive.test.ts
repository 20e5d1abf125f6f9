// An engine that accepts connections and never answers: every command fails with engine.unresponsive instead of hanging.
// A FAKE engine is used here on purpose: the real engine cannot be made to accept a connection and stay silent on
// demand. The fake is a plain unix-socket or TCP server that accepts and never writes a byte.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine } from "../../src/engine/connect.js";
import { observe } from "../../src/engine/observe.js";
import { isEngineError } from "../../src/engine/errors.js";
import { aCatalog, manifest } from "../helpers/platform.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

interface Silent {
  dockerHost: string;
  close(): Promise<void>;
}

/** A server that accepts every connection and never answers (sockets are kept so they stay open). */
async function aSilentEngine(kind: "unix" | "tcp", dir: string): Promise<Silent> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on("error", () => undefined);
  });
  const socketPath = path.join(dir, `silent-${servers.length}.sock`);
  await new Promise<void>((resolve) => (kind === "unix" ? server.listen(socketPath, resolve) : server.listen(0, "127.0.0.1", resolve)));
  const port = (server.address() as net.AddressInfo).port;
  return {
    dockerHost: kind === "unix" ? `unix://${socketPath}` : `tcp://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let dir: string;
let catalog: Awaited<ReturnType<typeof aCatalog>>;
const servers: Silent[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "platformctl-silent-"));
  catalog = await aCatalog();
  await catalog.write(
    "web",
    manifest("web", { services: `    web:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100"]\n      restart: "no"\n` }),
  );
});

afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  await catalog.remove();
  await rm(dir, { recursive: true, force: true });
});

describe.each(["unix", "tcp"] as const)("an engine over %s that accepts and never answers", (kind) => {
  it("fails the engine client's request with engine.unresponsive", async () => {
    const silent = await aSilentEngine(kind, dir);
    servers.push(silent);
    const engine = connectEngine({ DOCKER_HOST: silent.dockerHost });
    const err = await observe(engine, "silent", []).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isEngineError(err, "unresponsive"), String(err)).toBe(true);
    expect((err as { code: string }).code).toBe("engine.unresponsive");
    expect((err as { hint?: string }).hint).toContain("DOCKER_HOST");
  });

  it("makes plan, health and apply exit 1 with the unresponsive engine named, instead of hanging", async () => {
    const silent = await aSilentEngine(kind, dir);
    servers.push(silent);
    const env = { DOCKER_HOST: silent.dockerHost, STATE_DIR: path.join(dir, `state-${kind}`) };
    const base = ["--project", "silent", "--modules-dir", catalog.dir];
    const results = await Promise.all([
      runCli(["plan", ...base], env),
      runCli(["health", ...base], env),
      runCli(["apply", ...base, "--module", "web"], env),
    ]);
    for (const [i, r] of results.entries()) {
      const name = ["plan", "health", "apply"][i];
      expect(r.code, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr, name).toContain("accepted the connection but did not answer");
      expect(r.stderr, name).toContain("DOCKER_HOST");
      expect(r.stderr, name).not.toContain("internal error");
    }
  });
});

// FAKE engine again, on purpose: the real engine cannot be made to send a reply's headers and then drip its body one
// byte at a time forever. A drip never trips the idle limit, so only a whole-body deadline ends it.
describe("an engine that sends a reply's headers and then drips its body forever", () => {
  it("fails the read with engine.unresponsive instead of hanging", async () => {
    const socketPath = path.join(dir, "drip.sock");
    const timers: NodeJS.Timeout[] = [];
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write("[");
      timers.push(setInterval(() => res.write(" "), 1_000));
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const engine = connectEngine({ DOCKER_HOST: `unix://${socketPath}` });
      const err = await observe(engine, "drip", []).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isEngineError(err, "unresponsive"), String(err)).toBe(true);
      expect((err as Error).message).toContain("did not end within");
    } finally {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 120_000);
});
