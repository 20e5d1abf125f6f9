// The maintenance lane on Swarm: a service updated in place with its previous spec kept by Swarm, and rolled back to it.
import { PlatformError } from "../../errors.js";
import { type PreviousSpecLane, RUNNING_STABLE_MS, type UnitSpec, type WaitForStateOutcome } from "../../runtime/runtime.js";
import type { Engine } from "../connect.js";
import { requestJson, seg } from "../dial.js";
import { EngineError } from "../errors.js";
import { imageId } from "../observe.js";
import { assertPinnedIfStateful, buildService, SWARM_LABEL, type ServiceSpec } from "./service-spec.js";

const POLL_MS = 250;

/**
 * How a maintenance update replaces tasks, and how a rollback puts them back: every task stopped before its successor
 * starts (a stateful store must never have two tasks on one volume), all at once. A failure pauses the update and
 * nothing more: apply's own wait (bounded by the module timeout) judges the new tasks and decides the rollback, which
 * is audited before it happens. Swarm's `FailureAction: rollback` would roll back unaudited, racing that wait, which
 * would then see the previous spec's tasks run and report the update applied.
 */
const UPDATE_CONFIG = { Parallelism: 0, Order: "stop-first", FailureAction: "pause", Monitor: 1e9, MaxFailureRatio: 0 } as const;

type RawSpec = ServiceSpec & { Mode: Record<string, unknown>; UpdateConfig?: unknown; RollbackConfig?: unknown };
interface RawService {
  ID: string;
  Version: { Index: number };
  Spec: RawSpec;
  PreviousSpec?: RawSpec;
}
interface RawTask {
  ID: string;
  CreatedAt: string;
  DesiredState: string;
  Spec?: { ForceUpdate?: number };
  Status: { State: string; Err?: string; Message?: string };
}

/** What a replace kept, for its rollback: the spec it replaced, and the version the service had before the update. */
interface Kept {
  spec: RawSpec;
  versionBefore: number;
}

/**
 * Each update bumps `TaskTemplate.ForceUpdate`, so it also tells the tasks of one spec from another's: a rollback puts
 * the previous value back, and the tasks it starts carry it.
 */
const generation = (x: { ForceUpdate?: number } | undefined): number => x?.ForceUpdate ?? 0;
const replicas = (s: RawSpec): number => (s.Mode as { Replicated?: { Replicas?: number } }).Replicated?.Replicas ?? 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Swarm runtime's `PreviousSpecLane` (see runtime.ts): in-place updates, Swarm's `PreviousSpec`, `rollback=previous`. */
export function swarmMaintenance(
  engine: Engine,
  ensureNetworks: (spec: UnitSpec, signal?: AbortSignal) => Promise<void>,
): PreviousSpecLane {
  const kept = new Map<string, Kept>();

  const read = async (ref: string, signal?: AbortSignal) =>
    (await requestJson(engine, {
      method: "GET",
      path: `/services/${seg(ref)}`,
      operation: "inspect service",
      target: ref,
      signal,
    })) as RawService;
  const tasksOf = async (id: string, signal?: AbortSignal) =>
    (
      (await requestJson(engine, {
        method: "GET",
        path: "/tasks",
        query: { filters: JSON.stringify({ service: [id] }) },
        operation: "list tasks of service",
        target: id,
        signal,
      })) as (RawTask & { ServiceID: string })[]
    ).filter((t) => t.ServiceID === id);
  const post = (s: RawService, body: RawSpec, signal: AbortSignal | undefined, rollback = false) =>
    requestJson(engine, {
      method: "POST",
      path: `/services/${seg(s.ID)}/update`,
      query: rollback ? { version: s.Version.Index, rollback: "previous" } : { version: s.Version.Index },
      body,
      operation: rollback ? "roll back service" : "update service",
      target: body.Name,
      signal,
    });

  /** Waits within `timeoutMs` until none of `ids` is still meant to run (Swarm has begun replacing them). */
  async function untilTold(id: string, name: string, ids: ReadonlySet<string>, timeoutMs: number, signal?: AbortSignal) {
    const t0 = Date.now();
    for (;;) {
      const left = (await tasksOf(id, signal)).filter((t) => ids.has(t.ID) && t.DesiredState === "running");
      if (left.length === 0) return;
      if (signal?.aborted) throw new EngineError({ kind: "aborted", operation: "wait for update", target: name, errno: "ABORT_ERR" });
      if (Date.now() - t0 >= timeoutMs)
        throw new EngineError({
          kind: "unresponsive",
          operation: "wait for update",
          target: name,
          message: `Swarm did not begin replacing task ${left.map((t) => t.ID).join(", ")} of service ${name} within ${Math.round(timeoutMs / 1000)} s of its update`,
        });
      await sleep(POLL_MS);
    }
  }

  /**
   * Waits within `timeoutMs` until the tasks of the service's current spec (its `ForceUpdate` generation, none of
   * `before`) are what it wants: all its replicas running for RUNNING_STABLE_MS, as a start's wait (a task with a
   * healthcheck is `running` only once healthy), and no other spec's task still running; none when it wants 0. A
   * failed or rejected task of that spec, or one the scheduler cannot place, ends it early.
   */
  async function waitForCurrent(
    id: string,
    before: ReadonlySet<string>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitForStateOutcome> {
    const t0 = Date.now();
    let reachedAt: number | undefined;
    for (;;) {
      const s = await read(id, signal);
      const gen = generation(s.Spec.TaskTemplate);
      const tasks = await tasksOf(id, signal);
      const mine = tasks.filter((t) => generation(t.Spec) === gen && !before.has(t.ID));
      if (mine.some((t) => t.Status.State === "failed" || t.Status.State === "rejected")) return "exited";
      if (mine.some((t) => t.DesiredState === "running" && t.Status.State === "pending" && (t.Status.Err ?? "") !== ""))
        return "never-started";
      const others = tasks.filter((t) => !mine.includes(t) && t.Status.State === "running");
      const running = mine.filter((t) => t.DesiredState === "running" && t.Status.State === "running").length;
      if (others.length === 0 && running === replicas(s.Spec)) {
        reachedAt ??= Date.now();
        if (Date.now() - reachedAt >= RUNNING_STABLE_MS) return "reached";
      } else reachedAt = undefined;
      if (signal?.aborted) throw new EngineError({ kind: "aborted", operation: "wait for rollback", target: id, errno: "ABORT_ERR" });
      if (Date.now() - t0 >= timeoutMs) return "timed-out";
      await sleep(POLL_MS);
    }
  }

  return {
    keeps: "previous-spec",
    async replaceKeepingPrevious(unit, spec, opts) {
      assertPinnedIfStateful(spec.module);
      const old = await read(unit, opts.signal);
      if (old.Spec.Mode.ReplicatedJob !== undefined)
        throw new PlatformError(
          "swarm.unsupported",
          `the maintenance lane for one-shot ${old.Spec.Name} is not supported on the Swarm runtime yet`,
          {
            detail: "Updating a job's spec in place runs it at once; nothing was changed.",
            hint: 'Use the Docker runtime for this module\'s maintenance apply; README.md "Running on Docker Swarm" lists what works.',
          },
        );
      const built = buildService(spec, old.Spec.Name, await imageId(engine, spec.service.image, opts.signal));
      opts.onSecrets?.(built.secrets);
      await ensureNetworks(spec, opts.signal);
      const want = Number(built.spec.Labels[SWARM_LABEL.replicas] ?? "1");
      // Running as many tasks as the new spec wants when the old one ran (its `start` then finds it started), else none.
      const next: RawSpec = {
        ...built.spec,
        Mode: { Replicated: { Replicas: replicas(old.Spec) > 0 ? want : 0 } },
        UpdateConfig: UPDATE_CONFIG,
        RollbackConfig: UPDATE_CONFIG,
      };
      next.TaskTemplate.ForceUpdate = generation(old.Spec.TaskTemplate) + 1;
      const live = new Set((await tasksOf(old.ID, opts.signal)).filter((t) => t.DesiredState === "running").map((t) => t.ID));
      // Kept before the update is sent: a reply lost after Swarm took it must still be rolled back.
      kept.set(old.ID, { spec: old.Spec, versionBefore: old.Version.Index });
      opts.onKept();
      await post(old, next, opts.signal);
      await untilTold(old.ID, old.Spec.Name, live, opts.timeoutMs, opts.signal);
      return { id: old.ID, name: old.Spec.Name };
    },
    async rollBackToPrevious(unit, opts) {
      const k = kept.get(unit);
      if (!k) return "nothing-kept";
      const cur = await read(unit, opts.signal);
      if (cur.Version.Index === k.versionBefore) {
        kept.delete(unit);
        return "nothing-kept";
      }
      const tasks = await tasksOf(cur.ID, opts.signal);
      const live = new Set(tasks.filter((t) => t.DesiredState === "running").map((t) => t.ID));
      // Swarm's own rollback when its PreviousSpec is the kept one; otherwise (the service was updated again since, e.g.
      // scaled up by its start) an update to the kept spec, which is the same spec by another request.
      const same = (a: RawSpec | undefined, b: RawSpec) =>
        a !== undefined && JSON.stringify(a.TaskTemplate) === JSON.stringify(b.TaskTemplate) && replicas(a) === replicas(b);
      if (same(cur.PreviousSpec, k.spec)) await post(cur, cur.Spec, opts.signal, true);
      else await post(cur, { ...k.spec, UpdateConfig: UPDATE_CONFIG, RollbackConfig: UPDATE_CONFIG }, opts.signal);
      kept.delete(unit);
      await untilTold(cur.ID, cur.Spec.Name, live, opts.timeoutMs, opts.signal);
      return waitForCurrent(cur.ID, new Set(tasks.map((t) => t.ID)), opts.timeoutMs, opts.signal);
    },
    async forgetPrevious(unit) {
      kept.delete(unit);
    },
    keptAfterInterrupt: (name) =>
      `service ${name} may run its new spec (updated in place); Swarm keeps the previous one: \`docker service rollback ${name}\` puts it back`,
  };
}
