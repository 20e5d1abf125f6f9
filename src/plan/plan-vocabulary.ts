// The plan format's closed vocabulary (drift kinds, action types, format version), free of zod so planning never loads the schema library.
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
