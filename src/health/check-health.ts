// The shell around judgeHealth: observes twice ~1 s apart (restart loops), waits for starting services, gathers mount facts.
import { setTimeout as sleepMs } from "node:timers/promises";
import type { Engine } from "../engine/connect.js";
import { containerName } from "../engine/labels.js";
import { observe } from "../engine/observe.js";
import { readEnvFiles } from "../secrets/env-files.js";
import { resolveInterpolation } from "../manifest/interpolation.js";
import type { Module } from "../manifest/module.js";
import type { ObservedState } from "../plan/observed-state.js";
import { gatherMountFacts } from "./gather-mount-facts.js";
import { judgeHealth, judgeMounts, type HealthReport } from "./judge-health.js";
import { mountWarnings, type MountFinding } from "./mount-sanity.js";

export interface HealthContext {
  engine: Engine;
  project: string;
  /** The whole catalog (mount checks count writers outside the selection). */
  catalog: readonly Module[];
  /** Modules to judge, by name, in catalog order. */
  selected: readonly string[];
  /** Wait for pending services (healthcheck starting, one-shot running), each module within its timeout_seconds. */
  wait: boolean;
  /** Gather mount facts and report mount findings. */
  mounts: boolean;
  /** Layout warnings (two writers, STATE_DIR in a bind, an unverifiable nested mount) make the service unhealthy too. */
  strict?: boolean | undefined;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Gap between the two observations that reveal a restart loop (default 1000 ms). */
  sampleMs?: number | undefined;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal | undefined;
}

export interface HealthResult {
  report: HealthReport;
  mounts: MountFinding[];
  /** The last observation (probes find their containers in it). */
  observed: ObservedState;
  /** Values masked in everything shown about these modules. */
  secrets: string[];
}

/** Judges the selected modules' health; with `wait`, re-observes until nothing is pending or each module's timeout passed. */
export async function checkHealth(ctx: HealthContext): Promise<HealthResult> {
  const clock = ctx.clock ?? Date.now;
  const sleep = ctx.sleep ?? ((ms: number) => sleepMs(ms, undefined, { signal: ctx.signal }));
  const sampleMs = ctx.sampleMs ?? 1000;
  const wanted = new Set(ctx.selected);
  const modules = ctx.catalog.filter((m) => wanted.has(m.name));
  const secrets = (await Promise.all(modules.map((m) => moduleSecrets(m, ctx.env)))).flat();
  const look = () => observe(ctx.engine, ctx.project, [], { signal: ctx.signal });
  const started = clock();
  const deadline = new Map(modules.map((m) => [m.name, started + m.timeoutSeconds * 1000]));

  let first = await look();
  for (;;) {
    await sleep(sampleMs);
    const second = await look();
    const now = clock();
    const waitedSeconds = ctx.wait ? Object.fromEntries(modules.map((m) => [m.name, Math.round((Math.min(now, deadline.get(m.name) ?? now) - started) / 1000)])) : undefined;
    const report = judgeHealth({
      modules,
      first: first.containers,
      second: second.containers,
      containerName: (m, s) => containerName(ctx.project, m, s),
      secrets,
      waitedSeconds,
      now,
    });
    const waiting = ctx.wait && report.modules.some((m) => m.pending && now < (deadline.get(m.name) ?? 0));
    if (!waiting) {
      const mounts = ctx.mounts
        ? mountWarnings(await gatherMountFacts({ engine: ctx.engine, catalog: ctx.catalog, selected: ctx.selected, containers: second.containers, env: ctx.env, cwd: ctx.cwd, signal: ctx.signal }))
        : [];
      return { report: judgeMounts(report, mounts, ctx.strict === true), mounts, observed: second, secrets };
    }
    first = second;
  }
}

/** Values a module's containers were given from the environment and env files: masked in reasons and probe output. */
export async function moduleSecrets(m: Module, env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  const out = new Set<string>();
  for (const s of m.services) {
    for (const text of [...Object.values(s.environment), ...(s.entrypoint ?? []), ...(s.command ?? [])]) {
      const r = resolveInterpolation(text, env);
      if (r.ok) for (const v of r.secrets) out.add(v);
    }
    const fromFiles = await readEnvFiles(m, s).catch(() => ({}));
    for (const v of Object.values(fromFiles)) if (v !== "") out.add(v);
  }
  return [...out];
}
