// Property tests of the policy gate (fast-check, fixed seed): safety invariants, order independence, monotonicity, redaction, and agreement with an independent reference model.
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { evaluatePolicy } from "../../src/policy/evaluate-policy.js";
import type { Decision, PolicyInput } from "../../src/policy/policy.js";
import { extraDriftArb, policyInputArb } from "./policy-arbitraries.js";
import { anActionFor } from "./policy-data.js";
import { referenceBackupValid, referenceEligible, referenceStateful, referenceTrueBootstrap } from "./reference-model.js";

/** Fixed so a run is reproducible; fast-check prints it (with the shrink path) on failure. Override to explore. */
const SEED = Number(process.env.PLATFORMCTL_FC_SEED ?? 379_310);
const RUNS = Number(process.env.PLATFORMCTL_FC_RUNS ?? 2_000);
const params = { seed: SEED, numRuns: RUNS, verbose: 1 } as const;

/** Cases executed per property, and decisions seen, so the suite can show it exercised both outcomes of every rule. */
const ran = new Map<string, number>();
const seen = new Map<string, number>();
const count = (property: string) => ran.set(property, (ran.get(property) ?? 0) + 1);
const observe = (d: Decision) => {
  const key = `${d.stateful ? "stateful" : "stateless"}:${d.rule}`;
  seen.set(key, (seen.get(key) ?? 0) + 1);
};

const withInputs = (x: PolicyInput, over: Partial<PolicyInput["inputs"]>): PolicyInput => ({ ...x, inputs: { ...x.inputs, ...over } });
const EXITED_SUCCESS = "container.state.exited_success";
const MAINTENANCE_KINDS: string[] = ["image.changed", "config.changed", "service.missing", "module.stateful_removed"];

describe("evaluatePolicy properties", () => {
  it("eligible stateful with actions ⇒ allow_stateful ∧ confirm === token ∧ (valid backup ∨ true bootstrap)", () => {
    fc.assert(
      fc.property(policyInputArb, (x) => {
        count("safety");
        const d = evaluatePolicy(x);
        observe(d);
        if (!(d.stateful && d.eligible) || x.plan.actions.length === 0) return;
        expect(x.inputs.allowStateful).toBe(true);
        expect(x.inputs.confirm).toBe(x.confirmToken);
        expect(referenceBackupValid(x) || referenceTrueBootstrap(x)).toBe(true);
        if (x.inputs.maintenance) expect(x.savedPlan).toBeDefined();
        if (d.rule === "stateful-maintenance") {
          expect(Date.parse(x.backup?.catalogEntry?.createdAt ?? "")).toBeGreaterThan(Date.parse(x.savedPlan?.generatedAt ?? ""));
        }
      }),
      params,
    );
  });

  it("eligible stateful with drift ⇒ only exited_success on one-shot services, a bootstrap with only service.missing, or the maintenance lane's kinds with --maintenance", () => {
    fc.assert(
      fc.property(policyInputArb, (x) => {
        count("narrow-exception");
        const d = evaluatePolicy(x);
        if (!(d.stateful && d.eligible) || x.plan.drift.length === 0 || x.plan.actions.length === 0) return;
        const oneShot = new Set(x.module.services.filter((s) => s.expectedState === "exited-success").map((s) => s.name));
        const exception = x.plan.drift.every((i) => i.kind === EXITED_SUCCESS && oneShot.has(i.service));
        const bootstrap = d.rule === "bootstrap" && referenceTrueBootstrap(x) && x.plan.drift.every((i) => i.kind === "service.missing");
        const maintenance =
          d.rule === "stateful-maintenance" &&
          x.inputs.maintenance === true &&
          x.plan.drift.every((i) => (i.kind === EXITED_SUCCESS && oneShot.has(i.service)) || MAINTENANCE_KINDS.includes(i.kind));
        expect(exception || bootstrap || maintenance).toBe(true);
        expect(d.rule).toBe(
          x.inputs.bootstrap ? "bootstrap" : x.inputs.maintenance ? "stateful-maintenance" : "stateful-oneshot-exception",
        );
      }),
      params,
    );
  });

  it("a plan without actions is eligible unless it is another module's; with actions, a dependency not ready always blocks", () => {
    fc.assert(
      fc.property(policyInputArb, (x) => {
        count("actions-and-dependencies");
        const d = evaluatePolicy(x);
        if (x.plan.actions.length === 0) {
          expect(d.eligible).toBe(x.plan.name === x.module.name);
          if (d.eligible && d.stateful) expect(d.rule).toBe("nothing-to-apply");
        } else if (x.dependencies.some((dep) => dep.readiness === "not-ready")) {
          expect(d.reasons.map((r) => r.code)).toContain("dependency.not_ready");
        } else {
          expect(d.reasons.map((r) => r.code)).not.toContain("dependency.not_ready");
        }
      }),
      params,
    );
  });

  it("blocked ⇔ at least one reason; eligible decisions allow every drift item exactly once, blocked ones none", () => {
    fc.assert(
      fc.property(policyInputArb, (x) => {
        count("shape");
        const d = evaluatePolicy(x);
        expect(d.eligible).toBe(d.reasons.length === 0);
        expect(d.rule === "blocked").toBe(!d.eligible);
        const pairs = [...new Set(x.plan.drift.map((i) => `${i.kind} ${i.service}`))].sort();
        expect(d.allowed_drift.map((a) => `${a.kind} ${a.service}`).sort()).toEqual(d.eligible ? pairs : []);
        expect(d.drift_kinds).toEqual([...new Set(x.plan.drift.map((i) => i.kind))].sort());
        const keys = d.reasons.map((r) => `${r.code}\u0000${r.message}`);
        expect(keys).toEqual([...keys].sort());
      }),
      params,
    );
  });

  it("is deterministic and independent of the order and repetition of drift items", () => {
    const arb = policyInputArb.chain((x) =>
      fc.tuple(
        fc.constant(x),
        fc.shuffledSubarray(x.plan.drift, { minLength: x.plan.drift.length, maxLength: x.plan.drift.length }),
        fc.subarray(x.plan.drift),
      ),
    );
    fc.assert(
      fc.property(arb, ([x, shuffled, repeated]) => {
        count("order-and-duplicates");
        const d = evaluatePolicy(x);
        expect(evaluatePolicy(x)).toEqual(d);
        const drift = [...shuffled, ...repeated];
        expect(evaluatePolicy({ ...x, plan: { ...x.plan, drift } })).toEqual(d);
      }),
      params,
    );
  });

  it("never shows the confirmation given or the configured token in a reason message", () => {
    fc.assert(
      fc.property(policyInputArb, (x) => {
        count("no-echo");
        const d = evaluatePolicy(x);
        for (const r of d.reasons) {
          expect(r.message.includes(x.confirmToken)).toBe(false);
          if (x.inputs.confirm) expect(r.message.includes(x.inputs.confirm)).toBe(false);
        }
      }),
      params,
    );
  });

  it("is monotonic: adding a drift item (with or without its action), a dependency not ready, or removing an input never turns blocked into eligible", () => {
    const arb = policyInputArb.chain((x) => fc.tuple(fc.constant(x), extraDriftArb(x.module)));
    fc.assert(
      fc.property(arb, ([x, extra]) => {
        count("monotonic");
        if (evaluatePolicy(x).eligible) return;
        const variants: PolicyInput[] = [
          { ...x, plan: { ...x.plan, drift: [...x.plan.drift, extra], in_sync: false } },
          {
            ...x,
            plan: { ...x.plan, drift: [...x.plan.drift, extra], actions: [...x.plan.actions, ...anActionFor(extra)], in_sync: false },
          },
          { ...x, dependencies: [...x.dependencies, { module: "dep-z", readiness: "not-ready", problems: ["dep-z: service.missing"] }] },
          withInputs(x, { allowStateful: false }),
          { ...withInputs(x, { backupRef: undefined }), backup: undefined },
          withInputs(x, { confirm: undefined }),
          { ...x, savedPlan: undefined },
        ];
        for (const v of variants) expect(evaluatePolicy(v).eligible).toBe(false);
      }),
      params,
    );
  });

  it("judges a module stateful exactly when its manifest or plan says so, or it writes a volume a stateful module owns", () => {
    let foreignGuarded = 0;
    fc.assert(
      fc.property(policyInputArb, (x) => {
        count("volume-ownership");
        const d = evaluatePolicy(x);
        expect(d.stateful).toBe(referenceStateful(x));
        if (d.stateful && !x.module.stateful && !x.plan.stateful) {
          foreignGuarded += 1;
          // Guarded by the owner's gate: a plan with actions is never eligible without the three inputs (one without
          // actions is nothing-to-apply).
          if (!d.eligible) expect(d.reasons.map((r) => r.code)).toContain("volume.foreign_stateful");
          else if (x.plan.actions.length > 0) expect(x.inputs.allowStateful && x.inputs.confirm === x.confirmToken).toBe(true);
          else expect(d.rule).toBe("nothing-to-apply");
        }
      }),
      params,
    );
    // Positive control: the generator does produce stateless writers of a stateful module's volume.
    if (RUNS >= 2_000) expect(foreignGuarded).toBeGreaterThanOrEqual(20);
  });

  it("agrees with the independent reference model on every generated input", () => {
    const disagreements: PolicyInput[] = [];
    fc.assert(
      fc.property(policyInputArb, (x) => {
        count("reference-model");
        const d = evaluatePolicy(x);
        observe(d);
        const ok = d.eligible === referenceEligible(x);
        if (!ok) disagreements.push(x);
        return ok;
      }),
      { ...params, numRuns: RUNS * 3 },
    );
    expect(disagreements).toEqual([]);
  });
});

afterAll(() => {
  const total = [...ran.values()].reduce((a, b) => a + b, 0);
  console.info(
    `policy properties: seed ${SEED}, ${total} cases`,
    Object.fromEntries(ran),
    "decisions seen:",
    Object.fromEntries([...seen].sort()),
  );
  // Positive controls: a gate that always blocks (or always allows) must fail here, not pass silently.
  if (RUNS >= 2_000) {
    expect(total).toBeGreaterThanOrEqual(10_000);
    for (const rule of [
      "stateless:stateless",
      "stateful:nothing-to-apply",
      "stateful:stateful-noop",
      "stateful:stateful-oneshot-exception",
      "stateful:stateful-maintenance",
      "stateful:bootstrap",
      "stateful:blocked",
    ]) {
      expect(seen.get(rule) ?? 0, `decisions with ${rule}`).toBeGreaterThanOrEqual(20);
    }
  }
});
