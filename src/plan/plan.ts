// The plan format (version 1): the Plan schema (over the vocabulary in plan-vocabulary.ts) from which its types and schema/plan.schema.json derive.
import { z } from "zod";
import { ACTION_TYPES, type ActionType, DRIFT_KINDS, type DriftKind, PLAN_FORMAT_VERSION } from "./plan-vocabulary.js";

export { ACTION_TYPES, DRIFT_KINDS, PLAN_FORMAT_VERSION, type ActionType, type DriftKind } from "./plan-vocabulary.js";

const FactValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);
/** Facts shown for a drift item; plain JSON values, never an environment value. */
const FactsSchema = z.record(z.string(), FactValue);
export type Facts = z.infer<typeof FactsSchema>;

const driftKinds = Object.keys(DRIFT_KINDS) as [DriftKind, ...DriftKind[]];
const actionTypes = Object.keys(ACTION_TYPES) as [ActionType, ...ActionType[]];

export const DriftSchema = z.strictObject({
  kind: z.enum(driftKinds).describe("One of the closed drift kinds (docs/plan-format.md)."),
  service: z.string().describe("The service the drift is about."),
  container: z.string().nullable().describe("The container the drift is about, when there is one."),
  observed: FactsSchema.describe("Observed facts, e.g. status, exit_code, oom_killed."),
  expected: FactsSchema.describe("Expected facts."),
  detail: FactsSchema.describe("Extra detail, e.g. fields: [command, environment.KEY] for config.changed."),
});
export type Drift = z.infer<typeof DriftSchema>;

export const ActionSchema = z.strictObject({
  type: z.enum(actionTypes).describe("What apply will do."),
  service: z.string(),
  container: z.string().nullable().describe("The container acted on (for create: null)."),
  cause: z
    .union([z.enum(driftKinds), z.literal("health.starting"), z.literal("rerun")])
    .describe("The drift kind that caused the action; `rerun` for a deliberate re-run of an in-sync one-shot (apply --rerun)."),
});
export type Action = z.infer<typeof ActionSchema>;

export const ModulePlanSchema = z.strictObject({
  name: z.string(),
  declared: z.boolean().describe("False for a module that is no longer declared (only orphans remain)."),
  stateful: z.boolean(),
  expected_state: z.string().nullable(),
  in_sync: z.boolean().describe("True when the module has no drift."),
  drift: z.array(DriftSchema),
  actions: z.array(ActionSchema),
  warnings: z.array(z.string()).describe("Things worth knowing that are not drift, e.g. an image missing locally."),
});
export type ModulePlan = z.infer<typeof ModulePlanSchema>;

/**
 * A plan: desired modules compared with what was observed, as data. Deterministic: the same inputs (including
 * `generated_at`) give byte-identical JSON. `fingerprint` covers everything the plan was computed from except
 * the time, so apply can refuse a saved plan once the state moved on.
 */
export const PlanSchema = z.strictObject({
  format_version: z.literal(PLAN_FORMAT_VERSION),
  project: z.string(),
  generated_at: z.string().describe("ISO 8601 time the plan was made."),
  fingerprint: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .describe("Digest of manifests and observed state the plan was computed from."),
  modules: z.array(ModulePlanSchema).describe("Modules in dependency order; undeclared modules last."),
  summary: z.strictObject({ modules: z.number().int(), in_sync: z.number().int(), drifted: z.number().int() }),
});
export type Plan = z.infer<typeof PlanSchema>;
