// What a container's state means for a run: the single classification both planning and one-shot runs use.
import type { ObservedContainer } from "../plan/observed-state.js";

/**
 * How a container ended up, judged from inspect (never from a wait status code alone: `wait` reports 0 for a
 * container that never started, and for one removed before it ran).
 *
 * - `never-started`: created, never started.
 * - `start-error`: a start was tried and failed (`created` with `State.Error`, e.g. a missing binary, 127).
 * - `running`: running, including paused.
 * - `restarting`: between attempts of a restart policy.
 * - `succeeded`: exited 0 and not OOM-killed.
 * - `failed`: exited with a code that is not a signal.
 * - `oom-killed`: the kernel OOM killer fired; checked before the exit code, which may be 137 or even 0.
 * - `killed`: exit code 129–159, read as 128 + signal (heuristic: a program may exit 130 by itself).
 * - `vanished`: the container no longer exists (only a run reports this; inspect cannot).
 */
export type Outcome =
  | { kind: "never-started" }
  | { kind: "start-error"; exitCode: number; error: string }
  | { kind: "running" }
  | { kind: "restarting"; restartCount: number }
  | { kind: "succeeded" }
  | { kind: "failed"; exitCode: number }
  | { kind: "oom-killed"; exitCode: number }
  | { kind: "killed"; signal: number; exitCode: number }
  | { kind: "vanished" };

export type OutcomeKind = Outcome["kind"];

/** The state fields classification reads. */
export type ContainerStateFacts = Pick<ObservedContainer, "status" | "running" | "exitCode" | "oomKilled" | "error" | "restartCount">;

/** Classifies one inspected state; the order of the checks is the contract (OOM before 137, created before exit 0). */
export function classifyState(s: ContainerStateFacts): Outcome {
  if (s.status === "created") return s.error ? { kind: "start-error", exitCode: s.exitCode, error: s.error } : { kind: "never-started" };
  if (s.status === "restarting") return { kind: "restarting", restartCount: s.restartCount };
  if (s.running) return { kind: "running" };
  if (s.oomKilled) return { kind: "oom-killed", exitCode: s.exitCode };
  if (s.exitCode === 0) return { kind: "succeeded" };
  if (s.exitCode > 128 && s.exitCode < 160) return { kind: "killed", signal: s.exitCode - 128, exitCode: s.exitCode };
  return { kind: "failed", exitCode: s.exitCode };
}
