// An engine error that quotes a secret back is shown masked by plan, apply and health (observation failures).
// A FAKE engine is used on purpose: the real engine does not quote a resolved value in its replies to list or inspect
// on demand. The fake answers every request with HTTP 500 and a message carrying the value and its base64.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, manifest } from "../helpers/platform.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const SECRET = "CANARY_engine_echo_5d1e";
let dir: string;
let server: http.Server;
let catalog: Awaited<ReturnType<typeof aCatalog>>;

beforeAll(async () => {
  assertFreshBuild();
  dir = await mkdtemp(path.join(tmpdir(), "platformctl-echo-"));
  catalog = await aCatalog();
  await catalog.write(
    "web",
    manifest("web", { services: `    web:\n      image: ${TEST_IMAGE}\n      environment:\n        PW: \${PW}\n` }),
  );
  server = http.createServer((_req, res) => {
    res.writeHead(500, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ message: `boom ${SECRET} b64 ${Buffer.from(SECRET).toString("base64")}` }));
  });
  await new Promise<void>((resolve) => server.listen(path.join(dir, "echo.sock"), resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await catalog.remove();
  await rm(dir, { recursive: true, force: true });
});

describe("an engine error quoting a secret", () => {
  it.each([["plan"], ["apply", "-m", "web"], ["apply", "-m", "web", "--json"], ["health"]])(
    "is masked by %s and fails with exit 1",
    async (...args) => {
      const env = { DOCKER_HOST: `unix://${path.join(dir, "echo.sock")}`, STATE_DIR: path.join(dir, "state"), PW: SECRET };
      const r = await runCli(["--project", "echo", "--modules-dir", catalog.dir, ...args], env);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain("HTTP 500");
      expect(r.stderr).toContain("boom ***");
      const out = r.stdout + r.stderr;
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain(Buffer.from(SECRET).toString("base64").slice(0, 12));
    },
  );
});
