// What the engine adapter observed, as plain data: the planner's second input. Never holds an environment value.

/** `State.Status` as the engine derives it (moby `StateString()`). */
export type ContainerStatus = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

export const CONTAINER_STATUSES: readonly ContainerStatus[] = ["created", "running", "paused", "restarting", "removing", "exited", "dead"];

/** `State.Health.Status`; absent when neither the image nor the container defines a healthcheck. */
export type HealthStatus = "starting" | "healthy" | "unhealthy";

/** One healthcheck probe result; `output` is cut by the engine to 4096 bytes plus `...`. */
export interface HealthProbe {
  exitCode: number;
  output: string;
}

/**
 * One container carrying the project label, as inspect reports it.
 *
 * Invariants:
 * - Built only from inspect; list output is used to find containers, never to describe them.
 * - Holds no environment values: `Config.Env` (and every argv, which may hold resolved references) is read only into
 *   keyed digests (`config`), so secrets cannot leak through a plan or its JSON.
 * - Labels are copied as they are; `specHash`, `imageRef`, `module` and `service` are taken from them
 *   (`module`/`service` are `""` when the label is missing, which only a hand-made container can cause).
 */
export interface ObservedContainer {
  id: string;
  /** Container name without the leading `/`. */
  name: string;
  module: string;
  service: string;
  labels: Record<string, string>;
  /** `dev.platformctl.spec-hash`; undefined for a container platformctl did not create. */
  specHash: string | undefined;
  /** `dev.platformctl.image-ref`: the image reference as written in the manifest. */
  imageRef: string | undefined;
  /** `Config.Image`: the reference the container was created from. */
  configImage: string;
  /** The id of the image the container runs (`Image`), e.g. `sha256:…`; compare with `ObservedState.images`. */
  imageId: string;
  status: ContainerStatus;
  /** `State.Running`: also true while paused and while restarting. */
  running: boolean;
  /**
   * Last exit code; 0 while running again after a restart, 127/126/128 after a start error. null when the runtime
   * kept none: a Swarm job platformctl stopped at its timeout (Swarm removes the task, and its exit code, with it).
   * Never read null as 0: that run did not exit 0.
   */
  exitCode: number | null;
  /** Killed by the kernel OOM killer; can be true with exit code 0 or 137. */
  oomKilled: boolean;
  /** `State.Error`: the last start/stop/remove error, `""` when none. */
  error: string;
  /** Undefined for the engine's zero time `0001-01-01T00:00:00Z` (never started). */
  startedAt: string | undefined;
  /** Undefined for the zero time. After restarts it may be earlier than `startedAt`. */
  finishedAt: string | undefined;
  health: HealthStatus | undefined;
  /** The last probes (the engine keeps 5), oldest first; empty without a healthcheck. */
  healthLog: HealthProbe[];
  /** Restarts done by the restart policy since the last manual start. */
  restartCount: number;
  /**
   * `HostConfig.RestartPolicy.Name` (`no`, `always`, `unless-stopped`, `on-failure`; `""` counts as `no`); undefined
   * when the runtime does not say, which must be read as "may restart".
   */
  restartPolicy?: string | undefined;
  createdAt: string;
  /**
   * Set when Docker Compose created the container for a service the catalog owns (its `com.docker.compose.project` and
   * `.service` labels matched an adoption rule): `module`/`service` then come from the rule when the container carries
   * no platformctl labels of its own.
   */
  compose?: { project: string; service: string } | undefined;
  /** The inspected config, digested; observed only for adopted containers (when observation was given a digest key). */
  config?: ObservedConfig | undefined;
  /**
   * Set only by runtimes whose unit runs several tasks (Swarm: a unit is a service): how many it should run, how many
   * run, and the distinct error messages of its tasks that are not running (the scheduler's "no suitable node …", a
   * task's "non-zero exit (3)"). Never holds an environment value: task messages are the runtime's own text.
   */
  tasks?: ObservedTasks | undefined;
  /**
   * Inspect's `Mounts`, when the runtime read them with the rest (Docker does): the mount checks of plan and health
   * use them instead of inspecting every running container once more; absent, they read them on their own.
   */
  mounts?: ObservedMount[] | undefined;
}

/** One mount of a container as inspect reports it: `source` is the host path (a volume's data path for volumes). */
export interface ObservedMount {
  type: string;
  source: string;
  destination: string;
  readOnly: boolean;
  /** `rprivate`, `rshared`, … ("" for volumes). */
  propagation: string;
}

/** The tasks of a multi-task unit (see `ObservedContainer.tasks`). */
export interface ObservedTasks {
  desired: number;
  running: number;
  /** Distinct, sorted; at most 5. */
  errors: string[];
}

/**
 * A container's config as inspect reports it, for comparing an adopted container with its service. Environment
 * values and argv fields are keyed digests (the key lives only for one plan), never values.
 */
export interface ObservedConfig {
  /** `Config.Env` as KEY -> keyed digest of `KEY=value`. */
  env: Record<string, string>;
  /** Keyed digests of `Config.Cmd` / `Config.Entrypoint`; null when empty. */
  command: string | null;
  entrypoint: string | null;
  user: string;
  workingDir: string;
  /** `Config.StopSignal` as written ("" when unset). */
  stopSignal: string;
  /** `HostConfig.RestartPolicy.Name` ("" and "no" both mean no restart). */
  restart: string;
  healthcheck: ObservedHealthcheck | null;
  /** Inspect's `Mounts`: `name` is the volume name ("" for binds), `source` the host path. */
  mounts: { type: string; name: string; source: string; target: string; readOnly: boolean }[];
  /** Names of the networks it is connected to. */
  networks: string[];
  /** `HostConfig.PortBindings` as sorted `portEntry` texts (`hostIp:hostPort:target/protocol`). */
  ports: string[];
  /** `HostConfig.Memory` in bytes; 0 for no limit. */
  memoryBytes: number;
  /** `Config.StopTimeout` in seconds; null when unset (the engine's default applies). */
  stopTimeoutSeconds: number | null;
}

/** A healthcheck as the engine holds it; `test` is a keyed digest (null for none); zero durations mean "the default". */
export interface ObservedHealthcheck {
  test: string | null;
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  retries: number;
}

/** The defaults an image gives a container created from it (what the engine fills in), digested like ObservedConfig. */
export interface ObservedImageConfig {
  env: Record<string, string>;
  command: string | null;
  entrypoint: string | null;
  user: string;
  workingDir: string;
  stopSignal: string;
  healthcheck: ObservedHealthcheck | null;
  /** Targets of the image's VOLUME declarations (the engine mounts an anonymous volume there). */
  volumes: string[];
}

/** A named volume carrying the project label, or a Compose-created volume the catalog adopts (then `module` is its owner). */
export interface ObservedVolume {
  name: string;
  /** `dev.platformctl.module`; undefined for project-wide volumes. */
  module: string | undefined;
  /** The volume carries `dev.platformctl.stateful=true` (created for a stateful module); absent reads as false. */
  stateful?: boolean;
}

/** A network carrying the project label. */
export interface ObservedNetwork {
  name: string;
}

/**
 * Everything one observation found for a project, taken in one pass and never mutated afterwards.
 *
 * Resources without the project label are never included: platformctl does not plan for what it does not own.
 */
export interface ObservedState {
  project: string;
  /** Sorted by module, service, name. */
  containers: ObservedContainer[];
  /** Image reference (as asked for) -> local image id, `null` when the engine has no such image. */
  images: Record<string, string | null>;
  /** Image reference -> its defaults, digested; only when observation was given a digest key and the image exists. */
  imageConfigs?: Record<string, ObservedImageConfig> | undefined;
  /** Sorted by name. */
  volumes: ObservedVolume[];
  /** Sorted by name. */
  networks: ObservedNetwork[];
}
