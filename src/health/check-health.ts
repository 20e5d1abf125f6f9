// The shell around judgeHealth: observes (twice ~1 s apart when a restart loop could hide), waits for starting services, gathers mount facts.
import { setTimeout as sleepMs } from "node:timers/promises";
import { envFileDirs, readEnvFiles } from "../secrets/env-files.js";
import { maskFailure } from "../secrets/mask-failure.js";
import { heldEnvNames, heldSecrets, readModuleSecrets, type HeldValues } from "../secrets/module-secrets.js";
import type { Module } from "../manifest/module.js";
import type { ObservedState } from "../plan/observed-state.js";
import { adoptionOf } from "../plan/adoption.js";
import { unitName } from "../plan/unit-name.js";
import type { Runtime } from "../runtime/runtime.js";
import { gatherMountFacts } from "./gather-mount-facts.js";
import { judgeHealth, judgeMounts, needsSecondLook, type HealthReport } from "./judge-health.js";
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
  const name = (m: string, s: string) => unitName(ctx.project, m, s);
  // One read per container serves both the observation and the values it holds (for masking).
  const look = async (): Promise<Look> => {
    const held = new Map<string, HeldValues>();
    const state = await ctx.runtime
      .observe(ctx.project, [], { signal: ctx.signal, adoption, onHeld: (id, h) => held.set(id, h) })
      .catch((e: unknown) => {
        throw maskFailure(e, resolved);
      });
    return { state, held };
  };
  const started = clock();
  const deadline = new Map(modules.map((m) => [m.name, started + m.timeoutSeconds * 1000]));

  let first = await look();
  for (;;) {
    let second = first;
    if (needsSecondLook(modules, first.state.containers, name)) {
      await sleep(sampleMs);
      second = await look();
    }
    const secrets = [...resolved, ...(await containerSecrets(ctx, modules, second))];
    const now = clock();
    const waitedSeconds = ctx.wait
      ? Object.fromEntries(modules.map((m) => [m.name, Math.round((Math.min(now, deadline.get(m.name) ?? now) - started) / 1000)]))
      : undefined;
    const report = judgeHealth({
      modules,
      first: first.state.containers,
      second: second.state.containers,
      containerName: name,
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
              containers: second.state.containers,
              env: ctx.env,
              cwd: ctx.cwd,
              signal: ctx.signal,
            }),
          )
        : [];
      return { report: judgeMounts(report, mounts, ctx.strict === true), mounts, observed: second.state, secrets };
    }
    if (second === first) {
      await sleep(sampleMs);
      first = await look();
    } else first = second;
  }
}

/** One observation and the values its containers hold (by container id; never part of the observation). */
interface Look {
  state: ObservedState;
  held: Map<string, HeldValues>;
}

/**
 * What the modules' containers actually hold for the manifest's `${VAR}` references and env-file keys: the values to
 * mask when the variable is not set here or was rotated since the container was created (never shown or stored).
 */
async function containerSecrets(ctx: HealthContext, modules: readonly Module[], look: Look): Promise<string[]> {
  const out: string[] = [];
  const byName = new Map(modules.map((m) => [m.name, m]));
  for (const c of look.state.containers) {
    const m = byName.get(c.module);
    const s = m?.services.find((x) => x.name === c.service);
    if (!m || !s) continue;
    const held = look.held.get(c.id) ?? (await ctx.runtime.heldValues(c.id, ctx.signal)); // a runtime that did not hand them over
    if (held)
      out.push(...heldSecrets(s, held, Object.keys(await readEnvFiles(m, s, envFileDirs(ctx.env)).catch(() => heldEnvNames(held))))); // unreadable: mask every undeclared variable
  }
  return out;
}
