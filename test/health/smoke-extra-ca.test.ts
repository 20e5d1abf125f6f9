// An https smoke probe trusts NODE_EXTRA_CA_CERTS's certificates, as Node would, although bin/platformctl keeps Node
// from loading that file at start; command probes see the variable as the operator set it. Real engine, a real https
// server with a private CA made by openssl for this run.
import Docker from "dockerode";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import type net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, createAsPlatformctl, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const docker = new Docker();
let dir: string;
let caFile: string;
let server: https.Server;
let catalog: Awaited<ReturnType<typeof aCatalog>>;
let project: string;

interface SmokeJson {
  passed: boolean;
  probes: { name: string; status: string; reason: string | null }[];
}

async function smoke(env: Record<string, string | undefined>) {
  const r = await runCli(["--project", project, "--modules-dir", catalog.dir, "smoke", "tls", "--json"], env);
  const json = JSON.parse(r.stdout) as SmokeJson;
  const probe = (name: string) => json.probes.find((p) => p.name === name);
  return { code: r.code, stderr: r.stderr, json, probe };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "platformctl-extra-ca-"));
  const at = (f: string) => path.join(dir, f);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "2", "-subj", "/CN=platformctl test CA");
  openssl("req", ...ec, "-keyout", at("server.key"), "-out", at("server.csr"), "-subj", "/CN=127.0.0.1");
  await writeFile(at("ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    at("server.csr"),
    "-CA",
    at("ca.pem"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at("server.pem"),
    "-days",
    "2",
    "-extfile",
    at("ext"),
  );
  caFile = at("ca.pem");
  server = https.createServer({ key: await readFile(at("server.key")), cert: await readFile(at("server.pem")) }, (_req, res) => {
    res.end("fine\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;

  catalog = await aCatalog();
  await catalog.write(
    "tls",
    manifest("tls", {
      services: `    app:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100000"]\n      restart: "no"\n`,
      extra: [
        "  smoke:",
        "    - name: https-private-ca",
        `      http: { url: "https://127.0.0.1:${port}/" }`,
        "      timeout_seconds: 10",
        "    - name: sees-the-variable",
        `      command: ["sh", "-c", "test \\"$NODE_EXTRA_CA_CERTS\\" = ${caFile} && ! env | grep -q PLATFORMCTL_DEFERRED"]`,
      ].join("\n"),
    }),
  );
  project = testProject("extra-ca");
  await createAsPlatformctl(docker, { project, dir: catalog.dir, module: "tls", service: "app", start: true });
}, 60_000);

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await catalog.remove();
  await rm(dir, { recursive: true, force: true });
});

describe("NODE_EXTRA_CA_CERTS and smoke", () => {
  it("passes an https probe signed by the private CA it names, and command probes see the variable unchanged", async () => {
    const r = await smoke({ NODE_EXTRA_CA_CERTS: caFile });
    expect(r.probe("https-private-ca"), r.stderr).toMatchObject({ status: "passed" });
    expect(r.probe("sees-the-variable")).toMatchObject({ status: "passed" });
    expect(r.code).toBe(0);
  });

  it("fails the same probe without it: the private CA is what made it pass", async () => {
    const r = await smoke({ NODE_EXTRA_CA_CERTS: undefined });
    expect(r.code).toBe(1);
    expect(r.probe("https-private-ca")?.status).toBe("failed");
    expect(r.probe("https-private-ca")?.reason).toMatch(/certificate/i);
  });

  it("fails it, saying why and without hanging, when NODE_EXTRA_CA_CERTS names a FIFO", async () => {
    const fifo = path.join(dir, "certs.fifo");
    execFileSync("mkfifo", [fifo]);
    const r = await smoke({ NODE_EXTRA_CA_CERTS: fifo });
    expect(r.code).toBe(1);
    expect(r.probe("https-private-ca")?.reason).toContain(`NODE_EXTRA_CA_CERTS ${fifo} was not read (not a regular file)`);
  });
});
