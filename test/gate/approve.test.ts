// The single policy enforcement point: only a plan that passed `approve` reaches the executor, checked at run time,
// and on the real engine a stateful module without gate inputs is refused before anything is created.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approve, assertApproved, PolicyBlockedError, type ApprovedModulePlan } from "../../src/gate/approve.js";
import { executeModule, type ExecuteContext } from "../../src/apply/execute-module.js";
import type { LockHandle } from "../../src/state/lock.js";
import { loadModules } from "../../src/catalog/load-modules.js";
import { unitName } from "../../src/plan/unit-name.js";
import { openRuntime } from "../../src/runtime/open-runtime.js";
import { EXIT, exitCodeFor, InternalError } from "../../src/errors.js";
import type { Module } from "../../src/manifest/module.js";
import { computePlan } from "../../src/plan/compute-plan.js";
import type { ModulePlan } from "../../src/plan/plan.js";
import { evaluatePolicy } from "../../src/policy/evaluate-policy.js";
import { DEFAULT_CONFIRM_TOKEN, type Decision } from "../../src/policy/policy.js";
import { aCatalog } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { aScenario, docker, expectAuditOutcomes, oneShot, projectContainers } from "../apply/apply-scenario.js";

const runtime = await openRuntime(process.env);
let catalog: Awaited<ReturnType<typeof aCatalog>>;
let modules: Module[];

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("job", oneShot("job", '["true"]'));
  await catalog.write("vault", oneShot("vault", '["true"]', { stateful: true }));
  const loaded = await loadModules(catalog.dir);
  expect(loaded.valid).toBe(true);
  modules = loaded.modules;
});
afterAll(() => catalog.remove());

/** The plan of one module against a project with no containers: create + run-once. */
function planOf(project: string, name: string): ModulePlan {
  const plan = computePlan({
    project,
    catalog: modules,
    selected: [name],
    observed: { project, containers: [], images: {}, volumes: [], networks: [] },
    now: "2026-01-01T00:00:00Z",
    containerName: (m, s) => unitName(project, m, s),
  });
  return plan.modules[0] as ModulePlan;
}

function decisionFor(name: string, plan: ModulePlan): Decision {
  return evaluatePolicy({
    module: modules.find((m) => m.name === name) as Module,
    catalog: modules,
    plan,
    inputs: { allowStateful: false, backupRef: undefined, confirm: undefined, bootstrap: false },
    backup: undefined,
    bootstrap: { containersExist: false, volumesExist: false, auditRecordsApply: false },
    dependencies: [],
    now: "2026-01-01T00:00:00Z",
    confirmToken: DEFAULT_CONFIRM_TOKEN,
    maxBackupAgeSeconds: 86_400,
  });
}

function contextFor(project: string, name: string): ExecuteContext {
  const lock: LockHandle = {
    holder: {} as LockHandle["holder"],
    tookOverFrom: undefined,
    setOneShot: async () => undefined,
    release: async () => undefined,
  };
  return {
    runtime,
    project,
    module: modules.find((m) => m.name === name) as Module,
    env: {},
    digestKey: new Uint8Array(32),
    timeoutSeconds: 10,
    signal: new AbortController().signal,
    log: pino({ level: "silent" }),
    lock,
    progress: () => undefined,
    rollbackAudit: { intent: async () => undefined, result: async () => undefined },
    secrets: new Set(),
  };
}

describe("approve and executeModule", () => {
  it("executeModule refuses a plain module plan that never went through approve, before any engine call", async () => {
    const project = testProject("unapproved");
    const plan = planOf(project, "job");
    expect(plan.actions.map((a) => a.type)).toEqual(["create", "run-once"]);
    const done: unknown[] = [];
    await expect(executeModule(contextFor(project, "job"), plan as ApprovedModulePlan, (r) => done.push(r))).rejects.toThrow(InternalError);
    await expect(executeModule(contextFor(project, "job"), plan as ApprovedModulePlan, (r) => done.push(r))).rejects.toThrow(
      "refusing to execute an unapproved plan for job",
    );
    expect(() => assertApproved(plan)).toThrow(InternalError);
    expect(done).toEqual([]);
    expect(await projectContainers(docker, project)).toEqual([]);
  });

  it("refuses a spread copy of an approved plan carrying other actions, and approved actions cannot be changed", async () => {
    const project = testProject("forged");
    const plan = planOf(project, "job");
    const approved = approve(plan, decisionFor("job", plan));
    expect(() => assertApproved(approved)).not.toThrow();
    const forged = {
      ...approved,
      actions: [
        ...approved.actions,
        { type: "remove" as const, service: "job", container: "someone-else", cause: "container.orphaned" as const },
      ],
    };
    await expect(executeModule(contextFor(project, "job"), forged, () => undefined)).rejects.toThrow(InternalError);
    expect(() => (approved.actions as unknown[]).push({})).toThrow(TypeError);
    expect(await projectContainers(docker, project)).toEqual([]);
  });

  it("approve throws a PolicyBlockedError with exit 3 for a blocked decision", () => {
    const plan = planOf(testProject("blocked"), "vault");
    const decision = decisionFor("vault", plan);
    expect(decision.eligible).toBe(false);
    let thrown: unknown;
    try {
      approve(plan, decision);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(PolicyBlockedError);
    expect(exitCodeFor(thrown as PolicyBlockedError)).toBe(EXIT.blocked);
    expect((thrown as PolicyBlockedError).message).toContain("input.allow_stateful_missing");
  });

  it("approve refuses a decision made for another module", () => {
    const plan = planOf(testProject("mismatch"), "job");
    expect(() => approve(plan, { ...decisionFor("job", plan), module: "vault" })).toThrow(InternalError);
  });
});

describe("apply of a stateful module without gate inputs", () => {
  it("exits 3, records the block, and never reaches a mutation: no container exists afterwards", async () => {
    const s = await aScenario("stateful", { vault: oneShot("vault", '["true"]', { stateful: true }) });
    try {
      const r = await s.apply(["--module", "vault"]);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toContain("apply of vault is blocked by policy");
      const json = await s.apply(["--module", "vault", "--json"]);
      expect(json.code).toBe(3);
      expect(JSON.parse(json.stdout)).toMatchObject({ module: "vault", outcome: "blocked", actions: [] });
      expect(await s.containers()).toEqual([]);
      const runs = expectAuditOutcomes(await s.audit(), ["blocked", "blocked"]);
      expect(runs[0]?.intent.decisions).toEqual([expect.objectContaining({ module: "vault", eligible: false })]);
    } finally {
      await s.remove();
    }
  });
});
