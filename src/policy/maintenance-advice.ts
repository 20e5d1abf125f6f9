// The maintenance lane written out as commands: the advice health and scope give for a stateful change the F3 lane refuses.
import type { Reason } from "./policy.js";
import { MAINTENANCE_DRIFT } from "./evaluate-policy.js";

/**
 * The commands that apply an image, configuration or missing-container change to stateful module `module`: a saved
 * plan, a backup made after it, then apply with the plan, --maintenance and the F3 inputs. `<backup file>` is what
 * `platformctl backup` printed; the token stays a placeholder (it is never shown).
 */
export function maintenanceLaneCommands(module: string): string[] {
  return [
    `platformctl plan --module ${module} --out plan.json`,
    `platformctl backup ${module}`,
    `platformctl apply --module ${module} --plan plan.json --maintenance --allow-stateful --backup-ref <backup file> --confirm <token>`,
  ];
}

/**
 * True when the maintenance lane would take what blocked a decision: its drift.not_allowed items are all kinds the
 * lane allows, or the lane was asked for without a saved plan.
 */
export function maintenanceLaneFits(reasons: readonly Reason[]): boolean {
  return reasons.some(
    (r) =>
      r.code === "maintenance.plan_required" ||
      (r.code === "drift.not_allowed" && (r.drift ?? []).length > 0 && (r.drift ?? []).every((d) => MAINTENANCE_DRIFT.has(d.kind))),
  );
}
