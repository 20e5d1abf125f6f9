// `platformctl smoke` against the real engine and real sockets: every probe kind passing, failing and timing out.
import Docker from "dockerode";
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, createAsPlatformctl, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const docker = new Docker();
const CANARY = "smoke-canary-Hq7Lm2Vx";

interface SmokeJson {
  module: string;
  healthy: boolean;
  services: { name: string; state: string; healthy: boolean }[];
  probes: {
    name: string;
    kind: string;
    status: "passed" | "failed" | "skipped";
    duration_ms: number;
    reason: string | null;
    output: string | null;
  }[];
  passed: boolean;
}

let catalog: Awaited<ReturnType<typeof aCatalog>>;
let server: http.Server;
let port: number;
let closedPort: number;
/** A listener that never accepts, its backlog filled: a connect to it hangs (SYNs dropped), so a tcp probe times out. */
let stuck: ChildProcess;
let stuckPort: number;
const fillers: net.Socket[] = [];
const hanging = new Set<http.ServerResponse>();

const APP_SERVICE = `    app:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100000"]\n      environment:\n        TOKEN: \${SMOKE_TOKEN}\n      restart: "no"\n`;

function probesYaml(lines: string[]): string {
  return ["  smoke:", ...lines.map((l) => `    ${l}`)].join("\n");
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function smoke(project: string, module: string, env: Record<string, string> = {}, extra: string[] = ["--json"]) {
  const r = await runCli(["--project", project, "--modules-dir", catalog.dir, "smoke", module, ...extra], { SMOKE_TOKEN: CANARY, ...env });
  expect(r.stdout + r.stderr).not.toContain(CANARY);
  return { ...r, json: extra.includes("--json") && r.stdout ? (JSON.parse(r.stdout) as SmokeJson) : undefined };
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/ok") return void res.end("fine\n");
    if (req.url === "/hang") {
      hanging.add(res);
      return void res.write("partial ");
    }
    res.statusCode = 404;
    res.end("line 1\nno such page, token smoke-canary-Hq7Lm2Vx\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as net.AddressInfo).port;
  closedPort = await freePort();

  stuck = spawn(
    process.execPath,
    [
      "-e",
      "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{console.log(s.address().port);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  stuckPort = await new Promise<number>((r) => stuck.stdout?.once("data", (d) => r(Number(String(d).trim()))));
  for (let i = 0; i < 4; i++) fillers.push(net.connect({ host: "127.0.0.1", port: stuckPort }).on("error", () => undefined));

  catalog = await aCatalog();
  await catalog.write(
    "probes",
    manifest("probes", {
      services: APP_SERVICE,
      extra: probesYaml([
        "- name: exec-ok",
        '  exec: { service: app, command: ["true"] }',
        "- name: exec-fail",
        '  exec: { service: app, command: ["sh", "-c", "echo first; echo leaked $TOKEN; exit 2"] }',
        "- name: exec-slow",
        '  exec: { service: app, command: ["sleep", "30"] }',
        "  timeout_seconds: 1",
        "- name: http-ok",
        `  http: { url: "http://127.0.0.1:${port}/ok" }`,
        "- name: http-404",
        `  http: { url: "http://127.0.0.1:${port}/missing" }`,
        "- name: http-expect-404",
        `  http: { url: "http://127.0.0.1:${port}/missing", expect_status: 404 }`,
        "- name: http-slow",
        `  http: { url: "http://127.0.0.1:${port}/hang" }`,
        "  timeout_seconds: 1",
        "- name: tcp-ok",
        `  tcp: { host: 127.0.0.1, port: ${port} }`,
        "- name: tcp-closed",
        `  tcp: { host: 127.0.0.1, port: ${closedPort} }`,
        "- name: tcp-slow",
        `  tcp: { host: 127.0.0.1, port: ${stuckPort} }`,
        "  timeout_seconds: 1",
        "- name: cmd-ok",
        '  command: ["true"]',
        "- name: cmd-fail",
        '  command: ["sh", "-c", "echo out; echo err >&2; echo $SMOKE_TOKEN; exit 4"]',
        "- name: cmd-slow",
        '  command: ["sh", "-c", "sleep 30; echo never"]',
        "  timeout_seconds: 1",
      ]),
    }),
  );
  await catalog.write(
    "good",
    manifest("good", {
      services: APP_SERVICE,
      extra: probesYaml(["- name: exec-ok", '  exec: { service: app, command: ["true"] }', "- name: cmd-ok", '  command: ["true"]']),
    }),
  );
  await catalog.write(
    "remote",
    manifest("remote", {
      services: APP_SERVICE,
      extra: probesYaml([
        "- name: local-ok",
        '  command: ["true"]',
        "- name: far-away",
        `  tcp: { host: 127.0.0.1, port: ${closedPort} }`,
        "  remote: true",
      ]),
    }),
  );
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  await new Promise((r) => server.close(r));
  for (const f of fillers) f.destroy();
  stuck.kill("SIGKILL");
  await catalog.remove();
});

describe("smoke against the real engine", () => {
  let run: Awaited<ReturnType<typeof smoke>>;
  const probe = (name: string) => {
    const p = run.json?.probes.find((x) => x.name === name);
    if (!p) throw new Error(`no probe ${name} in ${run.stdout}`);
    return p;
  };

  beforeAll(async () => {
    const p = testProject("smoke");
    await createAsPlatformctl(docker, {
      project: p,
      dir: catalog.dir,
      module: "probes",
      service: "app",
      env: { SMOKE_TOKEN: CANARY },
      start: true,
    });
    run = await smoke(p, "probes");
  }, 60_000);

  it("runs the health check first and every probe in declared order, exit 1 when one failed", () => {
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({
      module: "probes",
      healthy: true,
      passed: false,
      services: [{ name: "app", state: "running", healthy: true }],
    });
    expect(run.json?.probes.map((p) => p.name)).toEqual([
      "exec-ok",
      "exec-fail",
      "exec-slow",
      "http-ok",
      "http-404",
      "http-expect-404",
      "http-slow",
      "tcp-ok",
      "tcp-closed",
      "tcp-slow",
      "cmd-ok",
      "cmd-fail",
      "cmd-slow",
    ]);
  });

  it("passes an exec probe that exits 0 in the service's container", () => {
    expect(probe("exec-ok")).toMatchObject({ kind: "exec", status: "passed", reason: null, output: null });
  });

  it("fails an exec probe that exits 2, with its last output lines and the secret masked", () => {
    expect(probe("exec-fail")).toMatchObject({ kind: "exec", status: "failed", reason: "exited with code 2", output: "first\nleaked ***" });
  });

  it("fails an exec probe that outlives its timeout_seconds, bounded by it", () => {
    const p = probe("exec-slow");
    expect(p).toMatchObject({ status: "failed" });
    expect(p.reason).toContain("timed out after 1 s");
    expect(p.duration_ms).toBeGreaterThanOrEqual(900);
  });

  it("passes an http probe answered 200, and one answered with its expect_status", () => {
    expect(probe("http-ok")).toMatchObject({ kind: "http", status: "passed" });
    expect(probe("http-expect-404")).toMatchObject({ kind: "http", status: "passed" });
  });

  it("fails an http probe answered 404, quoting the body's last lines with the secret masked", () => {
    const p = probe("http-404");
    expect(p).toMatchObject({ status: "failed", reason: `GET http://127.0.0.1:${port}/missing: expected status 200, got 404` });
    expect(p.output).toBe("line 1\nno such page, token ***");
  });

  it("fails an http probe whose response does not complete within its timeout", () => {
    const p = probe("http-slow");
    expect(p.status).toBe("failed");
    expect(p.reason).toBe(`no complete response from http://127.0.0.1:${port}/hang within 1 s`);
  });

  it("passes a tcp probe to a listening port and fails one to a closed port", () => {
    expect(probe("tcp-ok")).toMatchObject({ kind: "tcp", status: "passed" });
    expect(probe("tcp-closed")).toMatchObject({ kind: "tcp", status: "failed" });
    expect(probe("tcp-closed").reason).toContain("ECONNREFUSED");
  });

  it("fails a tcp probe whose connect hangs, after its timeout", () => {
    const p = probe("tcp-slow");
    expect(p).toMatchObject({ status: "failed", reason: `no connection to 127.0.0.1:${stuckPort} within 1 s` });
    expect(p.duration_ms).toBeGreaterThanOrEqual(900);
  });

  it("passes a host command that exits 0 and fails one that exits 4, with stdout and stderr, secret masked", () => {
    expect(probe("cmd-ok")).toMatchObject({ kind: "command", status: "passed" });
    expect(probe("cmd-fail")).toMatchObject({ status: "failed", reason: "exited with code 4" });
    // two pipes: their lines interleave in arrival order
    expect(probe("cmd-fail").output?.split("\n").sort()).toEqual(["***", "err", "out"]);
  });

  it("kills a host command (and its children) at its timeout instead of waiting for them", () => {
    const p = probe("cmd-slow");
    expect(p).toMatchObject({ status: "failed", reason: "timed out after 1 s (killed)" });
  });

  it("exits 0 when every probe passed, and prints a readable report", async () => {
    const p = testProject("smoke-good");
    await createAsPlatformctl(docker, {
      project: p,
      dir: catalog.dir,
      module: "good",
      service: "app",
      env: { SMOKE_TOKEN: CANARY },
      start: true,
    });
    const r = await smoke(p, "good", {}, []);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("probe passed  exec-ok (exec,");
    expect(r.stdout).toContain("smoke passed: 2 passed, 0 failed, 0 skipped");
  });

  it("fails when the module is unhealthy, and an exec probe without a container fails saying so", async () => {
    const r = await smoke(testProject("smoke-none"), "good");
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ healthy: false, passed: false, services: [{ state: "missing" }] });
    expect(r.json?.probes[0]).toMatchObject({ name: "exec-ok", status: "failed", reason: "service app has no container" });
  });

  it("reports remote probes skipped (never passed) under PLATFORMCTL_SMOKE_REMOTE_MODE=skip, exit 0", async () => {
    const p = testProject("smoke-remote");
    await createAsPlatformctl(docker, {
      project: p,
      dir: catalog.dir,
      module: "remote",
      service: "app",
      env: { SMOKE_TOKEN: CANARY },
      start: true,
    });
    const skipped = await smoke(p, "remote", { PLATFORMCTL_SMOKE_REMOTE_MODE: "skip" });
    expect(skipped.code).toBe(0);
    expect(skipped.json?.passed).toBe(true);
    expect(skipped.json?.probes.map((x) => [x.name, x.status])).toEqual([
      ["local-ok", "passed"],
      ["far-away", "skipped"],
    ]);
    expect(skipped.json?.probes[1]?.reason).toContain("PLATFORMCTL_SMOKE_REMOTE_MODE=skip");

    const ran = await smoke(p, "remote");
    expect(ran.code).toBe(1);
    expect(ran.json?.probes[1]).toMatchObject({ name: "far-away", status: "failed" });
  });

  it("refuses an unknown PLATFORMCTL_SMOKE_REMOTE_MODE instead of running remote probes by mistake", async () => {
    const r = await smoke(testProject("smoke-mode"), "remote", { PLATFORMCTL_SMOKE_REMOTE_MODE: "skipp" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("PLATFORMCTL_SMOKE_REMOTE_MODE=skipp is not one of skip, run");
  });
});
