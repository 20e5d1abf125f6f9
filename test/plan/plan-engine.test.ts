// plan against the real engine: every drift kind produced for real and read back through `plan --json`.
import Docker from "dockerode";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import { aCatalog, createAsPlatformctl, manifest } from "../helpers/platform.js";
import { testProject, runId } from "../helpers/run-id.js";
import type { Plan } from "../../src/plan/plan.js";
import { startRecordingProxy } from "../helpers/recording-proxy.js";
import { eventually } from "../helpers/eventually.js";
import { REPO } from "../helpers/repo.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const docker = new Docker();
const CANARY = "plan-canary-7Qx9Zr2w";
const TAG = () => `platformctl-test/plan-${runId()}:1`;
const tagsToRemove: string[] = [];

let catalog: Awaited<ReturnType<typeof aCatalog>>;
let validatePlan: (v: unknown) => boolean;

const APP = (image = TAG(), command = '["sleep", "100000"]') =>
  manifest("app", {
    services: `    app:\n      image: ${image}\n      command: ${command}\n      environment:\n        TOKEN: \${PLAN_TOKEN}\n      restart: "no"\n`,
  });
const JOB = manifest("job", {
  expected: "exited-success",
  stateful: true,
  services: `    job:\n      image: ${TEST_IMAGE}\n      command: ["sh", "-c", "exit $$JOB_EXIT"]\n      environment:\n        JOB_EXIT: \${JOB_EXIT:-0}\n      restart: "no"\n`,
});
const HC = manifest("hc", {
  expected: "healthy",
  services: `    hc:\n      image: ${TEST_IMAGE}\n      command: ["sh", "-c", "sleep 100000"]\n      restart: "no"\n      healthcheck:\n        test: ["CMD-SHELL", "test -f /tmp/ok"]\n        interval: 1s\n        timeout: 1s\n        retries: 1\n`,
});

async function plan(
  project: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ plan: Plan; code: number; raw: string }> {
  const r = await runCli(["plan", "--json", "--project", project, "--modules-dir", catalog.dir, ...args], { PLAN_TOKEN: CANARY, ...env });
  if (r.code !== 0 && r.code !== 2) throw new Error(`plan exited ${r.code}: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as Plan;
  expect(validatePlan(parsed)).toBe(true);
  expect(r.stdout + r.stderr).not.toContain(CANARY);
  return { plan: parsed, code: r.code, raw: r.stdout };
}

const moduleOf = (p: Plan, name: string) => p.modules.find((m) => m.name === name);
const kindsOf = (p: Plan, name: string) => moduleOf(p, name)?.drift.map((d) => d.kind);

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("app", APP());
  await catalog.write("job", JOB);
  await catalog.write("hc", HC);
  await docker.getImage(TEST_IMAGE).tag({ repo: `platformctl-test/plan-${runId()}`, tag: "1" });
  tagsToRemove.push(TAG());
  const schema = JSON.parse(await readFile(path.join(REPO, "schema/plan.schema.json"), "utf8"));
  validatePlan = new Ajv2020({ strict: false }).compile(schema);
});

afterAll(async () => {
  await catalog.remove();
  for (const t of tagsToRemove)
    await docker
      .getImage(t)
      .remove({ noprune: true })
      .catch(() => undefined);
});

describe("plan against the real engine", () => {
  it("reports service.missing for a declared service without a container, and exits 2 with --detailed-exitcode", async () => {
    const p = testProject("missing");
    const r = await plan(p, ["--module", "app", "--detailed-exitcode"]);
    expect(r.code).toBe(2);
    expect(kindsOf(r.plan, "app")).toEqual(["service.missing"]);
  });

  it("reports a running container created from the manifest as in sync, exit 0 with --detailed-exitcode", async () => {
    const p = testProject("insync");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "app", env: { PLAN_TOKEN: CANARY }, start: true });
    const r = await plan(p, ["--module", "app", "--detailed-exitcode"]);
    expect(r.code).toBe(0);
    expect(moduleOf(r.plan, "app")?.in_sync).toBe(true);
  });

  it("reports not_running for a stopped container and for a killed one (exit 137)", async () => {
    const p = testProject("stopped");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "app", env: { PLAN_TOKEN: CANARY }, start: true });
    await c.kill();
    await eventually(async () => expect((await c.inspect()).State.Status).toBe("exited"));
    const r = await plan(p, ["--module", "app"]);
    expect(kindsOf(r.plan, "app")).toEqual(["container.state.not_running"]);
    expect(moduleOf(r.plan, "app")?.drift[0]?.observed).toMatchObject({ status: "exited", exit_code: 137, oom_killed: false });
    expect(moduleOf(r.plan, "app")?.actions.map((a) => a.type)).toEqual(["start"]);
  });

  it("reports exited_success drift for a one-shot that exited 3, and keeps one that exited 0 in sync", async () => {
    const failed = testProject("job3");
    const c3 = await createAsPlatformctl(docker, { project: failed, dir: catalog.dir, module: "job", env: { JOB_EXIT: "3" }, start: true });
    await c3.wait();
    const r3 = await plan(failed, ["--module", "job"]);
    expect(kindsOf(r3.plan, "job")).toEqual(["container.state.exited_success"]);
    expect(moduleOf(r3.plan, "job")?.drift[0]?.observed).toMatchObject({ status: "exited", exit_code: 3 });
    expect(moduleOf(r3.plan, "job")?.actions.map((a) => a.type)).toEqual(["run-once"]);

    const ok = testProject("job0");
    const c0 = await createAsPlatformctl(docker, { project: ok, dir: catalog.dir, module: "job", start: true });
    await c0.wait();
    expect(moduleOf((await plan(ok, ["--module", "job"])).plan, "job")).toMatchObject({ in_sync: true, actions: [] });
  });

  it("reports a one-shot that was never started as exited_success drift, not as success", async () => {
    const p = testProject("jobnew");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "job" });
    const r = await plan(p, ["--module", "job"]);
    expect(moduleOf(r.plan, "job")?.drift[0]).toMatchObject({ kind: "container.state.exited_success", observed: { status: "created" } });
  });

  it("reports image.updated when the image tag is moved to another image", async () => {
    const p = testProject("retag");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "app", env: { PLAN_TOKEN: CANARY }, start: true });
    const moved = `platformctl-test/plan-${runId()}:moved`;
    await c.commit({ repo: `platformctl-test/plan-${runId()}`, tag: "moved" });
    tagsToRemove.push(moved);
    const newId = (await docker.getImage(moved).inspect()).Id;
    await docker.getImage(moved).tag({ repo: `platformctl-test/plan-${runId()}`, tag: "1" });
    try {
      const r = await plan(p, ["--module", "app"]);
      expect(kindsOf(r.plan, "app")).toEqual(["image.updated"]);
      expect(moduleOf(r.plan, "app")?.drift[0]?.expected).toMatchObject({ image_id: newId });
    } finally {
      const baseId = (await docker.getImage(TEST_IMAGE).inspect()).Id;
      await docker.getImage(baseId).tag({ repo: `platformctl-test/plan-${runId()}`, tag: "1" });
    }
  });

  it("reports image.changed and config.changed (with the changed field names) after the manifest is edited", async () => {
    const p = testProject("edited");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "app", env: { PLAN_TOKEN: CANARY }, start: true });
    const edited = await aCatalog();
    try {
      await edited.write("app", APP(TEST_IMAGE, '["sleep", "99999"]'));
      const r = await runCli(["plan", "--json", "--project", p, "--modules-dir", edited.dir], { PLAN_TOKEN: CANARY });
      const parsed = JSON.parse(r.stdout) as Plan;
      expect(kindsOf(parsed, "app")).toEqual(["image.changed", "config.changed"]);
      expect(moduleOf(parsed, "app")?.drift[1]?.detail).toEqual({ fields: ["command"] });
      expect(moduleOf(parsed, "app")?.actions.map((a) => a.type)).toEqual(["recreate", "start"]);
    } finally {
      await edited.remove();
    }
  });

  it("reports a second container for one service as container.duplicate", async () => {
    const p = testProject("dup");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "app", env: { PLAN_TOKEN: CANARY }, start: true });
    await createAsPlatformctl(docker, {
      project: p,
      dir: catalog.dir,
      module: "app",
      env: { PLAN_TOKEN: CANARY },
      start: true,
      name: `${p}_app_app-copy`,
    });
    const r = await plan(p, ["--module", "app"]);
    expect(kindsOf(r.plan, "app")).toEqual(["container.duplicate"]);
    expect(moduleOf(r.plan, "app")?.drift[0]?.detail).toEqual({ keep: `${p}_app_app` });
  });

  it("reports a stray labelled container of an undeclared module as orphaned and never reports unlabelled containers", async () => {
    const p = testProject("orphan");
    const stray = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ["true"],
      Labels: { "dev.platformctl.project": p, "dev.platformctl.module": "ghost", "dev.platformctl.service": "x" },
    });
    const unlabelled = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ["true"], name: `${p}_app_app` });
    try {
      const r = await plan(p);
      expect(moduleOf(r.plan, "ghost")).toMatchObject({ declared: false, drift: [{ kind: "container.orphaned" }] });
      expect(kindsOf(r.plan, "app")).toEqual(["service.missing"]);
      expect(r.raw).not.toContain(unlabelled.id);
    } finally {
      await unlabelled.remove({ force: true });
      await stray.remove({ force: true });
    }
  });

  it("reports a healthy-expected service whose healthcheck fails as unhealthy", async () => {
    const p = testProject("unhealthy");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "hc", start: true });
    await eventually(async () => expect((await c.inspect()).State.Health?.Status).toBe("unhealthy"));
    const r = await plan(p, ["--module", "hc"]);
    expect(kindsOf(r.plan, "hc")).toEqual(["container.state.unhealthy"]);
  });

  it("never writes a resolved secret into output, the plan file, markdown or container labels", async () => {
    const p = testProject("canary");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "app", env: { PLAN_TOKEN: CANARY }, start: true });
    const out = path.join(catalog.dir, "..", "plan.json");
    const json = await runCli(["plan", "--json", "--out", out, "--project", p, "--modules-dir", catalog.dir, "--verbose"], {
      PLAN_TOKEN: CANARY,
    });
    const md = await runCli(["plan", "--markdown", "--project", p, "--modules-dir", catalog.dir], { PLAN_TOKEN: CANARY });
    const text = await runCli(["plan", "--project", p, "--modules-dir", catalog.dir], { PLAN_TOKEN: CANARY });
    const saved = await readFile(out, "utf8");
    const labels = JSON.stringify((await c.inspect()).Config.Labels);
    for (const s of [json.stdout, json.stderr, md.stdout, md.stderr, text.stdout, text.stderr, saved, labels])
      expect(s).not.toContain(CANARY);
    expect(JSON.parse(saved).fingerprint).toBe(JSON.parse(json.stdout).fingerprint);
    expect(md.stdout).toContain("| module | stateful | expected | drift | actions |");
  });

  it("gives the same fingerprint for the same state and a different one once a container changes", async () => {
    const p = testProject("fp");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "app", env: { PLAN_TOKEN: CANARY }, start: true });
    const a = await plan(p, ["--module", "app"]);
    const b = await plan(p, ["--module", "app"]);
    expect(a.plan.fingerprint).toBe(b.plan.fingerprint);
    await c.kill();
    await eventually(async () => expect((await c.inspect()).State.Status).toBe("exited"));
    expect((await plan(p, ["--module", "app"])).plan.fingerprint).not.toBe(a.plan.fingerprint);
  });

  it("issues only GET requests to the engine: plan is read-only, with drift present and --out written", async () => {
    const p = testProject("readonly");
    const c = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "app", env: { PLAN_TOKEN: CANARY }, start: true });
    await c.kill();
    const proxy = await startRecordingProxy();
    try {
      const out = path.join(catalog.dir, "..", "ro-plan.json");
      const r = await runCli(["plan", "--json", "--out", out, "--prune", "--project", p, "--modules-dir", catalog.dir], {
        PLAN_TOKEN: CANARY,
        DOCKER_HOST: proxy.dockerHost,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.requests.length).toBeGreaterThanOrEqual(3);
      expect(proxy.requests.filter((q) => q.method !== "GET")).toEqual([]);
      expect(proxy.requests.filter((q) => q.url.includes("/containers/json")).length).toBe(1);
      expect(proxy.sent()).not.toContain(CANARY);
    } finally {
      await proxy.close();
    }
  });

  it("shows mount sanity findings as warnings, not drift: a bind source that does not exist", async () => {
    const p = testProject("mounts");
    const cat = await aCatalog();
    try {
      await cat.write(
        "binder",
        manifest("binder", {
          services: `    binder:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100"]\n      restart: "no"\n      volumes: ["/nonexistent/platformctl-${runId()}:/data"]\n`,
        }),
      );
      const r = await runCli(["plan", "--json", "--project", p, "--modules-dir", cat.dir]);
      const parsed = JSON.parse(r.stdout) as Plan;
      expect(moduleOf(parsed, "binder")?.warnings.join("\n")).toContain("bind.source_missing");
      expect(kindsOf(parsed, "binder")).toEqual(["service.missing"]);
    } finally {
      await cat.remove();
    }
  });

  it("fails with one clear line naming the endpoint when no engine answers", async () => {
    const r = await runCli(["plan", "--modules-dir", catalog.dir], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unix:///nonexistent/docker.sock");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses an unknown module and an invalid project name without touching the engine", async () => {
    const unknown = await runCli(["plan", "--module", "nope", "--modules-dir", catalog.dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown module: nope");
    const bad = await runCli(["plan", "--project", "Bad_Name", "--modules-dir", catalog.dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("invalid project name");
  });
});
