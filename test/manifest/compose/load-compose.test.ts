// Reading, extending and merging Compose files from plain bytes: exact merged services and located problems.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { composeModel, loadCompose, type ComposeLoad } from "../../../src/manifest/compose/load-compose.js";
import type { ComposeView } from "../../../src/manifest/compose/read-compose-file.js";
import type { Problem } from "../../../src/manifest/problems.js";
import { REPO } from "../../helpers/repo.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const FIXTURES = "test/fixtures/compose";

/** Loads files given as text (path -> YAML); every file is "read". */
function load(files: Record<string, string>, order: string[], env: Record<string, string> = {}, view: ComposeView = "config") {
  const read = new Map<string, Uint8Array | Problem>(Object.entries(files).map(([f, t]) => [f, bytes(t)]));
  return loadCompose({ files: order, read, env, view });
}

/** Loads fixture files from disk, reading `extends` targets as the catalog does. */
function loadFixture(order: string[], env: Record<string, string>, view: ComposeView): ComposeLoad {
  const read = new Map<string, Uint8Array | Problem>();
  for (let round = 0; round < 4; round++) {
    for (const f of order) if (!read.has(f)) read.set(f, readFileSync(path.join(REPO, f)));
    const r = loadCompose({ files: order, read, env, view });
    if (r.kind === "loaded") return r;
    for (const f of r.files) read.set(f, readFileSync(path.join(REPO, f)));
  }
  throw new Error("extends did not settle");
}

const loaded = (r: ComposeLoad) => {
  if (r.kind !== "loaded") throw new Error(`still needs ${r.files.join(", ")}`);
  return r;
};
const model = (r: ComposeLoad) => composeModel(loaded(r).services).services;

const PLATFORM = [`${FIXTURES}/platform/compose/compose.yaml`, `${FIXTURES}/platform/compose/compose.prod.yaml`];
const PLATFORM_ENV = { MINIO_TAG: "RELEASE.2025-04-22T22-12-26Z", BUCKET: "media", MINIO_ROOT_USER: "admin", MINIO_ROOT_PASSWORD: "pw" };

describe("merging several files, with extends across files", () => {
  it("builds a module's view: structural fields resolved, apply-time fields kept as references", () => {
    const r = loaded(loadFixture(PLATFORM, PLATFORM_ENV, "module"));
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.unsupported).toEqual([]);
    const services = model(r);
    expect(Object.keys(services)).toEqual(["minio", "minio-init"]);
    expect(services["minio-init"]).toEqual({
      image: "minio/mc:RELEASE.2025-04-16T18-13-26Z",
      environment: { MC_DEBUG: "0", TZ: "UTC", MINIO_ROOT_USER: "${MINIO_ROOT_USER}", MINIO_ROOT_PASSWORD: "${MINIO_ROOT_PASSWORD}" },
      working_dir: "/work",
      user: "1000:1000",
      labels: { "com.example.role": "client" },
      depends_on: { minio: { condition: "service_healthy" } },
      entrypoint: ["/bin/sh", "-c"],
      command: [
        'mc alias set local http://minio:9000 "$$MINIO_ROOT_USER" "$$MINIO_ROOT_PASSWORD" && mc mb --ignore-existing local/${BUCKET:-uploads}',
      ],
      restart: "no",
      networks: ["backend"],
    });
    expect(services.minio).toEqual({
      image: "docker.io/minio/minio:RELEASE.2025-04-22T22-12-26Z",
      command: ["server", "/data", "--console-address", ":9443"],
      environment: {
        MINIO_ROOT_USER: "${MINIO_ROOT_USER}",
        MINIO_ROOT_PASSWORD: "${MINIO_ROOT_PASSWORD}",
        MINIO_BROWSER: "off",
        MINIO_PROMETHEUS_AUTH_TYPE: "public",
      },
      volumes: [
        { type: "volume", source: "minio-data", target: "/data", read_only: false },
        { type: "bind", source: "/srv/minio/config", target: "/etc/minio", read_only: true },
        { type: "bind", source: "/srv/minio/certs", target: "/certs", read_only: true },
      ],
      ports: [
        { target: 9000, published: 9000, host_ip: "127.0.0.1", protocol: "tcp" },
        { target: 9001, published: undefined, host_ip: undefined, protocol: "tcp" },
        { target: 9443, published: 9443, host_ip: "127.0.0.1", protocol: "tcp" },
      ],
      healthcheck: { test: ["CMD", "mc", "ready", "local"], interval: "30s", timeout: "5s", retries: 5 },
      restart: "unless-stopped",
      labels: { "com.example.team": "platform", "com.example.role": "store", "com.example.tier": "prod" },
      networks: ["backend"],
      mem_limit: "1g",
      stop_grace_period: "1m30s",
    });
  });

  it("resolves a relative bind source against the first file's directory", () => {
    const r = model(loadFixture([PLATFORM[0] as string], PLATFORM_ENV, "config"));
    expect(r.minio?.volumes?.[1]).toEqual({
      type: "bind",
      source: `${FIXTURES}/platform/compose/minio/config`,
      target: "/etc/minio",
      read_only: true,
    });
  });

  it("asks for an extends file it was not given instead of guessing", () => {
    const read = new Map<string, Uint8Array | Problem>([[PLATFORM[0] as string, readFileSync(path.join(REPO, PLATFORM[0] as string))]]);
    expect(loadCompose({ files: [PLATFORM[0] as string], read, env: PLATFORM_ENV, view: "module" })).toEqual({
      kind: "needs",
      files: [`${FIXTURES}/platform/compose/common.yaml`],
    });
  });

  it("merges mappings by key, replaces command, and merges volumes by target and ports by their unique key", () => {
    const base = `services:\n  s:\n    image: a:1\n    command: [x, y]\n    environment: [A=1, B=2]\n    volumes: ["v:/data", "/h:/etc/x:ro"]\n    ports: ["80", "127.0.0.1:8080:80"]\n    labels: {l1: a}\n`;
    const over = `services:\n  s:\n    command: z\n    environment: {B: "3", C: "4"}\n    volumes: ["w:/data"]\n    ports: ["127.0.0.1:8080:80", "90:90/udp"]\n    labels: [l2=b]\n`;
    expect(model(load({ "b.yaml": base, "o.yaml": over }, ["b.yaml", "o.yaml"]))).toEqual({
      s: {
        image: "a:1",
        command: ["z"],
        environment: { A: "1", B: "3", C: "4" },
        volumes: [
          { type: "volume", source: "w", target: "/data", read_only: false },
          { type: "bind", source: "/h", target: "/etc/x", read_only: true },
        ],
        ports: [
          { target: 80, published: undefined, host_ip: undefined, protocol: "tcp" },
          { target: 80, published: 8080, host_ip: "127.0.0.1", protocol: "tcp" },
          { target: 90, published: 90, host_ip: undefined, protocol: "udp" },
        ],
        labels: { l1: "a", l2: "b" },
      },
    });
  });
});

describe("the !reset and !override tags (compose-spec 13-merge.md examples)", () => {
  const base = `${FIXTURES}/tags/compose.yaml`;
  it("!reset removes the ports and the FOO variable, leaving the image", () => {
    expect(model(loadFixture([base, `${FIXTURES}/tags/compose.reset.yaml`], {}, "config"))).toEqual({ app: { image: "myapp" } });
  });

  it("!override replaces the ports instead of appending", () => {
    expect(model(loadFixture([base, `${FIXTURES}/tags/compose.override.yaml`], {}, "config"))).toEqual({
      app: {
        image: "myapp",
        ports: [{ target: 443, published: 8443, host_ip: undefined, protocol: "tcp" }],
        environment: { FOO: "BAR" },
      },
    });
  });
});

describe("extends", () => {
  it("copies the chain of the spec's example: cli gets user from base through common", () => {
    const file = `services:\n  base:\n    image: busybox\n    user: root\n  common:\n    image: busybox\n    extends:\n      service: base\n  cli:\n    extends:\n      service: common\n`;
    expect(model(load({ "c.yaml": file }, ["c.yaml"])).cli).toEqual({ image: "busybox", user: "root" });
  });

  it("keeps the main definition over the referenced one for mappings and volumes (the spec's examples)", () => {
    const file = `services:\n  common:\n    image: busybox\n    environment: {TZ: utc, PORT: "80"}\n    volumes: ["common-volume:/var/lib/backup/data:rw"]\n  cli:\n    extends: {service: common}\n    environment: [PORT=8080]\n    volumes: ["cli-volume:/var/lib/backup/data:ro"]\n`;
    expect(model(load({ "c.yaml": file }, ["c.yaml"])).cli).toEqual({
      image: "busybox",
      environment: { TZ: "utc", PORT: "8080" },
      volumes: [{ type: "volume", source: "cli-volume", target: "/var/lib/backup/data", read_only: true }],
    });
  });

  it("reports a loop and a missing service at the extends line", () => {
    const loop = `services:\n  a:\n    image: x:1\n    extends: {service: b}\n  b:\n    image: x:1\n    extends: {service: a}\n`;
    const r = loaded(load({ "l.yaml": loop }, ["l.yaml"]));
    expect(r.problems.map((p) => [p.file, p.line, p.code])).toContainEqual(["l.yaml", 4, "compose.extends"]);
    const missing = `services:\n  a:\n    image: x:1\n    extends:\n      service: nope\n`;
    expect(loaded(load({ "m.yaml": missing }, ["m.yaml"])).problems).toEqual([
      {
        file: "m.yaml",
        line: 5,
        column: 7,
        path: "services.a.extends",
        code: "compose.extends",
        message: 'service "nope" is not defined in m.yaml',
        hint: "Name a service defined in that file; extends chains must not loop.",
      },
    ]);
  });
});

describe("located problems", () => {
  it("warns about an unsupported field at its key's file:line and ignores x- extensions", () => {
    const file = `x-anchors: {a: 1}\nservices:\n  s:\n    image: a:1\n    x-note: fine\n    privileged: true\n`;
    const r = loaded(load({ "u.yaml": file }, ["u.yaml"]));
    expect(r.problems).toEqual([]);
    expect(r.unsupported.map((p) => [p.file, p.line, p.column, p.path, p.code, p.message])).toEqual([
      ["u.yaml", 6, 5, "services.s.privileged", "compose.unsupported_field", '"privileged" is not supported by platformctl'],
    ]);
  });

  it("fails a required variable at its value's line with the file's message", () => {
    const file = `services:\n  s:\n    image: "a:\${TAG:?set TAG}"\n`;
    expect(loaded(load({ "r.yaml": file }, ["r.yaml"])).problems.map((p) => [p.line, p.column, p.code, p.message])).toEqual([
      [3, 12, "compose.interpolation", "TAG is required: set TAG"],
    ]);
  });

  it("refuses a secret-looking variable in a field a module resolves when it is read (it would appear in plans)", () => {
    const file = `services:\n  s:\n    image: a:1\n    user: \${DB_PASSWORD}\n`;
    const r = loaded(load({ "s.yaml": file }, ["s.yaml"], { DB_PASSWORD: "hunter2" }, "module"));
    expect(r.problems.map((p) => [p.line, p.code])).toEqual([[4, "compose.interpolation"]]);
    expect(JSON.stringify(r)).not.toContain("hunter2");
  });

  it("refuses a label built from a secret-looking variable such as CANARY_PW or GITHUB_TOKEN (a label is stored on the container)", () => {
    const file = `services:\n  s:\n    image: a:1\n    labels:\n      note: \${CANARY_PW}\n      who: \${GITHUB_TOKEN}\n`;
    const r = loaded(load({ "l.yaml": file }, ["l.yaml"], { CANARY_PW: "canary-7731", GITHUB_TOKEN: "tok-7731" }, "module"));
    expect(r.problems.map((p) => [p.line, p.code])).toEqual([
      [5, "compose.interpolation"],
      [6, "compose.interpolation"],
    ]);
    expect(JSON.stringify(r)).not.toContain("7731");
  });

  it("warns about an unset variable without a default, which becomes empty as in Compose", () => {
    const file = `services:\n  s:\n    image: a:1\n    user: "\${WHO}"\n`;
    const r = loaded(load({ "w.yaml": file }, ["w.yaml"]));
    expect(r.warnings.map((p) => [p.line, p.code, p.message])).toEqual([
      [4, "compose.unset_variable", "variable WHO is not set: it is replaced by an empty string (as Compose does)"],
    ]);
    expect(model(r).s?.user).toBe("");
  });

  it("reports a YAML error of a Compose file at its own file:line", () => {
    const r = loaded(load({ "y.yaml": "services:\n  s:\n    image: [\n" }, ["y.yaml"]));
    expect(r.problems[0]).toMatchObject({ file: "y.yaml", code: "yaml.syntax" });
    expect(r.problems[0]?.line).toBeGreaterThan(0);
  });
});
