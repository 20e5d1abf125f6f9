// Pure builder of the Swarm `POST /services/create` body for one service, from the same resolution as a container's.
import { PlatformError } from "../../errors.js";
import type { Module } from "../../manifest/module.js";
import { resourceName } from "../../plan/unit-name.js";
import type { UnitSpec } from "../../runtime/runtime.js";
import { buildContainer } from "../container-body.js";
import { LABEL } from "../labels.js";

/** Labels only the Swarm adapter writes, on the service spec (not on its tasks' containers). */
export const SWARM_LABEL = {
  /** The manager's local id of the image when the service was created: what `image.updated` drift compares with. */
  imageId: "dev.platformctl.image-id",
  /** The tasks the service runs once started (it is created with 0, as a container is created stopped). */
  replicas: "dev.platformctl.replicas",
} as const;

/**
 * The placement constraint that parks a job: no node has this id, so a job updated with it shuts down its running
 * task (verified on 20.10: the task and its container are removed within the stop grace) and places no new one.
 * Swarm has no other way to stop one task of a job: `service rm` leaves a running job task running, orphaned
 * (moby#44312, fixed in Engine 24), and any other update starts a new run. The next run removes it again.
 */
export const PARKED_CONSTRAINT = "node.id==platformctl-parked";

/** A ServiceSpec (Engine API 1.41 field names), the subset platformctl writes. */
export interface ServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Command?: string[];
      Args?: string[];
      Env: string[];
      Labels: Record<string, string>;
      User?: string;
      Dir?: string;
      StopGracePeriod?: number;
      StopSignal?: string;
      Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
      Mounts: {
        Type: "volume" | "bind" | "tmpfs";
        Source?: string;
        Target: string;
        ReadOnly: boolean;
        VolumeOptions?: { Labels: Record<string, string> };
      }[];
    };
    Resources?: { Limits: { MemoryBytes: number } };
    RestartPolicy: { Condition: "none" | "on-failure" | "any"; MaxAttempts?: number };
    Placement: { Constraints: string[] };
    Networks: { Target: string; Aliases: string[] }[];
    ForceUpdate?: number;
  };
  Mode: { Replicated: { Replicas: number } } | { ReplicatedJob: { MaxConcurrent: 1; TotalCompletions: 1 } };
  /**
   * `dnsrr`: a service is reached by its tasks' addresses. The default VIP needs IPVS in every node's kernel, which
   * hosts without loadable modules lack (measured: "No route to host"), and dnsrr works everywhere.
   */
  EndpointSpec: {
    Mode: "dnsrr";
    Ports?: { Protocol: string; TargetPort: number; PublishedPort?: number; PublishMode: "host" }[];
  };
}

export interface BuiltService {
  spec: ServiceSpec;
  /** Overlay networks (full names) the service attaches to: made sure of before the create. */
  networks: string[];
  /** Values resolved from `${VAR}` references and env files: mask them in everything shown. */
  secrets: string[];
  /** The service is a one-shot: a `replicated-job`. */
  job: boolean;
}

/** The constraint kinds that pin every task to one node: a hostname, a node id, or a node label equality. */
const PINNING = /^node\.(hostname|id|labels\.[a-zA-Z0-9_.-]+)\s*==\s*\S+$/;

/** True when one of the module's constraints pins its tasks to one node (as far as the constraint text can say). */
export function isPinned(module: Pick<Module, "placementConstraints">): boolean {
  return (module.placementConstraints ?? []).some((c) => PINNING.test(c));
}

/**
 * Refuses a stateful module that is not pinned: the `local` volume driver creates a volume on whichever node a task
 * lands on, so a rescheduled task would start on an empty volume (data loss). Thrown before anything is changed.
 */
export function assertPinnedIfStateful(module: Module): void {
  if (!module.stateful || isPinned(module)) return;
  throw new PlatformError("swarm.unpinned_stateful", `stateful module ${module.name} is not pinned to one Swarm node`, {
    detail:
      "Its volumes are local to the node a task runs on: a task rescheduled to another node would start on an empty volume. Nothing was changed.",
    hint: `Add spec.placement.constraints to ${module.file}, e.g. ["node.hostname==<node>"] or ["node.labels.<key>==<value>"] (a label only one node carries).`,
  });
}

/** Builds the service create body; the same resolution (and the same errors) as a container's create body. */
export function buildService(spec: UnitSpec, name: string, imageId: string | null): BuiltService {
  const built = buildContainer({ ...spec });
  const { body } = built;
  const s = spec.service;
  const job = s.expectedState === "exited-success";
  const containerLabels = body.Labels;
  const labels: Record<string, string> = { ...containerLabels, [SWARM_LABEL.replicas]: String(job ? 1 : (s.replicas ?? 1)) };
  if (imageId) labels[SWARM_LABEL.imageId] = imageId;
  // The node that runs a task creates its named volumes; these labels mark them as the project's there.
  const volumeLabels: Record<string, string> = { [LABEL.project]: spec.project, [LABEL.module]: spec.module.name };
  if (spec.module.stateful) volumeLabels[LABEL.stateful] = "true";
  const networks = s.networks.map((n) => resourceName(spec.project, n));
  const containerSpec: ServiceSpec["TaskTemplate"]["ContainerSpec"] = {
    Image: body.Image,
    Env: body.Env,
    Labels: containerLabels,
    Mounts: body.HostConfig.Mounts.map((m) =>
      m.Type === "volume" && m.Source !== undefined ? { ...m, VolumeOptions: { Labels: { ...volumeLabels } } } : { ...m },
    ),
  };
  if (body.Entrypoint) containerSpec.Command = body.Entrypoint;
  if (body.Cmd) containerSpec.Args = body.Cmd;
  if (body.User) containerSpec.User = body.User;
  if (body.WorkingDir) containerSpec.Dir = body.WorkingDir;
  if (body.StopTimeout !== undefined) containerSpec.StopGracePeriod = body.StopTimeout * 1e9;
  if (body.StopSignal !== undefined) containerSpec.StopSignal = body.StopSignal;
  if (body.Healthcheck) containerSpec.Healthcheck = body.Healthcheck;
  const out: ServiceSpec = {
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: containerSpec,
      RestartPolicy: { Condition: job ? "none" : restartCondition(s.restart) },
      Placement: { Constraints: [...(spec.module.placementConstraints ?? [])] },
      Networks: networks.map((n) => ({ Target: n, Aliases: [s.name] })),
    },
    // Created with 0 tasks, as a container is created stopped: `startUnit` scales it to its replicas.
    Mode: job ? { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } } : { Replicated: { Replicas: 0 } },
    EndpointSpec: { Mode: "dnsrr" },
  };
  if (body.HostConfig.Memory !== undefined) out.TaskTemplate.Resources = { Limits: { MemoryBytes: body.HostConfig.Memory } };
  if (s.ports.some((p) => p.published !== undefined))
    out.EndpointSpec.Ports = s.ports
      .filter((p) => p.published !== undefined)
      .map((p) => ({ Protocol: p.protocol, TargetPort: p.target, PublishedPort: p.published, PublishMode: "host" as const }));
  return { spec: out, networks, secrets: built.secrets, job };
}

/** Docker's restart policies in Swarm's terms: `no` never restarts; `always` and `unless-stopped` always do. */
function restartCondition(restart: string): "none" | "on-failure" | "any" {
  if (restart === "no") return "none";
  if (restart.startsWith("on-failure")) return "on-failure";
  return "any";
}

/** Body of `POST /networks/create` for a project network on a Swarm: overlay, attachable, labelled. */
export function overlayNetworkBody(project: string, name: string) {
  return { Name: name, Driver: "overlay", Attachable: true, CheckDuplicate: true, Labels: { [LABEL.project]: project } };
}
