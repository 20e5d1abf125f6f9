// Scenario helpers for apply tests: a catalog and STATE_DIR per scenario, the built CLI run or spawned, and read-backs
// of what apply left (containers by inspect, the audit file, the lock file) that do not go through the code under test.
import Docker from "dockerode";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect } from "vitest";
import type { AuditRecord } from "../../src/state/audit.js";
import type { Plan } from "../../src/plan/plan.js";
import { aCatalog, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { type CliResult, runCli, type SpawnedCli, spawnCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

/** A `${VAR}` value that must never show up anywhere platformctl writes. */
export const CANARY = "apply-canary-N4v8Qm2Lp";

/** A one-shot module; `command` is a YAML flow sequence. Stop grace is 1 s so a timed-out run ends quickly. */
export function oneShot(name: string, command: string, opts: { more?: string; stateful?: boolean; dependsOn?: string[] } = {}): string {
  return manifest(name, {
    expected: "exited-success",
    stateful: opts.stateful,
    dependsOn: opts.dependsOn,
    services: `    ${name}:\n      image: ${TEST_IMAGE}\n      command: ${command}\n      restart: "no"\n      stop_grace_period: 1s\n${opts.more ?? ""}`,
  });
}

/** A long-running service module. */
export function aService(name: string, command = '["sleep", "100000"]', opts: { dependsOn?: string[] } = {}): string {
  return manifest(name, {
    dependsOn: opts.dependsOn,
    services: `    ${name}:\n      image: ${TEST_IMAGE}\n      command: ${command}\n      restart: "no"\n      stop_grace_period: 1s\n`,
  });
}

export interface Scenario {
  project: string;
  stateDir: string;
  /** The catalog directory (`--modules-dir`). */
  dir: string;
  /** Environment every CLI call of this scenario gets. */
  env: Record<string, string>;
  write(module: string, yaml: string): Promise<void>;
  /** Runs `platformctl <command> --project P --modules-dir D ...args` with STATE_DIR and the canary set. */
  run(command: string, args?: string[], env?: Record<string, string>): Promise<CliResult>;
  apply(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Starts `apply` as a child process (for signals); `done` settles when it exits. */
  spawnApply(args: string[], env?: Record<string, string>): SpawnedCli;
  plan(args?: string[]): Promise<Plan>;
  audit(): Promise<AuditRecord[]>;
  auditText(): Promise<string>;
  lockExists(): Promise<boolean>;
  /** Every container of the project, inspected, on `docker` (default: the test engine). */
  containers(docker?: Docker): Promise<Docker.ContainerInspectInfo[]>;
  container(module: string, service?: string, docker?: Docker): Promise<Docker.ContainerInspectInfo>;
  remove(): Promise<void>;
}

export const docker = new Docker();

/** A fresh project (named by testProject, so the global teardown removes its containers), catalog and STATE_DIR. */
export async function aScenario(label: string, modules: Record<string, string> = {}): Promise<Scenario> {
  const project = testProject(label);
  const catalog = await aCatalog();
  const root = await mkdtemp(path.join(tmpdir(), "platformctl-apply-"));
  const stateDir = path.join(root, "state");
  for (const [name, yaml] of Object.entries(modules)) await catalog.write(name, yaml);
  const env = { STATE_DIR: stateDir, APPLY_CANARY: CANARY, PLATFORMCTL_LOG_LEVEL: "warn" };
  const argv = (command: string, args: string[]) => [command, "--project", project, "--modules-dir", catalog.dir, ...args];
  const s: Scenario = {
    project,
    stateDir,
    dir: catalog.dir,
    env,
    write: catalog.write,
    run: (command, args = [], more = {}) => runCli(argv(command, args), { ...env, ...more }),
    apply: (args, more = {}) => runCli(argv("apply", args), { ...env, ...more }),
    spawnApply: (args, more = {}) => spawnCli(argv("apply", args), { ...env, ...more }),
    async plan(args = []) {
      const r = await runCli(argv("plan", ["--json", ...args]), env);
      if (r.code !== 0) throw new Error(`plan exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as Plan;
    },
    audit: () => readAuditFile(stateDir),
    auditText: () => readFile(path.join(stateDir, "audit.jsonl"), "utf8").catch(() => ""),
    lockExists: () =>
      stat(path.join(stateDir, `apply-${project}.lock`)).then(
        () => true,
        () => false,
      ),
    containers: (d = docker) => projectContainers(d, project),
    async container(module, service = module, d = docker) {
      return d.getContainer(`${project}_${module}_${service}`).inspect();
    },
    async remove() {
      await catalog.remove();
      await rm(root, { recursive: true, force: true });
    },
  };
  return s;
}

export async function projectContainers(d: Docker, project: string): Promise<Docker.ContainerInspectInfo[]> {
  const list = await d.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${project}`] } });
  return Promise.all(list.map((c) => d.getContainer(c.Id).inspect()));
}

/** Parses the audit file strictly: every line but a deliberately torn one must be a record. */
export async function readAuditFile(stateDir: string): Promise<AuditRecord[]> {
  const text = await readFile(path.join(stateDir, "audit.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as AuditRecord);
}

type Intent = Extract<AuditRecord, { type: "intent" }>;
type Result = Extract<AuditRecord, { type: "result" }>;

/** The apply runs recorded, in order: each intent with its result (undefined when the run left only an intent). */
export function auditRuns(records: readonly AuditRecord[]): { intent: Intent; result: Result | undefined }[] {
  const results = records.filter((r): r is Result => r.type === "result");
  return records
    .filter((r): r is Intent => r.type === "intent")
    .map((intent) => {
      const mine = results.filter((r) => r.id === intent.id);
      expect(mine.length, `intent ${intent.id} has at most one result`).toBeLessThanOrEqual(1);
      return { intent, result: mine[0] };
    });
}

/** Asserts the audit holds exactly the given outcomes, one intent + result each, in order; returns the runs. */
export function expectAuditOutcomes(records: readonly AuditRecord[], outcomes: Result["outcome"][]): { intent: Intent; result: Result }[] {
  const runs = auditRuns(records);
  expect(runs.map((r) => r.result?.outcome ?? "no result")).toEqual(outcomes);
  return runs as { intent: Intent; result: Result }[];
}

/** Every string platformctl produced in a scenario must be free of the canary. */
export function expectNoCanary(...texts: string[]): void {
  for (const t of texts) expect(t).not.toContain(CANARY);
}

/** Returns a scenario factory whose scenarios are removed after each test of the calling file. */
export function useScenarios(): (label: string, modules: Record<string, string>) => Promise<Scenario> {
  const live: Scenario[] = [];
  afterEach(async () => {
    for (const s of live.splice(0)) await s.remove();
  });
  return async (label, modules) => {
    const s = await aScenario(label, modules);
    live.push(s);
    return s;
  };
}
