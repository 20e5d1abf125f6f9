// The seed scenario end to end on the real engine: minio healthy, minio-init exited 1, the gate, a backup, the guarded re-run.
import Docker from "dockerode";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failMinioInit } from "../helpers/seed-scenario.js";
import { TEST_IMAGE } from "../helpers/test-image.js";
import { runId, testProject } from "../helpers/run-id.js";
import type { Plan } from "../../src/plan/plan.js";
import { REPO } from "../helpers/repo.js";
import { runCli } from "../helpers/run-cli.js";

const docker = new Docker();
const PASSWORD = "seed-canary-Pw9x7Vq3";
let root: string;
let env: Record<string, string>;
let modulesDir: string;
const project = () => seedProject;
let seedProject: string;

const run = (args: string[], extra: Record<string, string> = {}) =>
  runCli([...args, "--project", project(), "--modules-dir", modulesDir], { ...env, ...extra });

beforeAll(async () => {
  seedProject = testProject("seed");
  root = await mkdtemp(path.join(tmpdir(), "platformctl-seed-"));
  modulesDir = path.join(root, "modules");
  await cp(path.join(REPO, "examples/quickstart/modules"), modulesDir, { recursive: true });
  env = {
    STATE_DIR: path.join(root, "state"),
    PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"),
    MINIO_ROOT_USER: "admin",
    MINIO_ROOT_PASSWORD: PASSWORD,
  };
  await (await import("node:fs/promises")).mkdir(env.PLATFORMCTL_BACKUP_DIR as string);
});

afterAll(async () => {
  await docker
    .getImage(`platformctl-test/seed-${runId()}:2`)
    .remove()
    .catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

describe("seed scenario: re-running a failed stateful one-shot after a backup", () => {
  let backupRef = "";

  it("bootstraps minio (stateful, healthy) with --allow-stateful --confirm --bootstrap", async () => {
    const r = await run(["apply", "--module", "minio", "--allow-stateful", "--confirm", "BACKUP_DONE_F3", "--bootstrap"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const c = await docker.getContainer(`${project()}_minio_minio`).inspect();
    expect(c.State.Health?.Status).toBe("healthy");
  });

  it("has minio-init exit 1 for real (run while minio was down), then minio healthy again", async () => {
    await failMinioInit(docker, { project: project(), modulesDir, env });
    const plan = JSON.parse((await run(["plan", "--json", "--module", "minio-init"])).stdout) as Plan;
    expect(plan.modules[0]?.drift.map((d) => d.kind)).toEqual(["container.state.exited_success"]);
    expect(plan.modules[0]?.drift[0]?.observed).toMatchObject({ status: "exited", exit_code: 1 });
  });

  it("blocks scope without dispatch inputs (exit 3 with --fail-on-blocked), one reason per missing input", async () => {
    const r = await run(["scope", "--module", "minio-init", "--fail-on-blocked", "--json"]);
    expect(r.code).toBe(3);
    const d = JSON.parse(r.stdout);
    expect(d.eligible).toBe(false);
    expect(d.reasons.map((x: { code: string }) => x.code).sort()).toEqual([
      "input.allow_stateful_missing",
      "input.backup_ref_missing",
      "input.confirm_missing",
    ]);
  });

  it("backs up minio and prints a backup ref inside the backup root", async () => {
    const r = await run(["backup", "minio"]);
    expect(r.code, r.stderr).toBe(0);
    backupRef = r.stdout.trim();
    expect(path.basename(backupRef)).toMatch(/^minio-[0-9]{8}T[0-9]{6}Z\.tar\.gz$/);
    const catalog = await readFile(path.join(env.STATE_DIR as string, "backup-catalog.jsonl"), "utf8");
    expect(catalog).toContain(path.basename(backupRef));
  });

  it("finds the minio-init re-run eligible with the backup ref and the exact token, by the one-shot exception", async () => {
    const r = await run([
      "scope",
      "--module",
      "minio-init",
      "--allow-stateful",
      "--backup-ref",
      backupRef,
      "--confirm",
      "BACKUP_DONE_F3",
      "--fail-on-blocked",
      "--json",
    ]);
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      eligible: true,
      rule: "stateful-oneshot-exception",
      drift_kinds: ["container.state.exited_success"],
    });
    const lower = await run([
      "scope",
      "--module",
      "minio-init",
      "--allow-stateful",
      "--backup-ref",
      backupRef,
      "--confirm",
      "backup_done_f3",
      "--fail-on-blocked",
    ]);
    expect(lower.code).toBe(3);
    expect(lower.stdout + lower.stderr).not.toContain("backup_done_f3");
  });

  it("re-runs minio-init to exit 0 through apply, then the plan is in sync", async () => {
    const r = await run(["apply", "--module", "minio-init", "--allow-stateful", "--backup-ref", backupRef, "--confirm", "BACKUP_DONE_F3"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const c = await docker.getContainer(`${project()}_minio-init_minio-init`).inspect();
    expect(c.State).toMatchObject({ Status: "exited", ExitCode: 0, OOMKilled: false });
    const plan = JSON.parse((await run(["plan", "--json", "--module", "minio", "--module", "minio-init"])).stdout) as Plan;
    expect(plan.modules.every((m) => m.in_sync)).toBe(true);
    const audit = await readFile(path.join(env.STATE_DIR as string, "audit.jsonl"), "utf8");
    expect(audit).toContain("stateful-oneshot-exception");
    expect(audit).not.toContain("BACKUP_DONE_F3");
    expect(audit).toContain("--confirm ***");
    for (const text of [r.stdout, r.stderr, audit, JSON.stringify(c.Config.Labels)]) expect(text).not.toContain(PASSWORD);
  });

  it("refuses the same inputs for the stateful long-running minio with image drift, changing nothing", async () => {
    const tag = `platformctl-test/seed-${runId()}:2`;
    await docker.getImage(TEST_IMAGE).tag({ repo: `platformctl-test/seed-${runId()}`, tag: "2" });
    const yaml = await readFile(path.join(modulesDir, "minio/module.yaml"), "utf8");
    await (await import("node:fs/promises")).writeFile(
      path.join(modulesDir, "minio/module.yaml"),
      yaml.replace(`image: ${TEST_IMAGE}`, `image: ${tag}`),
    );
    const before = await docker.getContainer(`${project()}_minio_minio`).inspect();
    const r = await run([
      "apply",
      "--module",
      "minio",
      "--allow-stateful",
      "--backup-ref",
      backupRef,
      "--confirm",
      "BACKUP_DONE_F3",
      "--json",
    ]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).reasons.map((x: { code: string }) => x.code)).toEqual(["drift.not_allowed"]);
    const after = await docker.getContainer(`${project()}_minio_minio`).inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
  });
});
