// The plan format (version 1): drift kinds, action types and the Plan schema from which its types and schema/plan.schema.json derive.
import { z } from "zod";

/**
 * The closed set of drift kinds, each with its meaning. Adding a kind is a format change: the policy gate and the
 * docs match on these strings.
 */
export const DRIFT_KINDS = {
  "service.missing": "No container exists for a declared service.",
  "image.changed": "The container runs a different image reference than the manifest declares.",
  "image.updated": "Same image reference, but it now resolves to a different local image id than the container runs.",
  "config.changed":
    "The container's spec hash differs from the manifest's; `detail.fields` lists the changed fields (environment key names only, never values). For a container adopted from Docker Compose the fields come from comparing the inspected container (`detail.compared`).",
  "container.state.not_running":
    "A `running`/`healthy` service whose container is not running (created, exited, dead, paused, restarting).",
  "container.state.unhealthy": "A `healthy` service whose healthcheck reports unhealthy.",
  "container.state.exited_success":
    "A one-shot (`exited-success`) whose container is not strictly exited 0: never started, running, exited non-zero, killed, OOM-killed or failed to start.",
  "container.duplicate": "More than one container carries the labels of one service.",
  "container.orphaned": "A container with this project's label whose module or service is no longer declared.",
  "module.stateful_removed":
    "The manifest says `stateful: false`, but a live container or volume of the module carries `dev.platformctl.stateful=true`: the module is still judged stateful (the ratchet) and its changes need the maintenance lane.",
} as const;

export type DriftKind = keyof typeof DRIFT_KINDS;

/**
 * Action types. `create` makes a container (not started); `recreate` creates the replacement and only then removes
 * the old one; `start` starts a long-running service; `run-once` starts a one-shot and waits for exit 0; `wait`
 * waits for something already in progress (never a second start); `remove` removes a container (orphans and
 * duplicates, only with --prune).
 */
export const ACTION_TYPES = {
  create: "Create the container (labelled, not yet started).",
  recreate: "Create the replacement container, then remove the old one.",
  start: "Start a long-running service and wait until it is running (or healthy).",
  "run-once": "Start a one-shot, wait for its exit, and require exit 0.",
  wait: "Wait for a one-shot already running, or a healthcheck still starting; never start it again.",
  remove: "Remove an orphaned or duplicate container (only with --prune).",
} as const;

export type ActionType = keyof typeof ACTION_TYPES;

export const PLAN_FORMAT_VERSION = "1";

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
