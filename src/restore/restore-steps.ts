// The steps a restore is made of, shared by the live restore and --verify: fill volumes from an archive, create and start a module's services.
import { stopGraceSeconds, type Module, type Service } from "../manifest/module.js";
import { unitName } from "../plan/unit-name.js";
import { RUNNING_STABLE_MS, type Runtime } from "../runtime/runtime.js";
import { redact } from "../secrets/masker.js";
import { envFileDirs, readEnvFiles } from "../secrets/env-files.js";
import type { ActionRecord } from "../state/audit.js";
import { Writable } from "node:stream";
import { dumpStream, volumeTar } from "../backup/archive-format.js";
import { findExecTarget, maskedTail } from "../backup/exec-target.js";

/** What the steps work with; every runtime call is bounded by the runtime's deadlines or the module's timeout. */
export interface StepContext {
  runtime: Runtime;
  project: string;
  module: Module;
  env: Readonly<Record<string, string | undefined>>;
  /** STATE_DIR's digest key for the created units' labels; undefined for scratch units (never planned). */
  digestKey: Uint8Array | undefined;
  /** Bound of each wait (health, one-shot run, volume write), in ms. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Values masked in every message (grows as units are created). */
  secrets: Set<string>;
  progress: (what: string) => void;
  /** Receives each finished step (also a failed one, before it is thrown). */
  done: (r: ActionRecord) => void;
}

/** A step that failed: what it was doing and why, already masked. */
export class StepFailure extends Error {
  readonly step: ActionRecord;
  readonly detail: string | undefined;
  constructor(step: ActionRecord, message: string, detail?: string) {
    super(message);
    this.step = step;
    this.detail = detail;
  }
}

export const mask = (ctx: StepContext, text: string): string => redact(text, [...ctx.secrets]);

/** Runs one step, recording its duration and outcome; a failure becomes a StepFailure naming the step. */
export async function step(
  ctx: StepContext,
  type: string,
  subject: string,
  container: string | null,
  run: () => Promise<void>,
): Promise<void> {
  const t0 = Date.now();
  const rec: ActionRecord = { type, service: subject, container, outcome: "done", exit_code: null, duration_ms: 0 };
  try {
    await run();
  } catch (e) {
    const interrupted = ctx.signal.aborted;
    const message = mask(ctx, e instanceof StepFailure ? e.message : e instanceof Error ? e.message : String(e));
    const failed: ActionRecord = { ...rec, outcome: interrupted ? "interrupted" : "failed", duration_ms: Date.now() - t0, message };
    ctx.done(failed);
    throw new StepFailure(failed, `${type} ${subject}: ${message}`, e instanceof StepFailure ? e.detail : undefined);
  }
  ctx.done({ ...rec, duration_ms: Date.now() - t0 });
}

/** Replaces nothing: extracts each volume's content from the archive into the (empty, existing) project volume. */
export async function fillVolumes(ctx: StepContext, file: string, volumes: readonly string[], helperImage: string): Promise<void> {
  for (const v of volumes) {
    ctx.progress(`restoring volume ${v}`);
    await step(ctx, "restore-volume", v, null, () =>
      ctx.runtime.writeVolume(ctx.project, v, volumeTar(file, v), { helperImage, signal: ctx.signal, timeoutMs: ctx.timeoutMs }),
    );
  }
}

/**
 * Pipes the archive's dump (method exec's stdout) into the module's `restore_command`, run in the running exec
 * service of `ctx.project`, within `ctx.timeoutMs`; `started` is called once the command is about to receive it. The
 * command's stdout is discarded; a non-zero exit or a timeout fails the step with its stderr tail, masked.
 */
export async function pipeDump(ctx: StepContext, file: string, started: () => void = () => undefined): Promise<void> {
  const service = ctx.module.backup.exec?.service ?? "";
  await step(ctx, "restore-dump", service, null, async () => {
    const target = await findExecTarget(ctx.runtime, ctx.project, ctx.module, ctx.env, ctx.signal);
    for (const v of target.secrets) ctx.secrets.add(v);
    ctx.progress(`piping the dump into ${target.restoreCommand[0] ?? ""} in ${target.service}`);
    started();
    const discard = new Writable({ write: (_c, _e, done) => done() });
    const r = await ctx.runtime.execStream(target.id, target.restoreCommand, {
      stdout: discard,
      stdin: dumpStream(file),
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
    });
    if (r.timedOut || r.exitCode !== 0)
      throw new StepFailure(
        { type: "restore-dump", service, container: target.name, outcome: "failed", exit_code: r.exitCode, duration_ms: r.durationMs },
        r.timedOut
          ? `the restore command did not finish within ${ctx.timeoutMs / 1000}s (it may still run in ${target.name})`
          : `the restore command exited ${r.exitCode ?? "without an exit code"}`,
        maskedTail({ secrets: [...ctx.secrets] }, r.stderrTail) || undefined,
      );
  });
}

/** Long-running services first (in name order), then one-shots: a one-shot may need the others up. */
export const startOrder = (m: Module): Service[] => [
  ...m.services.filter((s) => s.expectedState !== "exited-success"),
  ...m.services.filter((s) => s.expectedState === "exited-success"),
];

/**
 * Creates every service's unit as apply would (networks and volumes made sure of), starts each long-running one and
 * waits until it is running or healthy, then runs each one-shot to its exit; all within `timeoutMs` each.
 */
export async function createAndStart(ctx: StepContext): Promise<void> {
  for (const s of startOrder(ctx.module)) {
    const name = unitName(ctx.project, ctx.module.name, s.name);
    ctx.progress(`creating ${s.name}`);
    let id = "";
    await step(ctx, "create", s.name, name, async () => {
      const created = await ctx.runtime.createUnit(
        {
          project: ctx.project,
          module: ctx.module,
          service: s,
          env: ctx.env,
          digestKey: ctx.digestKey,
          envFileValues: await readEnvFiles(ctx.module, s, envFileDirs(ctx.env)),
        },
        {
          name,
          signal: ctx.signal,
          onSecrets: (values) => {
            for (const v of values) ctx.secrets.add(v);
          },
        },
      );
      id = created.id;
    });
    if (s.expectedState === "exited-success") {
      ctx.progress(`running ${s.name}`);
      await step(ctx, "run-once", s.name, name, async () => {
        const r = await ctx.runtime.runOneShot(id, {
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
          graceSeconds: stopGraceSeconds(s),
        });
        if (!(r.outcome.kind === "succeeded" && r.ranThisTime))
          throw new StepFailure(
            { type: "run-once", service: s.name, container: name, outcome: "failed", exit_code: r.exitCode, duration_ms: r.durationMs },
            r.timedOut ? `did not finish within ${ctx.timeoutMs / 1000}s` : `ended ${r.outcome.kind} (exit ${r.exitCode})`,
            await lastLogs(ctx, id),
          );
      });
      continue;
    }
    const want = s.expectedState === "healthy" ? "healthy" : "running";
    ctx.progress(`starting ${s.name}, waiting until ${want}`);
    await step(ctx, "start", s.name, name, async () => {
      await ctx.runtime.startUnit(id, ctx.signal);
      const r = await ctx.runtime.waitForState(id, want, { timeoutMs: ctx.timeoutMs, signal: ctx.signal, stableMs: RUNNING_STABLE_MS });
      if (r.outcome !== "reached")
        throw new StepFailure(
          {
            type: "start",
            service: s.name,
            container: name,
            outcome: "failed",
            exit_code: r.unit?.exitCode ?? null,
            duration_ms: r.elapsedMs,
          },
          `was not ${want} within ${ctx.timeoutMs / 1000}s (${r.outcome})`,
          await lastLogs(ctx, id),
        );
    });
  }
}

/** The last lines a unit printed, masked; only decorates a failure already being reported. */
async function lastLogs(ctx: StepContext, id: string): Promise<string | undefined> {
  const lines = await ctx.runtime.tailLogs(id, 20).catch(() => []); // safe: logs only decorate the failure
  return lines.length ? mask(ctx, lines.map((l) => `${l.stream === "stderr" ? "! " : "  "}${l.text}`).join("\n")) : undefined;
}
