// What the engine adapter observed, as plain data: the planner's second input. Never holds an environment value.

export type ContainerStatus = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

/** One container carrying this project's label, with the facts the planner and health checks need. */
export interface ObservedContainer {
  id: string;
  name: string;
  module: string;
  service: string;
  labels: Record<string, string>;
  /** `dev.platformctl.spec-hash` label written at create time (`v1:<sha256>`), if any. */
  specHash: string | undefined;
  /** `dev.platformctl.image-ref` label: the image reference as written in the manifest at create time. */
  imageRef: string | undefined;
  /** `Config.Image` as the engine reports it. */
  configImage: string;
  /** The image id the container runs. */
  imageId: string;
  status: ContainerStatus;
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
  /** `State.Error`: set when a start failed. */
  error: string;
  /** ISO timestamps; undefined for Docker's zero time (never started / never finished). */
  startedAt: string | undefined;
  finishedAt: string | undefined;
  health: "starting" | "healthy" | "unhealthy" | undefined;
  /** The last healthcheck probes (redacted by whoever shows them). */
  healthLog: { exitCode: number; output: string }[];
  restartCount: number;
  createdAt: string;
}

/** Everything observed for one project in one pass. */
export interface ObservedState {
  project: string;
  /** Sorted by module, service, name. */
  containers: ObservedContainer[];
  /** Image reference -> local image id; null when the image is not present locally. */
  images: Record<string, string | null>;
  volumes: { name: string; module: string | undefined }[];
  networks: { name: string }[];
}
