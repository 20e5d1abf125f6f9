// The one way requests reach the engine: docker-modem's dial in stream mode, with status classification done here.
import type { IncomingMessage } from "node:http";
import type { Engine } from "./connect.js";
import { EngineError, kindForStatus, toEngineError, type EngineCall } from "./errors.js";

// Why stream mode for everything: docker-modem's buffered mode never settles when the connection drops after the
// response headers (it listens to neither 'error' nor 'close' on the response), and it JSON-parses every body, so
// a log line `42` comes back as a number. Here every response is read by `readBody`, which always settles.

export type HttpMethod = "GET" | "POST" | "DELETE" | "PUT" | "HEAD";

/** One engine request. The query goes to the URL and the body (POST only) to the request body, never both. */
export interface EngineRequest extends Omit<EngineCall, "endpoint"> {
  method: HttpMethod;
  /** Path below the version prefix, e.g. `/containers/json`; ids and names in it are already encoded. */
  path: string;
  /** Object values (e.g. `filters`) are JSON-encoded by docker-modem. */
  query?: Record<string, unknown> | undefined;
  /** JSON request body for POST; `{}` and undefined send no body. */
  body?: object | undefined;
  /** A byte stream sent as the body (`application/x-tar`, chunked) instead of `body`, e.g. for PUT archive. */
  upload?: NodeJS.ReadableStream | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Deadline for connecting and receiving the response headers (default: `HEADERS_DEADLINE_MS` for reads, longer for
   * mutations). A request that needs longer before it answers, such as a stop with a grace period, says so here.
   */
  headersMs?: number | undefined;
}

/**
 * Every request has deadlines, so an engine that accepts a connection and never answers fails the command with
 * `engine.unresponsive` instead of hanging it. Reads answer in milliseconds on a healthy engine; the first request of
 * every command is a read, so a command fails within about 10 s. Mutations (create, start, remove) may take longer.
 */
export const HEADERS_DEADLINE_MS = 10_000;
export const MUTATION_HEADERS_DEADLINE_MS = 60_000;
/** Longest silence while a response body streams; waits and probe output opt out (they carry their own bound). */
export const BODY_IDLE_MS = 30_000;
/**
 * Longest a whole reply body may take when it has an idle limit: a reply that keeps sending a byte now and then never
 * goes idle, so without this an engine dripping a body would hang the command (replies read whole are small).
 */
export const BODY_DEADLINE_MS = 60_000;
/**
 * Largest reply read whole as JSON (lists, inspects, errors, the wait's reply): a broken or hostile engine answering
 * with an endless body must not exhaust memory. Generous: a list of thousands of containers is a few MiB. Logs,
 * attach, exec output and archives are streams the caller bounds, and have no such cap.
 */
export const MAX_JSON_REPLY_BYTES = 64 * 1024 * 1024;

/** Every status is handed back to us (docker-modem looks statuses up in this map), so classification happens once. */
const ANY_STATUS: Record<number, true> = new Proxy({}, { get: () => true });

interface Dialer {
  dial(options: object, callback: (err: unknown, res: IncomingMessage) => void): void;
}

/** Sends the request and resolves with the response once its status line and headers arrived (any status). */
export function dialRaw(engine: Engine, req: EngineRequest): Promise<IncomingMessage> {
  const call = callOf(engine, req);
  const hasQuery = req.query !== undefined && Object.keys(req.query).length > 0;
  const modem = engine.modem as unknown as Dialer;
  const headersMs = req.headersMs ?? (req.method === "GET" || req.method === "HEAD" ? HEADERS_DEADLINE_MS : MUTATION_HEADERS_DEADLINE_MS);
  // Aborting this ends the request before its headers; it is never aborted once they arrived (the body has its own limits).
  // One controller for both the deadline and the caller's signal (no AbortSignal.any: see `uninspectable`).
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, headersMs);
  const onCallerAbort = () => abort.abort(req.signal?.reason);
  if (req.signal?.aborted) onCallerAbort();
  else req.signal?.addEventListener("abort", onCallerAbort, { once: true });
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: hasQuery ? `${req.path}?` : req.path,
        method: req.method,
        // `_query`/`_body` keep the two apart: without them docker-modem also copies a POST body into the URL.
        options: { _query: req.query ?? {}, _body: req.body ?? {} },
        ...(req.upload ? { file: req.upload, headers: { "Content-Type": "application/x-tar" } } : {}),
        isStream: true,
        abortSignal: uninspectable(abort.signal),
        statusCodes: ANY_STATUS,
      },
      (err, res) => {
        clearTimeout(timer);
        req.signal?.removeEventListener("abort", onCallerAbort);
        if (!err) return resolve(res);
        if (timedOut && !req.signal?.aborted) return reject(unresponsive(call, `no response within ${headersMs / 1000} s`, err));
        reject(toEngineError(err, call, req.signal));
      },
    );
  });
}

/**
 * The signal as docker-modem should hold it. docker-modem formats every request's options with `util.inspect`
 * (showHidden, unlimited depth) for its debug log, even when that log is off; an AbortSignal's internals made that
 * ~0.3 ms per request, a third of a 200-container plan's request overhead (measured with `node --cpu-prof`). Node's
 * http client needs only `aborted`, `reason` and the listener methods, which this view forwards to the real signal.
 */
function uninspectable(signal: AbortSignal): AbortSignal {
  const view = {
    get aborted() {
      return signal.aborted;
    },
    get reason(): unknown {
      return signal.reason;
    },
    addEventListener: signal.addEventListener.bind(signal),
    removeEventListener: signal.removeEventListener.bind(signal),
    [Symbol.for("nodejs.util.inspect.custom")]: () => "AbortSignal",
  };
  return view as unknown as AbortSignal;
}

function unresponsive(call: EngineCall, what: string, cause: unknown): EngineError {
  const where = call.target === undefined ? call.operation : `${call.operation} ${call.target}`;
  return new EngineError({
    ...call,
    kind: "unresponsive",
    errno: "ETIMEDOUT",
    cause,
    message: `The Docker engine at ${call.endpoint ?? "DOCKER_HOST"} accepted the connection but did not answer (${where}: ${what}).`,
  });
}

function tooLarge(call: EngineCall, maxBytes: number): EngineError {
  const where = call.target === undefined ? call.operation : `${call.operation} ${call.target}`;
  return new EngineError({
    ...call,
    kind: "unexpected",
    message: `Docker engine: ${where} failed: unexpected reply (larger than ${maxBytes / (1024 * 1024)} MiB, not read further; is DOCKER_HOST a Docker engine?)`,
  });
}

/**
 * Reads a response until it ends or `signal` aborts: `complete` is false after an abort, with the bytes read so
 * far. Rejects (never hangs) when the connection drops mid-body, and with `engine.unresponsive` after `idleMs`
 * without a byte or BODY_DEADLINE_MS in all (null: neither limit, for a wait or a probe that the caller's `signal` bounds).
 * Rejects with `engine.unexpected` once the body (or its declared length) exceeds `maxBytes`, reading no further.
 */
export function readUntil(
  res: IncomingMessage,
  call: EngineCall,
  signal?: AbortSignal,
  idleMs: number | null = BODY_IDLE_MS,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<{ body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const deadline =
      idleMs === null
        ? undefined
        : setTimeout(
            () => fail(unresponsive(call, `the reply did not end within ${BODY_DEADLINE_MS / 1000} s`, undefined)),
            BODY_DEADLINE_MS,
          );
    const arm = () => {
      if (idleMs === null) return;
      clearTimeout(idle);
      idle = setTimeout(() => fail(unresponsive(call, `the reply stalled for ${idleMs / 1000} s`, undefined)), idleMs);
    };
    const finish = (complete: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      clearTimeout(deadline);
      signal?.removeEventListener("abort", onAbort);
      resolve({ body: Buffer.concat(chunks), complete });
      if (!complete) res.destroy();
    };
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      clearTimeout(deadline);
      signal?.removeEventListener("abort", onAbort);
      reject(toEngineError(e, call, signal));
      res.destroy();
    };
    const onAbort = () => finish(false);
    if (signal?.aborted) return onAbort();
    if (Number(res.headers["content-length"] ?? 0) > maxBytes) return fail(tooLarge(call, maxBytes));
    signal?.addEventListener("abort", onAbort, { once: true });
    arm();
    res.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) return fail(tooLarge(call, maxBytes));
      chunks.push(c);
      arm();
    });
    res.on("error", (e) => (signal?.aborted ? finish(false) : fail(e)));
    res.on("close", () => {
      if (!res.complete) fail(Object.assign(new Error("connection closed mid-response"), { code: "ECONNRESET" }));
    });
    res.on("end", () => finish(true));
  });
}

/**
 * Reads a whole response; rejects (never hangs) when the connection drops mid-body, stalls (`idleMs`), `signal`
 * aborts or it exceeds `maxBytes`.
 */
export async function readBody(
  res: IncomingMessage,
  call: EngineCall,
  signal?: AbortSignal,
  idleMs: number | null = BODY_IDLE_MS,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<Buffer> {
  const { body, complete } = await readUntil(res, call, signal, idleMs, maxBytes);
  if (!complete) throw toEngineError(signal?.reason ?? Object.assign(new Error("aborted"), { name: "AbortError" }), call, signal);
  return body;
}

/** Opens a request whose body the caller streams; a non-2xx status is read and thrown as an EngineError. */
export async function openStream(engine: Engine, req: EngineRequest): Promise<IncomingMessage> {
  const res = await dialRaw(engine, req);
  const status = res.statusCode ?? 0;
  if (kindForStatus(status) === undefined) return res;
  throw await statusError(res, callOf(engine, req), req.signal);
}

/** Sends a request and returns the parsed JSON reply (undefined for an empty or non-JSON body). */
export async function requestJson(engine: Engine, req: EngineRequest): Promise<unknown> {
  const res = await openStream(engine, req);
  const body = await readBody(res, callOf(engine, req), req.signal, BODY_IDLE_MS, MAX_JSON_REPLY_BYTES);
  try {
    return parseJson(res, body);
  } catch (e) {
    throw new EngineError({ ...callOf(engine, req), kind: "unexpected", statusCode: res.statusCode, cause: e });
  }
}

async function statusError(res: IncomingMessage, call: EngineCall, signal?: AbortSignal): Promise<EngineError> {
  const status = res.statusCode ?? 0;
  let engineMessage: string | undefined;
  try {
    const reply = parseJson(res, await readBody(res, call, signal, BODY_IDLE_MS, MAX_JSON_REPLY_BYTES));
    const m = (reply as { message?: unknown } | undefined)?.message;
    engineMessage = typeof m === "string" ? m : undefined;
  } catch {
    // The status is what we classify by; a lost error body only costs the detail.
  }
  return new EngineError({ ...call, kind: kindForStatus(status) ?? "unexpected", statusCode: status, engineMessage });
}

function parseJson(res: IncomingMessage, body: Buffer): unknown {
  if (body.length === 0 || !String(res.headers["content-type"] ?? "").includes("json")) return undefined;
  return JSON.parse(body.toString("utf8")) as unknown;
}

function callOf(engine: Engine, req: EngineRequest): EngineCall {
  return { operation: req.operation, target: req.target, endpoint: engine.endpoint };
}

/** Encodes a container id or name (or any single path segment). */
export const seg = (s: string): string => encodeURIComponent(s);

/** Encodes an image reference for `/images/{ref}/…`, keeping its `/` separators as the engine's router expects. */
export const imageSeg = (ref: string): string => ref.split("/").map(encodeURIComponent).join("/");
