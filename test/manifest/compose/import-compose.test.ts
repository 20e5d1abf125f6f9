// What `import compose` infers from a merged Compose model, on plain data: modules, states, stateful marks, backup refs, refusals.
import { describe, expect, it } from "vitest";
import { loadCompose } from "../../../src/manifest/compose/load-compose.js";
import type { ComposeServiceLayer } from "../../../src/manifest/compose/compose-service.js";
import { composeProjectName, normalizeProjectName } from "../../../src/manifest/compose/compose-project-name.js";
import { parseImportGroup, planComposeImport, type ImportGroup } from "../../../src/manifest/compose/import-compose.js";
import { renderImportedModule, yamlString } from "../../../src/manifest/compose/render-imported-module.js";
import { validateCatalog } from "../../../src/manifest/validate.js";

const FILE = "/p/compose/compose.yaml";
const bytes = (text: string) => new TextEncoder().encode(text);

/** The merged services of one in-memory Compose file, as the reader yields them. */
function services(yaml: string): Map<string, ComposeServiceLayer> {
  const loaded = loadCompose({ files: [FILE], read: new Map([[FILE, bytes(yaml)]]), env: {}, view: "module" });
  if (loaded.kind !== "loaded" || loaded.problems.length) throw new Error(`fixture does not load: ${JSON.stringify(loaded)}`);
  return loaded.services;
}

function imported(yaml: string, groups: ImportGroup[] = []) {
  const plan = planComposeImport(services(yaml), groups);
  if (!plan.ok) throw new Error(`refused: ${JSON.stringify(plan.refusals)}`);
  return plan;
}

/** The context PR's platform: a store with a healthcheck and a named volume, its bucket one-shot, and a dependent. */
const CONTEXT_PR = `services:
  minio:
    image: minio/minio:RELEASE.2025-04-22T22-12-26Z
    command: server /data
    volumes: [minio-data:/data]
    healthcheck: {test: [CMD, mc, ready, local], interval: 10s}
    restart: unless-stopped
  minio-init:
    image: minio/mc:RELEASE.2025-04-16T18-13-26Z
    entrypoint: /bin/sh -c
    command: ["mc mb --ignore-existing local/data"]
    depends_on: {minio: {condition: service_healthy}}
    restart: "no"
  app:
    image: example/app:1.0
    depends_on:
      minio-init: {condition: service_completed_successfully}
      minio: {condition: service_healthy}
    restart: unless-stopped
volumes:
  minio-data:
`;

describe("planComposeImport", () => {
  it("imports the context PR's shape as a stateful healthy store and a stateful one-shot backed by the store", () => {
    const plan = imported(CONTEXT_PR);
    expect(plan.decisions).toEqual([]);
    expect(plan.modules).toEqual([
      {
        name: "app",
        services: ["app"],
        expectedState: "running",
        expectedStateWhy: "no healthcheck, and nothing waits for it to complete",
        stateful: false,
        statefulWhy: undefined,
        dependsOn: ["minio", "minio-init"],
        dependsWhy: "app waits for minio-init (service_completed_successfully); app waits for minio (service_healthy)",
        backupRefModules: undefined,
        backupRefWhy: undefined,
      },
      {
        name: "minio",
        services: ["minio"],
        expectedState: "healthy",
        expectedStateWhy: "it declares a healthcheck",
        stateful: true,
        statefulWhy: "it mounts the named volume minio-data",
        dependsOn: [],
        dependsWhy: undefined,
        backupRefModules: undefined,
        backupRefWhy: undefined,
      },
      {
        name: "minio-init",
        services: ["minio-init"],
        expectedState: "exited-success",
        expectedStateWhy: 'restart: "no" and app waits for it with condition service_completed_successfully',
        stateful: true,
        statefulWhy: "it is a one-shot that waits for the stateful minio and likely writes to it",
        dependsOn: ["minio"],
        dependsWhy: "minio-init waits for minio (service_healthy)",
        backupRefModules: ["minio"],
        backupRefWhy: "its effects live in the data of minio",
      },
    ]);
  });

  it("takes a service without a restart policy that a dependent waits to complete as a one-shot", () => {
    const plan = imported(
      "services:\n  migrate:\n    image: m:1\n  api:\n    image: a:1\n    depends_on: {migrate: {condition: service_completed_successfully}}\n",
    );
    expect(plan.modules.find((m) => m.name === "migrate")).toMatchObject({ expectedState: "exited-success", stateful: false });
  });

  it("keeps a restarting service running even when a dependent waits for it to complete, and a disabled healthcheck is no healthcheck", () => {
    const plan = imported(
      "services:\n  w:\n    image: w:1\n    restart: always\n    healthcheck: {disable: true}\n  d:\n    image: d:1\n    depends_on: {w: {condition: service_completed_successfully}}\n",
    );
    expect(plan.modules.find((m) => m.name === "w")).toMatchObject({
      expectedState: "running",
      expectedStateWhy: 'restart: "always" keeps it running',
    });
  });

  it('asks the operator about a restart: "no" service that nothing waits for, instead of guessing it is a one-shot', () => {
    const plan = imported('services:\n  job:\n    image: j:1\n    restart: "no"\n');
    expect(plan.modules[0]).toMatchObject({ name: "job", expectedState: "running" });
    expect(plan.decisions).toEqual([
      {
        code: "oneshot.unconfirmed",
        module: "job",
        message:
          'service job has restart: "no" but nothing waits for it with condition service_completed_successfully: imported as running; if it is a one-shot, set spec.runtime.expected_state: exited-success in job/module.yaml',
        at: { file: FILE, line: 4, column: 14 },
      },
    ]);
  });

  it("marks only read-write named volumes stateful, and names the first writer by name as the backup of a shared volume", () => {
    const plan = imported(`services:
  store:
    image: s:1
    volumes: [data:/data, ./conf:/conf, /cache]
  reader:
    image: r:1
    volumes: [data:/data:ro]
  agent:
    image: a:1
    volumes: [data:/data, own:/own]
volumes: {data: null, own: null}
`);
    const by = Object.fromEntries(plan.modules.map((m) => [m.name, m]));
    expect(by.reader).toMatchObject({ stateful: false, backupRefModules: undefined });
    // agent < store by name: agent is the first writer of "data" (the rule validate --strict applies), store refers to it.
    expect(by.agent).toMatchObject({ stateful: true, statefulWhy: "it mounts the named volumes data, own", backupRefModules: undefined });
    expect(by.store).toMatchObject({
      stateful: true,
      backupRefModules: ["agent"],
      backupRefWhy: "it writes data, which agent also mounts: their backup holds that data",
    });
  });

  it("groups services into one module and maps dependencies on a group's member to the group", () => {
    const plan = imported(
      "services:\n  db:\n    image: d:1\n    healthcheck: {test: [CMD, true]}\n  db-exporter:\n    image: e:1\n    healthcheck: {test: [CMD, true]}\n  api:\n    image: a:1\n    depends_on: [db-exporter]\n",
      [{ name: "database", services: ["db", "db-exporter"] }],
    );
    expect(plan.modules.map((m) => [m.name, m.services, m.expectedState, m.dependsOn])).toEqual([
      ["api", ["api"], "running", ["database"]],
      ["database", ["db", "db-exporter"], "healthy", []],
    ]);
  });

  it("asks the operator to split a group that mixes a one-shot with long-running services", () => {
    const plan = imported(
      'services:\n  init:\n    image: i:1\n    restart: "no"\n  srv:\n    image: s:1\n  user:\n    image: u:1\n    depends_on: {init: {condition: service_completed_successfully}}\n',
      [{ name: "pair", services: ["init", "srv"] }],
    );
    expect(plan.modules.find((m) => m.name === "pair")?.expectedState).toBe("running");
    expect(plan.decisions.map((d) => [d.code, d.module])).toEqual([["group.states_differ", "pair"]]);
  });

  it("refuses an unknown service in a group, a service in two groups, an unusable module name and dependencies inside a group", () => {
    const yaml = "services:\n  a:\n    image: a:1\n  b:\n    image: b:1\n    depends_on: [a]\n  My_Svc:\n    image: c:1\n";
    const plan = planComposeImport(services(yaml), [
      { name: "g1", services: ["a", "b", "nope"] },
      { name: "g2", services: ["a"] },
    ]);
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.refusals.map((r) => [r.code, r.message, r.at?.line])).toEqual([
      [
        "group.unknown_service",
        '--group g1 names service "nope", which the Compose files do not define (they define a, b, My_Svc)',
        undefined,
      ],
      ["group.service_twice", 'service "a" is in two groups (g1 and g2); a service belongs to one module', 2],
      [
        "module.name",
        "service \"My_Svc\" cannot be a module name (lower-case letters, digits and '-', starting with a letter); give it one with --group My_Svc=<name>",
        7,
      ],
      [
        "group.depends_inside",
        'service "b" depends on "a" and both are in module g1; platformctl does not order the services of one module: put them in separate modules',
        6,
      ],
    ]);
  });
});

describe("parseImportGroup", () => {
  it("reads services=name and rejects text of any other shape", () => {
    expect(parseImportGroup("db, db-exporter=database")).toEqual({ name: "database", services: ["db", "db-exporter"] });
    for (const bad of ["db", "=x", "db=", "a,,b=x"]) expect(parseImportGroup(bad)).toBeUndefined();
  });
});

describe("composeProjectName", () => {
  it("takes the last literal top-level name, else Compose's normalized directory name", () => {
    const f = (file: string, text: string) => ({ file, shown: file, bytes: bytes(text) });
    expect(composeProjectName([f("/x/My Platform.d/a.yaml", "services: {}\n")])).toMatchObject({ name: "myplatformd" });
    expect(composeProjectName([f("/x/a/a.yaml", "name: one\n"), f("/x/a/b.yaml", "name: two\n")])).toEqual({
      name: "two",
      why: "Compose's project name: the top-level name in /x/a/b.yaml",
    });
    expect(composeProjectName([f("/x/a/a.yaml", "name: ${P}\n")]).name).toBeUndefined();
    expect(normalizeProjectName("_Home.Platform")).toBe("homeplatform");
  });
});

describe("renderImportedModule", () => {
  it("writes commented, stable YAML that validates strictly as a Compose-sourced module", () => {
    const plan = imported(CONTEXT_PR);
    const init = plan.modules.find((m) => m.name === "minio-init");
    if (!init) throw new Error("no minio-init");
    const text = renderImportedModule(init, {
      files: ["../../compose/compose.yaml"],
      given: ["compose/compose.yaml"],
      project: "home-platform",
      projectWhy: "From --project",
      envFile: undefined,
    });
    expect(text).toBe(`# Generated by \`platformctl import compose\` from compose/compose.yaml.
# The services come from the Compose files; the values marked inferred below are for you to confirm.
apiVersion: platformctl/v1
kind: Module
metadata:
  name: minio-init
  description: Compose service minio-init, imported from compose.yaml.
spec:
  # Inferred: it is a one-shot that waits for the stateful minio and likely writes to it. Confirm: a stateful
  # module is changed only with a backup ref (the policy gate).
  stateful: true
  # Inferred: its effects live in the data of minio.
  backup_ref_modules: [minio]
  # From Compose depends_on: minio-init waits for minio (service_healthy).
  depends_on: [minio]
  runtime:
    # Inferred: restart: "no" and app waits for it with condition service_completed_successfully.
    expected_state: exited-success
    timeout_seconds: 300
  compose:
    files:
      - ../../compose/compose.yaml
    services: [minio-init]
    # From --project.
    project: home-platform
`);
    // The whole set, rendered and judged by the one validator (strict), with the Compose file where the modules say.
    const sources = plan.modules.map((m) => ({
      file: `/p/modules/${m.name}/module.yaml`,
      dir: `/p/modules/${m.name}`,
      dirName: m.name,
      bytes: bytes(
        renderImportedModule(m, { files: ["../../compose/compose.yaml"], given: ["c"], project: "p", projectWhy: "x", envFile: undefined }),
      ),
      compose: { read: new Map([[FILE, bytes(CONTEXT_PR)]]), env: {} },
    }));
    const result = validateCatalog(sources, { strict: true });
    expect(result.problems).toEqual([]);
    expect(result.modules.map((m) => [m.name, m.stateful, m.dependsOn, m.backupRefModules])).toEqual([
      ["minio", true, [], ["minio"]],
      ["minio-init", true, ["minio"], ["minio"]],
      ["app", false, ["minio", "minio-init"], ["app"]],
    ]);
  });

  it("quotes a string YAML would read as something else, and leaves plain names plain", () => {
    expect(["minio", "../../a b.yaml", "true", "1.5", "no", "a: b", "x #y", ""].map((s) => yamlString(s))).toEqual([
      "minio",
      "../../a b.yaml",
      '"true"',
      '"1.5"',
      '"no"',
      '"a: b"',
      '"x #y"',
      '""',
    ]);
  });
});
