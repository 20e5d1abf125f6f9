// The maintenance lane as advice: which blocked decisions it fits, and the commands it writes out.
import { describe, expect, it } from "vitest";
import { evaluatePolicy } from "../../src/policy/evaluate-policy.js";
import { maintenanceLaneCommands, maintenanceLaneFits } from "../../src/policy/maintenance-advice.js";
import { aDrift, aModulePlan, aPolicyInput, aStartingWait, goodInputs, minio } from "./policy-data.js";

describe("maintenance advice", () => {
  it("fits a stateful plan blocked only by image, config or missing-container drift", () => {
    for (const kind of ["image.changed", "config.changed", "service.missing"] as const) {
      const d = evaluatePolicy(aPolicyInput(minio, [aDrift(kind, "minio")]));
      expect(d.eligible).toBe(false);
      expect(maintenanceLaneFits(d.reasons)).toBe(true);
    }
  });

  it("does not fit drift the lane refuses too, or a block that is only about inputs", () => {
    const stopped = evaluatePolicy(aPolicyInput(minio, [aDrift("container.state.not_running", "minio"), aDrift("image.changed", "minio")]));
    expect(maintenanceLaneFits(stopped.reasons)).toBe(false);
    const waiting = aModulePlan(minio, [], { actions: [aStartingWait("minio")] });
    const noInputs = evaluatePolicy(aPolicyInput(minio, [], { inputs: goodInputs({ allowStateful: false }), plan: waiting }));
    expect(noInputs.reasons.map((r) => r.code)).toEqual(["input.allow_stateful_missing"]);
    expect(maintenanceLaneFits(noInputs.reasons)).toBe(false);
  });

  it("fits --maintenance given without a saved plan", () => {
    const d = evaluatePolicy(aPolicyInput(minio, [aDrift("image.changed", "minio")], { inputs: goodInputs({ maintenance: true }) }));
    expect(d.reasons.map((r) => r.code)).toContain("maintenance.plan_required");
    expect(maintenanceLaneFits(d.reasons)).toBe(true);
  });

  it("writes the lane out in order: plan --out, backup, apply --plan --maintenance with the F3 inputs", () => {
    expect(maintenanceLaneCommands("pg")).toEqual([
      "platformctl plan --module pg --out plan.json",
      "platformctl backup pg",
      "platformctl apply --module pg --plan plan.json --maintenance --allow-stateful --backup-ref <backup file> --confirm <token>",
    ]);
  });
});
