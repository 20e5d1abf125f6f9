// Readers of the Swarm manager's replies (services, tasks, nodes, networks): the reply-shape readers, no schema library.
import { arrayOf, nullish, num, object, recordOf, type Read, str } from "../reply-shape.js";

const labels = nullish(recordOf(str));
const strings = nullish(arrayOf(str));

/**
 * A Swarm service as platformctl reads it: only the listed fields leave the reader (a service's `Env` holds resolved
 * secrets and is never read here; `heldValues` reads it on purpose, for the masker). An update of the spec reads the
 * raw reply instead, so every field Swarm keeps survives it.
 */
export interface SwarmService {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  Spec: {
    Name: string;
    Labels?: Record<string, string> | undefined;
    Mode: {
      Replicated?: { Replicas?: number | undefined } | undefined;
      ReplicatedJob?: { TotalCompletions?: number | undefined } | undefined;
    };
    TaskTemplate: {
      ContainerSpec: {
        Image: string;
        Healthcheck?: { Test?: string[] | undefined } | undefined;
        /** Nanoseconds; absent means Docker's default (10 s). */
        StopGracePeriod?: number | undefined;
      };
      ForceUpdate?: number | undefined;
      Placement?: { Constraints?: string[] | undefined } | undefined;
      RestartPolicy?: { Condition?: string | undefined } | undefined;
    };
  };
  /** A job's current iteration; index 0 is omitted in the API's JSON. */
  JobStatus?: { JobIteration?: { Index?: number | undefined } | undefined } | undefined;
}

/** A task of a service: one attempt to run one replica (or one job completion) on one node. */
export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string | undefined;
  CreatedAt: string;
  UpdatedAt?: string | undefined;
  DesiredState: string;
  JobIteration?: { Index?: number | undefined } | undefined;
  Status: {
    Timestamp?: string | undefined;
    State: string;
    Message?: string | undefined;
    Err?: string | undefined;
    ContainerStatus?: { ContainerID?: string | undefined; ExitCode?: number | undefined } | undefined;
  };
}

/** A node as the placement-constraint matcher sees it. */
export interface SwarmNode {
  ID: string;
  Spec: { Role?: string | undefined; Labels?: Record<string, string> | undefined };
  Description?:
    | {
        Hostname?: string | undefined;
        Platform?: { OS?: string | undefined; Architecture?: string | undefined } | undefined;
        Engine?: { Labels?: Record<string, string> | undefined } | undefined;
      }
    | undefined;
  Status?: { State?: string | undefined; Message?: string | undefined } | undefined;
}

export const readService: Read<SwarmService> = object({
  ID: str,
  Version: object({ Index: num }),
  CreatedAt: str,
  Spec: object({
    Name: str,
    Labels: labels,
    Mode: object({
      Replicated: nullish(object({ Replicas: nullish(num) })),
      ReplicatedJob: nullish(object({ TotalCompletions: nullish(num) })),
    }),
    TaskTemplate: object({
      ContainerSpec: object({ Image: str, Healthcheck: nullish(object({ Test: strings })), StopGracePeriod: nullish(num) }),
      ForceUpdate: nullish(num),
      Placement: nullish(object({ Constraints: strings })),
      RestartPolicy: nullish(object({ Condition: nullish(str) })),
    }),
  }),
  JobStatus: nullish(object({ JobIteration: nullish(object({ Index: nullish(num) })) })),
});

export const readTask: Read<SwarmTask> = object({
  ID: str,
  ServiceID: str,
  NodeID: nullish(str),
  CreatedAt: str,
  UpdatedAt: nullish(str),
  DesiredState: str,
  JobIteration: nullish(object({ Index: nullish(num) })),
  Status: object({
    Timestamp: nullish(str),
    State: str,
    Message: nullish(str),
    Err: nullish(str),
    ContainerStatus: nullish(object({ ContainerID: nullish(str), ExitCode: nullish(num) })),
  }),
});

export const readNode: Read<SwarmNode> = object({
  ID: str,
  Spec: object({ Role: nullish(str), Labels: labels }),
  Description: nullish(
    object({
      Hostname: nullish(str),
      Platform: nullish(object({ OS: nullish(str), Architecture: nullish(str) })),
      Engine: nullish(object({ Labels: labels })),
    }),
  ),
  Status: nullish(object({ State: nullish(str), Message: nullish(str) })),
});

export const readServices: Read<SwarmService[]> = arrayOf(readService);
export const readTasks: Read<SwarmTask[]> = arrayOf(readTask);
export const readNodes: Read<SwarmNode[]> = arrayOf(readNode);
export const readNetworks = arrayOf(object({ Name: str, Labels: labels }));
/** The reply of a create (`POST /services/create`): the new object's id. */
export const readCreated = object({ ID: str });
