// Both workflows run step by step as a runner would (workflow-runner.ts) against the real engine and the quick-start catalog.
import Docker from "dockerode";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { failMinioInit } from "../helpers/seed-scenario.js";
import { npxShim, runWorkflow, type RunOptions, type WorkflowRun } from "./workflow-runner.js";
import { aWorkspace, PASSWORD, runnerEnv, type Workspace } from "./workspace.js";
import { REPO } from "../helpers/repo.js";
import { runCli } from "../helpers/run-cli.js";

const exec = promisify(execFile);
const docker = new Docker();
const AUTO_APPLY = path.join(REPO, "workflows/platformctl-auto-apply.yml");
const PLAN = path.join(REPO, "workflows/platformctl-plan.yml");
const PLAN_FILE = path.join(REPO, "plan.json");
/** Where a maintenance dispatch's backup step writes the backup ref in the checkout (the workflow reads it back). */
const MAINTENANCE_BACKUP_FILE = path.join(REPO, "maintenance-backup.txt");

/**
 * The set-up step installs dependencies, the engine and the test image (`bash scripts/setup.sh`); the suite runs after
 * set-up, so the step is replaced by a no-op here — checked to be exactly that command first.
 */
const SETUP = { "Set up": { expect: "bash scripts/setup.sh", run: "true" } };

let shim: { dir: string; remove: () => Promise<void> };
const workspaces: Workspace[] = [];

async function workspace(label: string): Promise<Workspace> {
  const w = await aWorkspace(label);
  workspaces.push(w);
  return w;
}

function dispatch(w: Workspace, inputs: Record<string, string | boolean>): Promise<WorkflowRun> {
  const opts: RunOptions = {
    cwd: REPO,
    runnerEnv: runnerEnv(shim.dir),
    substitute: SETUP,
    vars: w.vars,
    secrets: w.secrets,
    inputs: { allow_stateful: false, backup_ref: "", stateful_confirm: "", bootstrap: false, ...inputs },
  };
  return runWorkflow(AUTO_APPLY, opts);
}

/** Steps by name -> exit code (undefined when skipped), for one readable assertion. */
const codes = (run: WorkflowRun) => Object.fromEntries(run.steps.map((s) => [s.name, s.status === "skipped" ? "skipped" : s.code]));
const logs = (run: WorkflowRun) => run.steps.map((s) => `--- ${s.name} (${s.status} ${s.code ?? ""})\n${s.stdout}${s.stderr}`).join("\n");

async function auditRecords(w: Workspace): Promise<{ type: string; modules?: unknown; decisions?: { rule: string }[] }[]> {
  const text = await readFile(path.join(w.stateDir, "audit.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const state = async (name: string) => (await docker.getContainer(name).inspect()).State;

beforeAll(async () => {
  if (existsSync(PLAN_FILE)) throw new Error(`${PLAN_FILE} exists: the workflow writes plan.json in the checkout; move it away first`);
  if (existsSync(MAINTENANCE_BACKUP_FILE))
    throw new Error(`${MAINTENANCE_BACKUP_FILE} exists: a maintenance dispatch writes it in the checkout; move it away first`);
  const realNpx = (await exec("bash", ["-c", "command -v npx"])).stdout.trim();
  shim = await npxShim(REPO, realNpx);
});

afterEach(async () => {
  await rm(PLAN_FILE, { force: true });
  await rm(MAINTENANCE_BACKUP_FILE, { force: true });
});

afterAll(async () => {
  await shim?.remove();
  await Promise.all(workspaces.map((w) => w.remove()));
});

describe("the workflows run here as a runner runs them", () => {
  it("resolves `npx --no-install platformctl` to this checkout's CLI, which the other scenarios call directly", async () => {
    const viaNpx = await exec("npx", ["--no-install", "platformctl", "--version"], { cwd: REPO });
    const direct = await runCli(["--version"]);
    expect(direct.code).toBe(0);
    expect(viaNpx.stdout).toBe(direct.stdout);
  });
});

describe("platformctl-auto-apply.yml", () => {
  it("applies stateless modules end to end in dependency order (migrate, then web): every step passes", async () => {
    const w = await workspace("wf-web");
    for (const module of ["migrate", "web"]) {
      const run = await dispatch(w, { module });
      expect(codes(run), logs(run)).toEqual({
        "Check out": 0,
        "Set up": 0,
        "Validate manifests": 0,
        Plan: 0,
        "Backup (maintenance)": 0,
        "Gate (scope)": 0,
        Apply: 0,
        Health: 0,
        Smoke: 0,
        "Upload plan and audit log": 0,
      });
      expect(run.conclusion).toBe("success");
      expect(run.summary).toContain(`| ${module} | no |`);
      expect(run.uploads[0]?.files).toEqual([
        { path: "plan.json", exists: true },
        { path: path.join(w.stateDir, "audit.jsonl"), exists: true },
      ]);
      expect(logs(run) + run.summary).not.toContain(PASSWORD);
    }
    expect(await state(`${w.project}_migrate_migrate`)).toMatchObject({ Status: "exited", ExitCode: 0 });
    expect((await state(`${w.project}_web_web`)).Running).toBe(true);
    expect((await auditRecords(w)).filter((r) => r.type === "intent").map((r) => r.modules)).toEqual([["migrate"], ["web"]]);
  });

  describe("the seed's stateful one-shot repair (minio-init exited 1), dispatched with the PR's inputs", () => {
    let w: Workspace;
    let backupRef = "";

    it("bootstraps minio through the workflow with bootstrap=true and the confirmation", async () => {
      w = await workspace("wf-seed");
      const run = await dispatch(w, { module: "minio", allow_stateful: true, bootstrap: true, stateful_confirm: "BACKUP_DONE_F3" });
      expect(codes(run), logs(run)).toMatchObject({ "Gate (scope)": 0, Apply: 0, Health: 0, Smoke: 0 });
      expect((await state(`${w.project}_minio_minio`)).Health?.Status).toBe("healthy");
    });

    it("has minio-init exit 1 for real (run while minio is stopped), then takes a backup of minio", async () => {
      await failMinioInit(docker, w);
      const backup = await runCli(["backup", "minio"], w.env);
      expect(backup.code, backup.stderr).toBe(0);
      backupRef = backup.stdout.trim();
      expect(path.dirname(backupRef)).toBe(w.backupDir);
    });

    it("repairs minio-init with allow_stateful, backup_ref and stateful_confirm: exit 0, plan in sync, audited as the one-shot exception", async () => {
      const run = await dispatch(w, {
        module: "minio-init",
        allow_stateful: true,
        backup_ref: backupRef,
        stateful_confirm: "BACKUP_DONE_F3",
      });
      expect(codes(run), logs(run)).toEqual({
        "Check out": 0,
        "Set up": 0,
        "Validate manifests": 0,
        Plan: 0,
        "Backup (maintenance)": 0,
        "Gate (scope)": 0,
        Apply: 0,
        Health: 0,
        Smoke: 0,
        "Upload plan and audit log": 0,
      });
      expect(run.summary).toContain("container.state.exited_success");
      expect(run.steps.find((s) => s.name === "Gate (scope)")?.stdout).toContain("stateful-oneshot-exception");
      expect(await state(`${w.project}_minio-init_minio-init`)).toMatchObject({ Status: "exited", ExitCode: 0, OOMKilled: false });
      const plan = await runCli(["plan", "--module", "minio", "--module", "minio-init", "--detailed-exitcode"], w.env);
      expect(plan.code, plan.stdout).toBe(0);
      const intents = (await auditRecords(w)).filter((r) => r.type === "intent");
      expect(intents.at(-1)?.decisions?.map((d) => d.rule)).toEqual(["stateful-oneshot-exception"]);
      expect(logs(run) + run.summary + JSON.stringify(await auditRecords(w))).not.toContain(PASSWORD);
    });

    it("upgrades minio (a config change) with maintenance=true: the run backs up after planning, and the gate and apply take the maintenance lane", async () => {
      const file = path.join(w.modulesDir, "minio", "module.yaml");
      const yaml = await readFile(file, "utf8");
      await writeFile(file, yaml.replace("      environment:\n", '      environment:\n        MINIO_BROWSER: "off"\n'));
      const before = await docker.getContainer(`${w.project}_minio_minio`).inspect();
      const run = await dispatch(w, { module: "minio", allow_stateful: true, maintenance: true, stateful_confirm: "BACKUP_DONE_F3" });
      expect(codes(run), logs(run)).toMatchObject({ "Backup (maintenance)": 0, "Gate (scope)": 0, Apply: 0, Health: 0 });
      expect(run.steps.find((s) => s.name === "Gate (scope)")?.stdout).toContain("stateful-maintenance");
      const after = await docker.getContainer(`${w.project}_minio_minio`).inspect();
      expect(after.Id).not.toBe(before.Id);
      expect(after.Config.Env).toContain("MINIO_BROWSER=off");
      expect(logs(run) + run.summary).not.toContain(PASSWORD);
    });
  });

  it("stops a blocked dispatch (stateful, no confirmation) at the gate with exit 3, before the apply step runs", async () => {
    const w = await workspace("wf-blocked");
    const run = await dispatch(w, { module: "minio", allow_stateful: true, bootstrap: true });
    expect(codes(run), logs(run)).toEqual({
      "Check out": 0,
      "Set up": 0,
      "Validate manifests": 0,
      Plan: 0,
      "Backup (maintenance)": 0,
      "Gate (scope)": 3,
      Apply: "skipped",
      Health: "skipped",
      Smoke: "skipped",
      "Upload plan and audit log": 0,
    });
    expect(run.conclusion).toBe("failure");
    expect(run.steps.find((s) => s.name === "Gate (scope)")?.stdout).toContain("input.confirm_missing");
    expect((await auditRecords(w)).filter((r) => r.type === "intent")).toEqual([]);
    expect(run.uploads[0]?.files).toEqual([
      { path: "plan.json", exists: true },
      { path: path.join(w.stateDir, "audit.jsonl"), exists: false },
    ]);
    const mine = await docker.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${w.project}`] } });
    expect(mine).toEqual([]);
  });
});

describe("platformctl-plan.yml (pull requests)", () => {
  const git = (cwd: string, ...args: string[]) =>
    exec("git", args, {
      cwd,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.org",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.org",
      },
    });

  /** A repository whose base commit holds the quick-start catalog; `change` edits it on a branch and commits. */
  async function aPullRequest(label: string, change: (modulesDir: string) => Promise<void>): Promise<{ w: Workspace; base: string }> {
    const w = await workspace(label);
    await git(w.root, "init", "-q", "-b", "main");
    await git(w.root, "add", "modules");
    await git(w.root, "commit", "-q", "-m", "base");
    const base = (await git(w.root, "rev-parse", "HEAD")).stdout.trim();
    await git(w.root, "checkout", "-q", "-b", "change");
    await change(w.modulesDir);
    await git(w.root, "commit", "-q", "-am", "change");
    return { w, base };
  }

  function check(w: Workspace, base: string, headRepo = "ops/platform"): Promise<WorkflowRun> {
    return runWorkflow(PLAN, {
      cwd: REPO,
      runnerEnv: runnerEnv(shim.dir),
      substitute: SETUP,
      vars: w.vars,
      github: { repository: "ops/platform", event: { pull_request: { base: { sha: base }, head: { repo: { full_name: headRepo } } } } },
    });
  }

  it("lists the changed module and its dependents, puts their plan and gate in the summary, and changes nothing", async () => {
    const { w, base } = await aPullRequest("wf-pr", async (dir) => {
      const file = path.join(dir, "minio/module.yaml");
      await writeFile(file, (await readFile(file, "utf8")).replace("timeout_seconds: 60", "timeout_seconds: 90"));
    });
    const run = await check(w, base);
    expect(codes(run), logs(run)).toEqual({
      "Check out": 0,
      "Set up": 0,
      "Validate manifests": 0,
      "Changed modules": 0,
      "Plan changed modules": 0,
      "Gate without dispatch inputs (information)": 0,
    });
    expect(run.steps.find((s) => s.name === "Changed modules")?.stdout).toBe("minio\nminio-init\n");
    expect(run.summary).toMatch(/minio-init/);
    expect(run.summary).toContain("service.missing");
    expect(run.summary).toContain("Policy gate without dispatch inputs");
    expect(run.summary).toContain("minio (stateful): blocked");
    const mine = await docker.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${w.project}`] } });
    expect(mine).toEqual([]);
    expect(existsSync(path.join(w.stateDir, "audit.jsonl"))).toBe(false);
  });

  it("fails the check when a manifest is invalid, at the validation step", async () => {
    const { w, base } = await aPullRequest("wf-pr-bad", async (dir) => {
      const file = path.join(dir, "web/module.yaml");
      await writeFile(file, (await readFile(file, "utf8")).replace("expected_state: running", "expected_state: up"));
    });
    const run = await check(w, base);
    expect(codes(run), logs(run)).toMatchObject({
      "Validate manifests": 1,
      "Changed modules": "skipped",
      "Plan changed modules": "skipped",
    });
    expect(run.conclusion).toBe("failure");
    expect(run.steps.find((s) => s.name === "Validate manifests")?.stdout).toContain("expected_state");
  });

  it("does not run for a pull request from a fork (the runner reaches the engine)", async () => {
    const { w, base } = await aPullRequest("wf-pr-fork", async (dir) => {
      const file = path.join(dir, "web/module.yaml");
      await writeFile(file, `${await readFile(file, "utf8")}# fork\n`);
    });
    const run = await check(w, base, "someone/platform");
    expect(run).toMatchObject({ conclusion: "skipped", steps: [] });
  });
});
