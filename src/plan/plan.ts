// The plan format (version 1): drift kinds, action types and the Plan value. docs/plan-format.md and schema/plan.schema.json are checked against these.

/**
 * The closed set of drift kinds, each with its meaning. Adding a kind is a format change: the policy gate and the
 * docs match on these strings.
 */
export const DRIFT_KINDS = {
  "service.missing": "No container exists for a declared service.",
  "image.changed": "The container runs a different image reference than the manifest declares.",
  "image.updated": "Same image reference, but it now resolves to a different local image id than the container runs.",
  "config.changed": "The container's spec hash differs from the manifest's; `detail.fields` lists the changed fields (environment key names only, never values).",
  "container.state.not_running": "A `running`/`healthy` service whose container is not running (created, exited, dead, paused, restarting).",
  "container.state.unhealthy": "A `healthy` service whose healthcheck reports unhealthy.",
  "container.state.exited_success": "A one-shot (`exited-success`) whose container is not strictly exited 0: never started, running, exited non-zero, killed, OOM-killed or failed to start.",
  "container.duplicate": "More than one container carries the labels of one service.",
  "container.orphaned": "A container with this project's label whose module or service is no longer declared.",
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

/** Facts shown for a drift item; plain JSON values, never an environment value. */
export type Facts = Record<string, string | number | boolean | null | string[]>;

export interface Drift {
  kind: DriftKind;
  service: string;
  /** The container the drift is about, when there is one. */
  container: string | null;
  observed: Facts;
  expected: Facts;
  /** Extra detail, e.g. `{ fields: ["command", "environment.MINIO_ROOT_USER"] }`. */
  detail: Facts;
}

export interface Action {
  type: ActionType;
  service: string;
  /** The container acted on, when one exists already. */
  container: string | null;
  /** Why: the drift kind (or `health.starting` for a wait) that caused it. */
  cause: DriftKind | "health.starting";
}

export interface ModulePlan {
  name: string;
  /** False for a module that is no longer declared (only orphans remain). */
  declared: boolean;
  stateful: boolean;
  expected_state: string | null;
  in_sync: boolean;
  drift: Drift[];
  actions: Action[];
  /** Things worth knowing that are not drift, e.g. an image missing locally. */
  warnings: string[];
}

/**
 * A plan: desired modules compared with what was observed, as data. Deterministic: the same inputs (including
 * `generated_at`) give byte-identical JSON. `fingerprint` covers everything the plan was computed from except
 * the time, so apply can refuse a saved plan once the state moved on.
 */
export interface Plan {
  format_version: typeof PLAN_FORMAT_VERSION;
  project: string;
  generated_at: string;
  fingerprint: string;
  /** Modules in dependency order. */
  modules: ModulePlan[];
  summary: { modules: number; in_sync: number; drifted: number };
}
