// The single place where the policy decision is enforced: only an approved module plan can reach the executor.
import type { Decision } from "../policy/policy.js";
import type { ModulePlan } from "../plan/plan.js";
import { InternalError, PlatformError } from "../errors.js";

const APPROVAL = Symbol("platformctl.approval");

/**
 * A module plan that passed the policy gate. The brand can only be set by `approve`, and `executeModule` accepts
 * nothing else and checks the brand again at run time, so no engine mutation happens without an eligible decision.
 */
export type ApprovedModulePlan = ModulePlan & { readonly [APPROVAL]: Decision };

export class PolicyBlockedError extends PlatformError {
  readonly decision: Decision;
  /** `what` names the blocked command (`apply`, `restore`); the hint follows it. */
  constructor(decision: Decision, what = "apply") {
    super("policy.blocked", `${what} of ${decision.module} is blocked by policy: ${decision.reasons.map((r) => r.code).join(", ")}`, {
      detail: decision.reasons.map((r) => `- ${r.code}: ${r.message}`).join("\n"),
      hint:
        what === "apply"
          ? "Run `platformctl scope --module <m> ...` to see what the apply needs (docs/policy.md)."
          : "Each reason names the input or backup to fix (docs/policy.md#restore, runbooks/restore-stateful-module.md).",
    });
    this.decision = decision;
  }
}

/**
 * Approves a module plan for execution, or throws PolicyBlockedError (exit 3) when the decision is not eligible.
 * The brand is not enumerable, so a spread copy (`{ ...approved, actions }`) does not carry it, and the approved
 * actions are a frozen copy: what executes is exactly what was judged.
 */
export function approve(plan: ModulePlan, decision: Decision): ApprovedModulePlan {
  if (decision.module !== plan.name) throw new InternalError(`policy decision for ${decision.module} applied to plan of ${plan.name}`);
  if (!decision.eligible || decision.reasons.length > 0) throw new PolicyBlockedError(decision);
  const approved = { ...plan, actions: Object.freeze(plan.actions.map((a) => Object.freeze({ ...a }))) as ModulePlan["actions"] };
  Object.defineProperty(approved, APPROVAL, { value: decision, enumerable: false });
  return Object.freeze(approved) as ApprovedModulePlan;
}

/** The run-time half of the guarantee: refuses anything that did not come out of `approve`. */
export function assertApproved(plan: ModulePlan): asserts plan is ApprovedModulePlan {
  const d = (plan as Partial<ApprovedModulePlan>)[APPROVAL];
  if (!d?.eligible || d.module !== plan.name) throw new InternalError(`refusing to execute an unapproved plan for ${plan.name}`);
}

export function decisionOf(plan: ApprovedModulePlan): Decision {
  return plan[APPROVAL];
}
