// Pure judgement of one job iteration from its tasks: done, failed, stuck, or one of the known 20.10 job bugs.
import { isTerminal, iterationTasks, type SwarmTask } from "./observe-swarm.js";

/**
 * What the tasks of one `JobIteration` say about the run (TotalCompletions 1, restart condition none):
 * - `succeeded`: a task completed (exit 0).
 * - `failed`: a task's container exited non-zero (`exitCode`).
 * - `start-error`: a task ended without a run to judge (rejected, orphaned, shut down, removed), with its message.
 * - `unschedulable`: a pending task the scheduler cannot place (a drained node, an unsatisfiable constraint): it
 *   would wait forever, so the run ends at once with the scheduler's message.
 * - `duplicated`: more than one task of the iteration got a container: Swarm ran the one-shot more than once
 *   (moby#42741, "more tasks than requested", Engine 20.10; fixed in 24). Never judged a success, whatever the tasks
 *   report: a migration run twice must be looked at by a person.
 * - `waiting`: none of these yet; `ran` says whether a task has started a container, `tasks` how many the iteration
 *   has (0 long after the update: the job reconciler may have stopped, moby#42742).
 */
export type JobVerdict =
  | { kind: "succeeded"; task: SwarmTask }
  | { kind: "failed"; task: SwarmTask; exitCode: number }
  | { kind: "start-error"; task: SwarmTask; exitCode: number; error: string; ran: boolean }
  | { kind: "unschedulable"; task: SwarmTask; error: string }
  | { kind: "duplicated"; tasks: SwarmTask[]; error: string }
  | { kind: "waiting"; ran: boolean; tasks: number };

const RAN = new Set(["running", "complete", "failed"]);

/** A task that started a container: it ran (or runs) the one-shot. */
const ranContainer = (t: SwarmTask): boolean => RAN.has(t.Status.State) || (t.Status.ContainerStatus?.ContainerID ?? "") !== "";

/** A task's state and the runtime's message, for a failure text. */
export const taskText = (t: SwarmTask): string => `task ${t.Status.State}: ${t.Status.Err || t.Status.Message || "no message"}`;

/** Judges job iteration `iteration` from every task the manager lists for the service (see JobVerdict). Pure. */
export function judgeJob(all: readonly SwarmTask[], iteration: number): JobVerdict {
  const tasks = iterationTasks(all, iteration);
  const ran = tasks.filter(ranContainer);
  if (ran.length > 1)
    return {
      kind: "duplicated",
      tasks: ran,
      error: `Swarm started ${ran.length} tasks for the one completion of job iteration ${iteration} (${ran.map((t) => t.Status.State).join(", ")}): the one-shot may have run more than once (moby#42741, Docker Engine 20.10; fixed in 24); check what it did before running it again`,
    };
  const done = tasks.find((t) => t.Status.State === "complete");
  if (done) return { kind: "succeeded", task: done };
  const ended = tasks.find(isTerminal);
  if (ended) {
    const exitCode = ended.Status.ContainerStatus?.ExitCode ?? 0;
    if (ended.Status.State === "failed" && exitCode !== 0) return { kind: "failed", task: ended, exitCode };
    return { kind: "start-error", task: ended, exitCode, error: taskText(ended), ran: ran.length > 0 };
  }
  const stuck = tasks.find((t) => t.Status.State === "pending" && (t.Status.Err ?? "") !== "");
  if (stuck) return { kind: "unschedulable", task: stuck, error: taskText(stuck) };
  return { kind: "waiting", ran: ran.length > 0, tasks: tasks.length };
}
