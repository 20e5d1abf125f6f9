// Reads Swarm services and their tasks (GET only) and describes each service as the planner's ObservedContainer.
import type { Engine } from "../connect.js";
import { requestJson, seg } from "../dial.js";
import { isEngineError } from "../errors.js";
import { LABEL } from "../labels.js";
import { readReply } from "../reply-shape.js";
import type { ContainerStatus, ObservedContainer, ObservedNetwork } from "../../plan/observed-state.js";
import { PARKED_CONSTRAINT, SWARM_LABEL } from "./service-spec.js";
import { readNetworks, readService, readServices, readTasks, type SwarmService, type SwarmTask } from "./swarm-replies.js";

export type { SwarmService, SwarmTask } from "./swarm-replies.js";

/** Task states after which a task never runs again. */
const TERMINAL = new Set(["complete", "shutdown", "failed", "rejected", "remove", "orphaned"]);
export const isTerminal = (t: SwarmTask): boolean => TERMINAL.has(t.Status.State);

export const isJob = (s: SwarmService): boolean => s.Spec.Mode.ReplicatedJob !== undefined;
/** A job platformctl parked (PARKED_CONSTRAINT) to stop a run that outlived its timeout. */
export const isParked = (s: SwarmService): boolean => (s.Spec.TaskTemplate.Placement?.Constraints ?? []).includes(PARKED_CONSTRAINT);

/** What a parked job reads as: a run that ended badly, never a success. */
export const PARKED_ERROR =
  "stopped by platformctl when its run outlived the module timeout (the job is parked: placed on no node until it is run again)";
/** The service's current job iteration (index 0 is omitted in the API's JSON). */
export const jobIteration = (s: SwarmService): number => s.JobStatus?.JobIteration?.Index ?? 0;
const taskIteration = (t: SwarmTask): number => t.JobIteration?.Index ?? 0;

/** The tasks of job iteration `iteration`, newest first. */
export function iterationTasks(tasks: readonly SwarmTask[], iteration: number): SwarmTask[] {
  return tasks.filter((t) => taskIteration(t) === iteration).sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt));
}

/** The services carrying `project`'s label (one filtered list). */
export async function listServices(engine: Engine, project: string, signal?: AbortSignal): Promise<SwarmService[]> {
  const reply = await requestJson(engine, {
    method: "GET",
    path: "/services",
    query: { filters: JSON.stringify({ label: [`${LABEL.project}=${project}`] }) },
    operation: "list services of project",
    target: project,
    signal,
  });
  return readReply(readServices, reply, "list services of project", project).filter((s) => s.Spec.Labels?.[LABEL.project] === project);
}

/** One service by id or name; null when there is none. */
export async function getService(engine: Engine, ref: string, signal?: AbortSignal): Promise<SwarmService | null> {
  try {
    const reply = await requestJson(engine, {
      method: "GET",
      path: `/services/${seg(ref)}`,
      operation: "inspect service",
      target: ref,
      signal,
    });
    return readReply(readService, reply, "inspect service", ref);
  } catch (e) {
    if (isEngineError(e, "not_found")) return null;
    throw e;
  }
}

/** Every task the manager still keeps for the service (history included: Swarm keeps 5 per slot). */
export async function listTasks(engine: Engine, serviceId: string, signal?: AbortSignal): Promise<SwarmTask[]> {
  const reply = await requestJson(engine, {
    method: "GET",
    path: "/tasks",
    query: { filters: JSON.stringify({ service: [serviceId] }) },
    operation: "list tasks of service",
    target: serviceId,
    signal,
  });
  return readReply(readTasks, reply, "list tasks of service", serviceId).filter((t) => t.ServiceID === serviceId);
}

/** The overlay networks carrying `project`'s label, as the manager lists them. */
export async function listNetworks(engine: Engine, project: string, signal?: AbortSignal): Promise<ObservedNetwork[]> {
  const reply = await requestJson(engine, {
    method: "GET",
    path: "/networks",
    query: { filters: JSON.stringify({ label: [`${LABEL.project}=${project}`] }) },
    operation: "list networks of project",
    target: project,
    signal,
  });
  return readReply(readNetworks, reply, "list networks of project", project)
    .filter((n) => n.Labels?.[LABEL.project] === project)
    .map((n) => ({ name: n.Name }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A task's error text: the runtime's `Err`, else its message when it ended badly. */
const taskError = (t: SwarmTask): string =>
  t.Status.Err || (["failed", "rejected", "orphaned"].includes(t.Status.State) ? (t.Status.Message ?? t.Status.State) : "");

/**
 * A service as the planner's unit. Jobs: judged from the newest task of the current `JobIteration` (older iterations
 * are history): `complete` reads as exited 0; `failed` as exited with the task's container exit code; `rejected`,
 * `orphaned` and a pending task the scheduler cannot place carry the task's error (a start error); a running task
 * is running. Services: `running` once as many tasks run as the service wants; otherwise `created` (pending or
 * starting, or never scaled up), `restarting` (tasks failed and are being replaced) or `exited` (scaled to 0 after it
 * ran), with the tasks' errors in `tasks.errors` and `error`.
 */
export function describeService(s: SwarmService, tasks: readonly SwarmTask[]): ObservedContainer {
  const labels = { ...(s.Spec.Labels ?? {}) };
  const hasHealthcheck = (s.Spec.TaskTemplate.ContainerSpec.Healthcheck?.Test ?? []).filter((x) => x !== "NONE").length > 0;
  const base = {
    id: s.ID,
    name: s.Spec.Name,
    module: labels[LABEL.module] ?? "",
    service: labels[LABEL.service] ?? "",
    labels,
    specHash: labels[LABEL.specHash],
    imageRef: labels[LABEL.imageRef],
    configImage: s.Spec.TaskTemplate.ContainerSpec.Image,
    imageId: labels[SWARM_LABEL.imageId] ?? "",
    oomKilled: false,
    healthLog: [],
    createdAt: s.CreatedAt,
  };
  if (isJob(s) && isParked(s))
    return {
      ...base,
      status: "exited",
      running: false,
      // Parking removed the task that was stopped, and its exit code with it: unknown, never 0.
      exitCode: null,
      error: PARKED_ERROR,
      startedAt: undefined,
      finishedAt: undefined,
      health: undefined,
      restartCount: 0,
      tasks: { desired: 1, running: 0, errors: [PARKED_ERROR] },
    };
  if (isJob(s)) {
    const current = iterationTasks(tasks, jobIteration(s));
    const t = current.find((x) => x.Status.State === "complete") ?? current[0];
    const state = t?.Status.State;
    const status: ContainerStatus =
      state === undefined ? "created" : state === "running" ? "running" : isTerminal(t as SwarmTask) ? "exited" : "created";
    const ran = state === "complete" || state === "failed" || state === "running";
    return {
      ...base,
      status,
      running: status === "running",
      exitCode: t?.Status.ContainerStatus?.ExitCode ?? 0,
      error: t && state !== "complete" && state !== "failed" ? taskError(t) : "",
      startedAt: ran ? t?.CreatedAt : undefined,
      finishedAt: status === "exited" && ran ? t?.Status.Timestamp : undefined,
      health: undefined,
      restartCount: 0,
      tasks: {
        desired: 1,
        running: status === "running" ? 1 : 0,
        errors: distinctErrors(current.filter((x) => x.Status.State !== "complete")),
      },
    };
  }
  const desired = s.Spec.Mode.Replicated?.Replicas ?? 0;
  const live = tasks.filter((t) => t.DesiredState === "running");
  const running = live.filter((t) => t.Status.State === "running");
  const failed = tasks
    .filter((t) => ["failed", "rejected", "orphaned"].includes(t.Status.State))
    .sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt));
  const errors = distinctErrors([...live.filter((t) => t.Status.State !== "running"), ...failed]);
  const status: ContainerStatus =
    desired > 0 && running.length >= desired
      ? "running"
      : desired === 0
        ? tasks.length > 0
          ? "exited"
          : "created"
        : failed.length > 0
          ? "restarting"
          : "created";
  const starting = live.some((t) => t.Status.State === "starting");
  return {
    ...base,
    status,
    running: running.length > 0,
    exitCode: failed[0]?.Status.ContainerStatus?.ExitCode ?? 0,
    // While tasks are failing and being replaced, the newest failure's error, even at a moment all replicas run.
    error: status === "running" && failed.length === 0 ? "" : (errors[0] ?? ""),
    // The newest running task's start: a replacement that started recently is restart churn (health's window).
    startedAt: running
      .map((t) => t.Status.Timestamp ?? t.CreatedAt)
      .sort()
      .at(-1),
    finishedAt: undefined,
    // A Swarm task with a healthcheck is `starting` until its first healthy result, then `running`.
    health: hasHealthcheck ? (status === "running" ? "healthy" : starting ? "starting" : undefined) : undefined,
    restartCount: failed.length,
    tasks: { desired, running: running.length, errors },
  };
}

function distinctErrors(tasks: readonly SwarmTask[]): string[] {
  return [...new Set(tasks.map(taskError).filter((e) => e !== ""))].sort().slice(0, 5);
}
