// Runs a command in a running container on a hijacked connection: stdout streamed out, stdin streamed in, exit code from exec inspect.
import type { Duplex, Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import type { Engine } from "./connect.js";
import { readBody, requestJson, seg } from "./dial.js";
import { EngineError, kindForStatus, toEngineError } from "./errors.js";
import type { ExecStreamOptions, ExecStreamResult } from "../runtime/runtime.js";
import { bool, int, nullable, object, readReply, str, tryRead } from "./reply-shape.js";

const readId = object({ Id: str });
const readExecState = object({ Running: bool, ExitCode: nullable(int) });

/** Stderr kept from one streamed exec: enough for any tool's closing complaint, bounded for a chatty one. */
const STDERR_TAIL_LIMIT = 64 * 1024;

/** Body of `POST /containers/{id}/exec` for a streamed command: stdout and stderr framed apart, stdin only when piped. */
export function execStreamCreateBody(cmd: readonly string[], stdin: boolean) {
  return { Cmd: [...cmd], AttachStdin: stdin, AttachStdout: true, AttachStderr: true, Tty: false };
}

interface Dialer {
  dial(options: object, callback: (err: unknown, res: Duplex | IncomingMessage) => void): void;
}

/**
 * Splits the engine's multiplexed stream (8-byte frame headers) as it arrives: frames span chunks, so the header and
 * payload are tracked across them. Stdout payloads go to `onStdout`, which returns false to ask for a pause.
 */
class FrameSplitter {
  private header = Buffer.alloc(0);
  private left = 0;
  private stream = 1;
  constructor(
    private readonly onStdout: (b: Buffer) => boolean,
    private readonly onStderr: (b: Buffer) => void,
  ) {}
  /** Returns false when stdout asked for a pause. */
  push(chunk: Buffer): boolean {
    let ok = true;
    let off = 0;
    while (off < chunk.length) {
      if (this.left === 0) {
        const need = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(off, off + need)]);
        off += Math.min(need, chunk.length - off);
        if (this.header.length < 8) break;
        this.stream = this.header[0] as number;
        this.left = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = chunk.subarray(off, off + this.left);
      off += take.length;
      this.left -= take.length;
      if (this.stream === 2) this.onStderr(take);
      else if (!this.onStdout(take)) ok = false;
    }
    return ok;
  }
}

/**
 * Runs `cmd` in container `id` on a hijacked connection (`POST /exec/{id}/start` upgraded to a raw stream, as
 * `docker exec -i` does), so stdin can be streamed in while the output streams out. Stdout is written to
 * `opts.stdout` with backpressure (the socket pauses while it is full); the last 64 KiB of stderr are kept. Stdin, when
 * given, is piped in and then half-closed, which the engine passes on as end-of-file. The exit code comes from exec
 * inspect. Past `timeoutMs` the connection is closed and the run reported `timedOut` (the engine cannot kill an exec,
 * so the command may run on inside the container).
 */
export async function execStream(engine: Engine, id: string, cmd: readonly string[], opts: ExecStreamOptions): Promise<ExecStreamResult> {
  const t0 = Date.now();
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const both = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const call = { operation: "run exec in container", target: id, endpoint: engine.endpoint };
  const created = await requestJson(engine, {
    method: "POST",
    path: `/containers/${seg(id)}/exec`,
    body: execStreamCreateBody(cmd, opts.stdin !== undefined),
    operation: "create exec in container",
    target: id,
    signal: both,
  });
  const parsed = tryRead(readId, created);
  if (!parsed) throw new EngineError({ kind: "unexpected", operation: "create exec", engineMessage: "reply has no Id" });
  const execId = parsed.Id;
  const sock = await hijack(engine, execId, call, both);
  let stdoutBytes = 0;
  let stderr = Buffer.alloc(0);
  const out = opts.stdout;
  const splitter = new FrameSplitter(
    (b) => {
      stdoutBytes += b.length;
      return out.write(b);
    },
    (b) => {
      stderr = Buffer.concat([stderr, b]);
      if (stderr.length > STDERR_TAIL_LIMIT) stderr = stderr.subarray(stderr.length - STDERR_TAIL_LIMIT);
    },
  );
  const complete = await new Promise<boolean>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      both.removeEventListener("abort", onAbort);
      out.removeListener("error", onOutError);
      fn();
    };
    const onAbort = () =>
      settle(() => {
        sock.destroy();
        opts.stdin?.destroy();
        resolve(false);
      });
    const onOutError = (e: unknown) =>
      settle(() => {
        sock.destroy();
        opts.stdin?.destroy();
        reject(e);
      });
    if (both.aborted) return onAbort();
    both.addEventListener("abort", onAbort, { once: true });
    out.on("error", onOutError);
    sock.on("data", (c: Buffer) => {
      if (!splitter.push(c)) {
        sock.pause();
        out.once("drain", () => sock.resume());
      }
    });
    sock.on("end", () => settle(() => resolve(true)));
    sock.on("close", () => settle(() => resolve(true)));
    sock.on("error", (e) => settle(() => reject(toEngineError(e, call, both))));
    if (opts.stdin) pipeStdin(opts.stdin, sock);
    else sock.end(); // no stdin: half-close at once (the engine reads nothing from it)
  });
  if (opts.signal?.aborted) throw new EngineError({ ...call, kind: "aborted", errno: "ABORT_ERR" });
  const stderrTail = stderr.toString("utf8");
  if (!complete) return { exitCode: null, timedOut: true, stdoutBytes, stderrTail, durationMs: Date.now() - t0 };
  // The stream can end a moment before the engine records the exit code; polled within the same bound.
  while (!both.aborted) {
    const state = readReply(
      readExecState,
      await requestJson(engine, {
        method: "GET",
        path: `/exec/${seg(execId)}/json`,
        operation: "inspect exec",
        target: id,
        signal: both,
      }).catch((e: unknown) => {
        if (deadline.aborted && !opts.signal?.aborted) return { Running: true, ExitCode: null };
        throw e;
      }),
      "inspect exec",
    );
    if (!state.Running && state.ExitCode !== null)
      return { exitCode: state.ExitCode, timedOut: false, stdoutBytes, stderrTail, durationMs: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, 50));
  }
  if (opts.signal?.aborted) throw new EngineError({ ...call, kind: "aborted", errno: "ABORT_ERR" });
  return { exitCode: null, timedOut: true, stdoutBytes, stderrTail, durationMs: Date.now() - t0 };
}

/** Pipes `stdin` into the socket with backpressure, then half-closes it; a command that stops reading early ends it. */
function pipeStdin(stdin: Readable, sock: Duplex): void {
  stdin.on("data", (c: Buffer) => {
    if (!sock.write(c)) {
      stdin.pause();
      sock.once("drain", () => stdin.resume());
    }
  });
  stdin.on("end", () => sock.end());
  // A source that fails mid-way must not reach the command as a clean end-of-file: the connection is cut instead.
  stdin.on("error", (e) => sock.destroy(e));
  sock.on("close", () => stdin.destroy());
}

/** Starts the exec on an upgraded connection and returns the raw socket; a refusal is classified like any reply. */
async function hijack(
  engine: Engine,
  execId: string,
  call: { operation: string; target: string; endpoint: string },
  signal: AbortSignal,
): Promise<Duplex> {
  const modem = engine.modem as unknown as Dialer;
  const res = await new Promise<Duplex | IncomingMessage>((resolve, reject) => {
    modem.dial(
      {
        path: `/exec/${seg(execId)}/start`,
        method: "POST",
        options: { _query: {}, _body: { Detach: false, Tty: false } },
        isStream: true,
        hijack: true,
        abortSignal: signal,
        statusCodes: new Proxy({}, { get: () => true }),
      },
      (err, r) => (err ? reject(toEngineError(err, call, signal)) : resolve(r)),
    );
  });
  if (!("statusCode" in res) || res.statusCode === undefined) return res as Duplex;
  // Not upgraded: an error status (404 exec gone, 409 container stopped) or an engine that does not hijack.
  const msg = res as IncomingMessage;
  const status = msg.statusCode ?? 0;
  const body = await readBody(msg, call, signal).catch(() => Buffer.alloc(0));
  let engineMessage: string | undefined;
  try {
    engineMessage = (JSON.parse(body.toString("utf8")) as { message?: string }).message;
  } catch {
    // The status is what we classify by.
  }
  throw new EngineError({ ...call, kind: kindForStatus(status) ?? "unexpected", statusCode: status, engineMessage });
}
