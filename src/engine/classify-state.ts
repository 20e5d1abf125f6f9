// What a container's state means for a run: the single classification both planning and one-shot runs use.
import type { ObservedContainer } from "../plan/observed-state.js";
import type { Outcome } from "../runtime/runtime.js";

export type { Outcome } from "../runtime/runtime.js";

/** The state fields classification reads. */
export type ContainerStateFacts = Pick<ObservedContainer, "status" | "running" | "exitCode" | "oomKilled" | "error" | "restartCount">;

/** Classifies one inspected state (see `Outcome` for the meanings); the order of the checks is the contract (OOM before 137, created before exit 0). */
export function classifyState(s: ContainerStateFacts): Outcome {
  if (s.status === "created") return s.error ? { kind: "start-error", exitCode: s.exitCode, error: s.error } : { kind: "never-started" };
  if (s.status === "restarting") return { kind: "restarting", restartCount: s.restartCount };
  if (s.running) return { kind: "running" };
  if (s.oomKilled) return { kind: "oom-killed", exitCode: s.exitCode };
  // No exit code kept (a Swarm job stopped at its timeout): it did not succeed.
  if (s.exitCode === null) return { kind: "failed", exitCode: null };
  if (s.exitCode === 0) return { kind: "succeeded" };
  if (s.exitCode > 128 && s.exitCode < 160) return { kind: "killed", signal: s.exitCode - 128, exitCode: s.exitCode };
  return { kind: "failed", exitCode: s.exitCode };
}
