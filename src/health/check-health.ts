// The shell around judgeHealth: observes twice ~1 s apart (restart loops), waits for starting services, gathers mount facts.
import { setTimeout as sleepMs } from "node:timers/promises";
import { envFileDirs, readEnvFiles } from "../secrets/env-files.js";
import { heldEnvNames, heldSecrets, readModuleSecrets } from "../secrets/module-secrets.js";
import type { Module } from "../manifest/module.js";
import type { ObservedContainer, ObservedState } from "../plan/observed-state.js";
import { adoptionOf } from "../plan/adoption.js";
import { unitName } from "../plan/unit-name.js";
import type { Runtime } from "../runtime/runtime.js";
import { gatherMountFacts } from "./gather-mount-facts.js";
import { judgeHealth, judgeMounts, type HealthReport } from "./judge-health.js";
import { mountWarnings, type MountFinding } from "./mount-sanity.js";

export interface HealthContext {
  runtime: Runtime;
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
  const resolved = (await Promise.all(modules.map((m) => readModuleSecrets(m, ctx.env)))).flat();
  const adoption = adoptionOf(ctx.catalog, ctx.project);
  const look = () => ctx.runtime.observe(ctx.project, [], { signal: ctx.signal, adoption });
  const started = clock();
  const deadline = new Map(modules.map((m) => [m.name, started + m.timeoutSeconds * 1000]));

  let first = await look();
  for (;;) {
    await sleep(sampleMs);
    const second = await look();
    const secrets = [...resolved, ...(await containerSecrets(ctx, modules, second.containers))];
    const now = clock();
    const waitedSeconds = ctx.wait
      ? Object.fromEntries(modules.map((m) => [m.name, Math.round((Math.min(now, deadline.get(m.name) ?? now) - started) / 1000)]))
      : undefined;
    const report = judgeHealth({
      modules,
      first: first.containers,
      second: second.containers,
      containerName: (m, s) => unitName(ctx.project, m, s),
      secrets,
      waitedSeconds,
      now,
    });
    const waiting = ctx.wait && report.modules.some((m) => m.pending && now < (deadline.get(m.name) ?? 0));
    if (!waiting) {
      const mounts = ctx.mounts
        ? mountWarnings(
            await gatherMountFacts({
              runtime: ctx.runtime,
              catalog: ctx.catalog,
              selected: ctx.selected,
              containers: second.containers,
              env: ctx.env,
              cwd: ctx.cwd,
              signal: ctx.signal,
            }),
          )
        : [];
      return { report: judgeMounts(report, mounts, ctx.strict === true), mounts, observed: second, secrets };
    }
    first = second;
  }
}

/**
 * What the modules' containers actually hold for the manifest's `${VAR}` references and env-file keys: the values to
 * mask when the variable is not set here or was rotated since the container was created (never shown or stored).
 */
async function containerSecrets(
  ctx: HealthContext,
  modules: readonly Module[],
  containers: readonly ObservedContainer[],
): Promise<string[]> {
  const out: string[] = [];
  for (const c of containers) {
    const s = modules.find((m) => m.name === c.module)?.services.find((x) => x.name === c.service);
    if (!s) continue;
    const m = modules.find((x) => x.name === c.module) as Module;
    const held = await ctx.runtime.heldValues(c.id, ctx.signal);
    if (held)
      out.push(...heldSecrets(s, held, Object.keys(await readEnvFiles(m, s, envFileDirs(ctx.env)).catch(() => heldEnvNames(held))))); // unreadable: mask every undeclared variable
  }
  return out;
}
