// An engine that answers a list with an endless body, a huge declared length or the wrong shape: a clear engine.unexpected naming the request, memory bounded.
// A FAKE engine is used here on purpose: the real engine cannot be made to send an endless or wrong-shaped reply on
// demand. The fake is a plain HTTP server on a unix socket; it answers only what observe asks.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine } from "../../src/engine/connect.js";
import { MAX_JSON_REPLY_BYTES } from "../../src/engine/dial.js";
import { EngineError } from "../../src/engine/errors.js";
import { observe } from "../../src/engine/observe.js";
import { aCatalog, manifest } from "../helpers/platform.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

type ListReply = "endless" | "declared-huge" | "object";

interface Fake {
  dockerHost: string;
  /** Bytes written for /containers/json so far, and whether the client closed that connection. */
  sent(): { bytes: number; closed: boolean };
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(1024 * 1024, "[");

/** A fake engine whose /containers/json answers as `list` says; volumes and networks are empty, anything else 404. */
async function aFakeEngine(list: ListReply, socketPath: string): Promise<Fake> {
  let bytes = 0;
  let closed = false;
  const server = http.createServer((req, res) => {
    const url = req.url ?? "";
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.endsWith("/_ping")) return res.writeHead(200, { "Content-Type": "text/plain" }).end("OK");
    if (url.includes("/volumes")) return json(200, { Volumes: [] });
    if (url.includes("/networks")) return json(200, []);
    if (!url.includes("/containers/json")) return json(404, { message: "no such thing" });
    if (list === "object") return json(200, { Containers: [] });
    res.on("close", () => {
      closed = true;
    });
    if (list === "declared-huge") {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": String(100 * 1024 ** 3) });
      res.flushHeaders();
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    const pump = () => {
      while (!res.destroyed && res.write(CHUNK)) bytes += CHUNK.length;
      if (!res.destroyed) bytes += CHUNK.length;
    };
    res.on("drain", pump);
    pump();
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    dockerHost: `unix://${socketPath}`,
    sent: () => ({ bytes, closed }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let dir: string;
let catalog: Awaited<ReturnType<typeof aCatalog>>;
const fakes: Fake[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "platformctl-hostile-"));
  catalog = await aCatalog();
  await catalog.write("web", manifest("web", { services: `    web:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100"]\n` }));
});

afterAll(async () => {
  for (const f of fakes.splice(0)) await f.close();
  await catalog.remove();
  await rm(dir, { recursive: true, force: true });
});

async function fake(list: ListReply): Promise<Fake> {
  const f = await aFakeEngine(list, path.join(dir, `${list}-${fakes.length}.sock`));
  fakes.push(f);
  return f;
}

const failureOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("an engine reply larger than platformctl reads whole", () => {
  it("stops reading an endless list reply at 64 MiB with engine.unexpected naming the request and the project", async () => {
    const f = await fake("endless");
    const err = await failureOf(observe(connectEngine({ DOCKER_HOST: f.dockerHost }), "hostile", []));
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe("engine.unexpected");
    expect((err as EngineError).message).toBe(
      "Docker engine: list containers of project hostile failed: unexpected reply (larger than 64 MiB, not read further; is DOCKER_HOST a Docker engine?)",
    );
    // The client hung up: what the fake managed to write is the cap plus what was in flight, not an endless body.
    const { bytes } = f.sent();
    expect(bytes).toBeGreaterThan(MAX_JSON_REPLY_BYTES);
    expect(bytes).toBeLessThan(MAX_JSON_REPLY_BYTES + 64 * 1024 * 1024);
  });

  it("refuses a reply whose declared length is over the cap before reading any of it", async () => {
    const f = await fake("declared-huge");
    const err = await failureOf(observe(connectEngine({ DOCKER_HOST: f.dockerHost }), "hostile", []));
    expect((err as EngineError).code).toBe("engine.unexpected");
    expect((err as EngineError).message).toContain("list containers of project hostile failed: unexpected reply (larger than 64 MiB");
  });

  it("makes plan exit 1 with the request named, no stack trace", async () => {
    const f = await fake("endless");
    const r = await runCli(["--project", "hostile", "--modules-dir", catalog.dir, "plan"], {
      DOCKER_HOST: f.dockerHost,
      STATE_DIR: path.join(dir, "state-plan"),
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain("list containers of project hostile failed: unexpected reply (larger than 64 MiB");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("a list reply of the wrong shape", () => {
  it("names the project and what was expected: an array, not an object", async () => {
    const f = await fake("object");
    const err = await failureOf(observe(connectEngine({ DOCKER_HOST: f.dockerHost }), "hostile", []));
    expect((err as EngineError).code).toBe("engine.unexpected");
    expect((err as EngineError).message).toBe(
      "Docker engine: list containers of project hostile failed: unexpected reply (expected array, received object)",
    );
  });
});
