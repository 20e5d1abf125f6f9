// Runs a module's smoke probes in order, each bounded by its timeout: exec in a container, HTTP GET, TCP connect, host command.
import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import type { Module, SmokeProbe } from "../manifest/module.js";
import type { ObservedContainer } from "../plan/observed-state.js";
import { unitName } from "../plan/unit-name.js";
import { UsageError } from "../errors.js";
import { ExecUnavailableError, type Runtime } from "../runtime/runtime.js";
import { redact } from "../secrets/masker.js";
import { httpsTrust } from "./https-trust.js";
import { pickContainer } from "./judge-health.js";

export type ProbeKind = "exec" | "http" | "tcp" | "command";

/**
 * `skipped` is never `passed`: a remote probe not run under PLATFORMCTL_SMOKE_REMOTE_MODE=skip, or an exec probe the
 * runtime cannot run from here (see `SkipCause`).
 */
export type ProbeStatus = "passed" | "failed" | "skipped";

/**
 * Why a probe was skipped. `chosen`: on purpose (PLATFORMCTL_SMOKE_REMOTE_MODE=skip; a restore verification not
 * reaching the host); smoke may still pass. `unavailable`: it could not run here (Swarm: no engine address for the
 * node its task runs on); a check that did not run did not pass, so smoke fails (exit 1) and says why.
 */
export type SkipCause = "chosen" | "unavailable";

export interface ProbeResult {
  name: string;
  kind: ProbeKind;
  status: ProbeStatus;
  durationMs: number;
  /** Why it failed or was skipped; null when it passed. */
  reason: string | null;
  /** The last lines of its output (secrets masked); null when it passed or produced none. */
  output: string | null;
  /** Why it was skipped; null unless `status` is `skipped`. Not in the JSON view: `reason` says it to people. */
  skipCause: SkipCause | null;
}

export interface ProbeContext {
  runtime: Runtime;
  project: string;
  module: Module;
  /** Containers of the project from the health check that ran first. */
  containers: readonly ObservedContainer[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Values masked in every reason and output. */
  secrets: readonly string[];
  /** `skip`: remote probes are reported skipped. */
  remoteMode: "run" | "skip";
  clock?: () => number;
  signal?: AbortSignal | undefined;
}

export const DEFAULT_PROBE_TIMEOUT_SECONDS = 30;
/** Output lines kept for a failed probe. */
const OUTPUT_LINES = 20;
const OUTPUT_CHARS = 4000;
/** Bytes of an HTTP body or command output kept while reading (the tail). */
const KEEP_BYTES = 64 * 1024;

export function probeKind(p: SmokeProbe): ProbeKind {
  if (p.exec) return "exec";
  if (p.http) return "http";
  if (p.tcp) return "tcp";
  return "command";
}

/** Runs every probe of the module, in order; a failure does not stop the next probe. */
export async function runProbes(ctx: ProbeContext): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  for (const p of ctx.module.smoke) out.push(await runProbe(ctx, p));
  return out;
}

interface Outcome {
  ok: boolean;
  reason: string | null;
  output: string;
}

export async function runProbe(ctx: ProbeContext, p: SmokeProbe): Promise<ProbeResult> {
  const kind = probeKind(p);
  const clock = ctx.clock ?? (() => performance.now());
  if (p.remote && ctx.remoteMode === "skip") {
    return {
      name: p.name,
      kind,
      status: "skipped",
      durationMs: 0,
      reason: "remote probe skipped (PLATFORMCTL_SMOKE_REMOTE_MODE=skip)",
      output: null,
      skipCause: "chosen",
    };
  }
  const timeoutMs = (p.timeout_seconds ?? DEFAULT_PROBE_TIMEOUT_SECONDS) * 1000;
  const start = clock();
  let o: Outcome;
  try {
    if (p.exec) o = await execProbe(ctx, p.exec, timeoutMs);
    else if (p.http) {
      const trust = p.http.url.startsWith("https:") ? await httpsTrust(ctx.env) : undefined;
      o = await httpProbe(p.http.url, p.http.expect_status ?? 200, timeoutMs, ctx.signal, trust?.ca);
      if (!o.ok && trust?.warning) o = { ...o, reason: `${o.reason ?? "failed"} (${trust.warning})` };
    } else if (p.tcp) o = await tcpProbe(p.tcp.host, p.tcp.port, timeoutMs);
    else o = await commandProbe(p.command ?? [], path.resolve(ctx.cwd, ctx.module.dir), ctx.env, timeoutMs);
  } catch (e) {
    // A configuration mistake (e.g. a malformed PLATFORMCTL_SWARM_NODE_HOSTS) is the command's error, not a probe's.
    if (e instanceof UsageError) throw e;
    const mask = (t: string) => redact(t, ctx.secrets);
    if (e instanceof ExecUnavailableError) {
      const reason = mask(`skipped, not passed: ${e.message}${e.hint ? `. ${e.hint}` : ""}`);
      return {
        name: p.name,
        kind,
        status: "skipped",
        durationMs: Math.round(clock() - start),
        reason,
        output: null,
        skipCause: "unavailable",
      };
    }
    o = { ok: false, reason: e instanceof Error ? e.message : String(e), output: "" };
  }
  const durationMs = Math.round(clock() - start);
  const mask = (t: string) => redact(t, ctx.secrets);
  if (o.ok) return { name: p.name, kind, status: "passed", durationMs, reason: null, output: null, skipCause: null };
  const tail = lastLines(mask(o.output));
  return {
    name: p.name,
    kind,
    status: "failed",
    durationMs,
    reason: mask(o.reason ?? "failed"),
    output: tail === "" ? null : tail,
    skipCause: null,
  };
}

async function execProbe(ctx: ProbeContext, spec: NonNullable<SmokeProbe["exec"]>, timeoutMs: number): Promise<Outcome> {
  const c = pickContainer(ctx.containers, ctx.module.name, spec.service, unitName(ctx.project, ctx.module.name, spec.service));
  if (!c) return { ok: false, reason: `service ${spec.service} has no container`, output: "" };
  if (c.status !== "running") return { ok: false, reason: `service ${spec.service} is not running (${c.status})`, output: "" };
  const r = await ctx.runtime.exec(c.id, spec.command, timeoutMs, ctx.signal);
  if (r.timedOut)
    return {
      ok: false,
      reason: `timed out after ${timeoutMs / 1000} s (the command keeps running in ${c.name}: the engine cannot stop an exec)`,
      output: r.output,
    };
  if (r.exitCode === 0) return { ok: true, reason: null, output: r.output };
  return {
    ok: false,
    reason: r.exitCode === null ? "the engine did not report an exit code" : `exited with code ${r.exitCode}`,
    output: r.output,
  };
}

function httpProbe(url: string, expectStatus: number, timeoutMs: number, signal?: AbortSignal, ca?: string[]): Promise<Outcome> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const client = url.startsWith("https:") ? https : http;
  return new Promise((resolve) => {
    let body: Buffer = Buffer.alloc(0);
    const fail = (e: unknown) =>
      resolve(
        deadline.aborted
          ? { ok: false, reason: `no complete response from ${url} within ${timeoutMs / 1000} s`, output: body.toString("utf8") }
          : { ok: false, reason: `GET ${url} failed: ${errorText(e)}`, output: body.toString("utf8") },
      );
    const req = client.get(url, { signal: both, headers: { "user-agent": "platformctl-smoke" }, ...(ca ? { ca } : {}) }, (res) => {
      res.on("data", (chunk: Buffer) => {
        body = keepTail(Buffer.concat([body, chunk]));
      });
      res.on("error", fail);
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        resolve(
          status === expectStatus
            ? { ok: true, reason: null, output: "" }
            : { ok: false, reason: `GET ${url}: expected status ${expectStatus}, got ${status}`, output: body.toString("utf8") },
        );
      });
    });
    req.on("error", fail);
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(
      () => done({ ok: false, reason: `no connection to ${host}:${port} within ${timeoutMs / 1000} s`, output: "" }),
      timeoutMs,
    );
    const done = (o: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    socket.once("connect", () => done({ ok: true, reason: null, output: "" }));
    socket.once("error", (e) => done({ ok: false, reason: `connect to ${host}:${port} failed: ${errorText(e)}`, output: "" }));
  });
}

/**
 * Runs argv on the host (no shell) in the module directory. spawn rather than execFile: execFile cannot start the
 * child in its own process group, and on timeout the whole group must be killed, or a grandchild (`sh -c "sleep 60"`)
 * keeps the output pipes open and the probe waiting past its bound.
 */
function commandProbe(
  argv: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs: number,
): Promise<Outcome> {
  const [file, ...args] = argv;
  if (!file) return Promise.resolve({ ok: false, reason: "empty command", output: "" });
  return new Promise((resolve) => {
    let output: Buffer = Buffer.alloc(0);
    let timedOut = false;
    let settled = false;
    const text = () => output.toString("utf8");
    const settle = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(hardStop);
      resolve(o);
    };
    const child = spawn(file, args, { cwd, env: { ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true, shell: false });
    const append = (chunk: Buffer) => {
      output = keepTail(Buffer.concat([output, chunk]));
    };
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    child.once("error", (e) => settle({ ok: false, reason: `cannot run ${file}: ${errorText(e)}`, output: text() }));
    child.once("close", (code, signal) => {
      if (timedOut) settle({ ok: false, reason: `timed out after ${timeoutMs / 1000} s (killed)`, output: text() });
      else if (code === 0) settle({ ok: true, reason: null, output: text() });
      else settle({ ok: false, reason: code === null ? `killed by ${signal ?? "a signal"}` : `exited with code ${code}`, output: text() });
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    // Last resort: a process that left the group still holds the pipes open.
    const hardStop = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
      settle({ ok: false, reason: `timed out after ${timeoutMs / 1000} s (killed)`, output: text() });
    }, timeoutMs + 2000);
  });
}

function keepTail(b: Buffer): Buffer {
  return b.length > KEEP_BYTES ? Buffer.from(b.subarray(b.length - KEEP_BYTES)) : b;
}

/** The last lines of an output, at most OUTPUT_LINES lines and OUTPUT_CHARS characters. */
export function lastLines(text: string, lines = OUTPUT_LINES, chars = OUTPUT_CHARS): string {
  const kept = text.replace(/\s+$/, "").split(/\r?\n/).slice(-lines).join("\n");
  return kept.length > chars ? `…${kept.slice(-chars)}` : kept;
}

function errorText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}
