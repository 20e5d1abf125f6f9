// A module whose services come from Compose files: the typed Module it yields and the problems, located in module.yaml or the Compose file.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { validateCatalog, type ManifestSource } from "../../../src/manifest/validate.js";
import type { Problem } from "../../../src/manifest/problems.js";
import { REPO } from "../../helpers/repo.js";

const bytes = (text: string) => new TextEncoder().encode(text);

/** A module at `cat/<name>/module.yaml` whose Compose files (path -> text) the "catalog" has read. */
function source(name: string, manifest: string, files: Record<string, string> = {}, env: Record<string, string> = {}): ManifestSource {
  const read = new Map<string, Uint8Array | Problem>(Object.entries(files).map(([f, t]) => [f, bytes(t)]));
  return { file: `cat/${name}/module.yaml`, dir: `cat/${name}`, dirName: name, bytes: bytes(manifest), compose: { read, env } };
}

const manifest = (name: string, compose: string, extra = "", expected = "running") =>
  `apiVersion: platformctl/v1\nkind: Module\nmetadata:\n  name: ${name}\n  description: test\nspec:\n${extra}  runtime:\n    expected_state: ${expected}\n  compose:\n${compose}`;

const COMPOSE = `services:\n  web:\n    image: nginx:1.27\n    privileged: true\n    environment:\n      API_TOKEN: \${API_TOKEN}\n  db:\n    image: postgres:16\n`;

describe("a module with spec.compose", () => {
  it("maps the platform fixture's one-shot onto the same Service model native manifests produce, references unresolved", () => {
    const dir = "test/fixtures/compose/platform";
    const read = new Map<string, Uint8Array | Problem>();
    for (const f of ["compose/compose.yaml", "compose/compose.prod.yaml", "compose/common.yaml"])
      read.set(path.join(dir, "modules/minio-init", "../..", f), readFileSync(path.join(REPO, dir, f)));
    const env = {
      MINIO_TAG: "RELEASE.2025-04-22T22-12-26Z",
      MINIO_ROOT_USER: "admin",
      MINIO_ROOT_PASSWORD: "pw-canary-31x",
      BUCKET: "media",
    };
    const src = (name: string): ManifestSource => ({
      file: `${dir}/modules/${name}/module.yaml`,
      dir: `${dir}/modules/${name}`,
      dirName: name,
      bytes: readFileSync(path.join(REPO, dir, "modules", name, "module.yaml")),
      compose: { read, env },
    });
    const r = validateCatalog([src("minio"), src("minio-init")], { strict: true, envFileDirs: [] });
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.modules.map((m) => m.name)).toEqual(["minio", "minio-init"]);
    const init = r.modules[1];
    expect(init?.services).toEqual([
      {
        name: "minio-init",
        image: "minio/mc:RELEASE.2025-04-16T18-13-26Z",
        entrypoint: ["/bin/sh", "-c"],
        command: [
          'mc alias set local http://minio:9000 "$$MINIO_ROOT_USER" "$$MINIO_ROOT_PASSWORD" && mc mb --ignore-existing local/${BUCKET:-uploads}',
        ],
        environment: { MC_DEBUG: "0", TZ: "UTC", MINIO_ROOT_USER: "${MINIO_ROOT_USER}", MINIO_ROOT_PASSWORD: "${MINIO_ROOT_PASSWORD}" },
        envFiles: [],
        restart: "no",
        restartExplicit: true,
        networks: ["backend"],
        volumes: [],
        healthcheck: undefined,
        labels: { "com.example.role": "client" },
        user: "1000:1000",
        workingDir: "/work",
        ports: [],
        stopGracePeriodSeconds: undefined,
        memLimitBytes: undefined,
        expectedState: "exited-success",
      },
    ]);
    expect(init?.compose).toEqual({
      files: ["../../compose/compose.yaml", "../../compose/compose.prod.yaml"],
      services: ["minio-init"],
      project: "home-platform",
      envFile: "../platform.env",
      dependsOn: { "minio-init": { minio: "service_healthy" } },
    });
    const minio = r.modules[0]?.services[0];
    expect(minio?.volumes).toEqual([
      { type: "volume", source: "minio-data", target: "/data", readOnly: false },
      { type: "bind", source: "/srv/minio/config", target: "/etc/minio", readOnly: true },
      { type: "bind", source: "/srv/minio/certs", target: "/certs", readOnly: true },
    ]);
    expect([minio?.memLimitBytes, minio?.stopGracePeriodSeconds, minio?.healthcheck?.intervalNs]).toEqual([1024 ** 3, 90, 30e9]);
    expect(JSON.stringify(r.modules)).not.toContain("pw-canary-31x");
  });

  it("makes a relative bind source relative to the module directory", () => {
    const r = validateCatalog([
      source("web", manifest("web", "    files: [../../compose/c.yaml]\n    services: [web]\n"), {
        "compose/c.yaml": "services:\n  web:\n    image: nginx:1.27\n    volumes: [./html:/usr/share/nginx/html:ro]\n",
      }),
    ]);
    expect(r.problems).toEqual([]);
    expect(r.modules[0]?.services[0]?.volumes).toEqual([
      { type: "bind", source: "../../compose/html", target: "/usr/share/nginx/html", readOnly: true },
    ]);
    expect(r.modules[0]?.services[0]?.networks).toEqual(["default"]);
  });

  it("warns about an unsupported Compose field, and refuses it in strict mode naming the Compose file:line", () => {
    const src = source("web", manifest("web", "    files: [../c.yaml]\n    services: [web]\n"), { "cat/c.yaml": COMPOSE });
    const lax = validateCatalog([src]);
    expect(lax.valid).toBe(true);
    expect(lax.warnings.map((p) => [p.file, p.line, p.column, p.path, p.code])).toEqual([
      ["cat/c.yaml", 4, 5, "services.web.privileged", "compose.unsupported_field"],
    ]);
    const strict = validateCatalog([src], { strict: true });
    expect(strict.valid).toBe(false);
    expect(strict.problems.map((p) => [p.file, p.line, p.column, p.path, p.code])).toEqual([
      ["cat/c.yaml", 4, 5, "services.web.privileged", "compose.unsupported_field"],
    ]);
  });

  it("judges only the services the module owns: another module's service in the same file is not its concern", () => {
    const r = validateCatalog([source("db", manifest("db", "    files: [../c.yaml]\n    services: [db]\n"), { "cat/c.yaml": COMPOSE })], {
      strict: true,
    });
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it("refuses spec.services beside spec.compose, at spec.compose", () => {
    const text = manifest("web", "    files: [../c.yaml]\n    services: [web]\n", "  services:\n    web:\n      image: nginx:1.27\n");
    const r = validateCatalog([source("web", text, { "cat/c.yaml": COMPOSE })]);
    expect(r.problems.map((p) => [p.line, p.path, p.code])).toEqual([[13, "spec.compose", "schema.invalid"]]);
    expect(r.problems[0]?.message).toContain("mutually exclusive");
  });

  it("names a service the files do not define at its line in module.yaml", () => {
    const r = validateCatalog([
      source("web", manifest("web", "    files: [../c.yaml]\n    services: [web, nope]\n"), { "cat/c.yaml": COMPOSE }),
    ]);
    expect(r.problems.map((p) => [p.file, p.line, p.path, p.code, p.message])).toEqual([
      ["cat/web/module.yaml", 11, "spec.compose.services[1]", "compose.unknown_service", 'service "nope" is not defined in cat/c.yaml'],
    ]);
  });

  it("reports a Compose file the catalog could not read", () => {
    const missing: Problem = {
      file: "cat/x.yaml",
      line: 0,
      column: 0,
      path: "",
      code: "compose.file",
      message: "Compose file does not exist",
      hint: "",
    };
    const src = source("web", manifest("web", "    files: [../x.yaml]\n    services: [web]\n"));
    const read = new Map<string, Uint8Array | Problem>([["cat/x.yaml", missing]]);
    expect(validateCatalog([{ ...src, compose: { read, env: {} } }]).problems.map((p) => [p.file, p.code])).toEqual([
      ["cat/x.yaml", "compose.file"],
    ]);
  });

  it("requires a Compose depends_on to be carried by a module in spec.depends_on", () => {
    const files = { "cat/c.yaml": "services:\n  app:\n    image: app:1\n    depends_on: [db]\n  db:\n    image: postgres:16\n" };
    const app = (extra: string) => source("app", manifest("app", "    files: [../c.yaml]\n    services: [app]\n", extra), files);
    const db = source("db", manifest("db", "    files: [../c.yaml]\n    services: [db]\n"), files);
    expect(validateCatalog([app(""), db]).problems.map((p) => [p.file, p.line, p.code, p.message])).toEqual([
      ["cat/app/module.yaml", 11, "compose.depends_on", '"app" depends on Compose service "db", which no module in spec.depends_on owns'],
    ]);
    expect(validateCatalog([app("  depends_on: [db]\n"), db]).problems).toEqual([]);
  });

  it("changes the module's content digest when the environment changes a field resolved at read time, not when a secret changes", () => {
    const files = { "cat/c.yaml": "services:\n  web:\n    image: nginx:${TAG:-1.27}\n    environment:\n      API_TOKEN: ${API_TOKEN}\n" };
    const digest = (env: Record<string, string>) =>
      validateCatalog([source("web", manifest("web", "    files: [../c.yaml]\n    services: [web]\n"), files, env)]).modules[0]
        ?.contentDigest;
    const base = digest({ TAG: "1.27", API_TOKEN: "a" });
    expect(base).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digest({ TAG: "1.28", API_TOKEN: "a" })).not.toBe(base);
    expect(digest({ TAG: "1.27", API_TOKEN: "b" })).toBe(base);
  });

  it("carries a Compose stop_signal under its canonical name and refuses one that never stops a process, at its line", () => {
    const withSignal = (signal: string) =>
      validateCatalog([
        source("db", manifest("db", "    files: [../c.yaml]\n    services: [db]\n"), {
          "cat/c.yaml": `services:\n  db:\n    image: postgres:16\n    stop_signal: ${signal}\n    stop_grace_period: 1m\n`,
        }),
      ]);
    for (const written of ["SIGINT", "INT", "sigint"]) {
      const r = withSignal(written);
      expect(r.problems).toEqual([]);
      expect([r.modules[0]?.services[0]?.stopSignal, r.modules[0]?.services[0]?.stopGracePeriodSeconds]).toEqual(["SIGINT", 60]);
    }
    const stop = withSignal("SIGSTOP");
    expect(stop.problems.map((p) => [p.file, p.line, p.code, p.path])).toEqual([
      ["cat/c.yaml", 4, "compose.invalid", "services.db.stop_signal"],
    ]);
    expect(stop.problems[0]?.message).toContain('stop_signal "SIGSTOP" is not supported; use a signal name: SIGABRT,');
  });

  it("refuses a field the service model cannot carry instead of dropping it", () => {
    const r = validateCatalog([
      source("web", manifest("web", "    files: [../c.yaml]\n    services: [web]\n"), {
        "cat/c.yaml": "services:\n  web:\n    image: nginx:1.27\n    restart: on-failure:3\n",
      }),
    ]);
    expect(r.problems.map((p) => [p.file, p.line, p.code])).toEqual([["cat/c.yaml", 4, "compose.invalid"]]);
  });
});
