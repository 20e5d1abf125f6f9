// Engine failures, classified once here from HTTP status codes and errno values (never from message text).
import { RuntimeError, type RuntimeErrorKind } from "../runtime/runtime.js";

/**
 * What went wrong talking to the engine:
 * - `not_found` (404), `conflict` (409), `not_modified` (304, e.g. start of a running container),
 *   `bad_request` (400, e.g. a start that failed in the runtime), `server` (500);
 * - `unreachable`: no connection, or it dropped (ECONNREFUSED, ENOENT, EACCES, ECONNRESET, TLS failures …);
 * - `unresponsive`: connected (or connecting), but no response headers, or no body bytes, within the request's
 *   deadline: an engine that accepts and never answers must not hang a command;
 * - `aborted`: the caller's AbortSignal fired;
 * - `unexpected`: any other status, or a reply platformctl cannot read.
 */
export type EngineErrorKind = RuntimeErrorKind;

const STATUS_KINDS: Record<number, EngineErrorKind> = {
  304: "not_modified",
  400: "bad_request",
  404: "not_found",
  409: "conflict",
  500: "server",
};

const UNREACHABLE_ERRNOS = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "EACCES",
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENOTSOCK",
  // TLS handshake and verification failures: the engine cannot be reached securely.
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "EPROTO",
]);

const KIND_WORDS: Record<EngineErrorKind, string> = {
  not_found: "not found",
  conflict: "conflict",
  not_modified: "nothing to do",
  bad_request: "rejected as a bad request",
  server: "engine error",
  unreachable: "engine unreachable",
  unresponsive: "engine did not answer in time",
  aborted: "aborted",
  unexpected: "unexpected reply",
};

/** What was being done, for the message: `operation` is a phrase ("start container"), `target` a name or id. */
export interface EngineCall {
  operation: string;
  target?: string | undefined;
  /** The endpoint the engine was reached at, e.g. `unix:///var/run/docker.sock`. */
  endpoint?: string | undefined;
}

export interface EngineErrorFacts extends EngineCall {
  kind: EngineErrorKind;
  statusCode?: number | undefined;
  errno?: string | undefined;
  /** The engine's own reply message (from the response, never from the request). */
  engineMessage?: string | undefined;
  cause?: unknown;
  /** Replaces the generated one-line summary (which must still name the endpoint or target). */
  message?: string | undefined;
}

/**
 * A classified engine failure. `code` is `engine.<kind>`. The message names the operation, target and status or
 * errno; it never includes a request body (create bodies carry secrets). The engine's reply text goes to `detail`.
 * The Docker adapter's RuntimeError.
 */
export class EngineError extends RuntimeError {
  readonly statusCode: number | undefined;
  readonly errno: string | undefined;
  readonly operation: string;
  readonly target: string | undefined;

  constructor(f: EngineErrorFacts) {
    const where = f.target === undefined ? f.operation : `${f.operation} ${f.target}`;
    const why = f.statusCode !== undefined ? `HTTP ${f.statusCode}` : (f.errno ?? "no status");
    const at = (f.kind === "unreachable" || f.kind === "unresponsive") && f.endpoint ? ` at ${f.endpoint}` : "";
    super(f.kind, `engine.${f.kind}`, f.message ?? `Docker engine: ${where} failed: ${KIND_WORDS[f.kind]}${at} (${why})`, {
      detail: f.engineMessage ? oneLine(f.engineMessage) : undefined,
      hint: f.kind === "unreachable" ? unreachableHint(f.errno) : f.kind === "unresponsive" ? UNRESPONSIVE_HINT : undefined,
      cause: f.cause,
    });
    this.statusCode = f.statusCode;
    this.errno = f.errno;
    this.operation = f.operation;
    this.target = f.target;
  }
}

const UNRESPONSIVE_HINT =
  "The engine accepted the connection but sent no answer: check that dockerd is healthy (`docker info`, its logs), or point DOCKER_HOST at a working engine.";

export function unreachableHint(errno: string | undefined): string {
  if (errno === "EACCES")
    return "Permission denied on the engine socket: run as a user in the `docker` group, or point DOCKER_HOST at an engine you may use.";
  return "Start an engine with `bash scripts/engine.sh ensure` (or `sudo dockerd`), or point DOCKER_HOST at a running one.";
}

/** True when `e` is an EngineError, optionally of one of `kinds`. */
export function isEngineError(e: unknown, ...kinds: EngineErrorKind[]): e is EngineError {
  return e instanceof EngineError && (kinds.length === 0 || kinds.includes(e.kind));
}

/** The kind for an HTTP status: 2xx is not an error and yields undefined. */
export function kindForStatus(status: number): EngineErrorKind | undefined {
  if (status >= 200 && status < 300) return undefined;
  return STATUS_KINDS[status] ?? (status >= 500 ? "server" : "unexpected");
}

/**
 * Classifies a thrown transport error (Node errno, AbortError, docker-modem's `statusCode`) once. An EngineError
 * passes through unchanged, so callers can wrap every engine call in it.
 */
export function toEngineError(e: unknown, call: EngineCall, signal?: AbortSignal): EngineError {
  if (e instanceof EngineError) return e;
  const o = (typeof e === "object" && e !== null ? e : {}) as { name?: unknown; code?: unknown; statusCode?: unknown };
  const code = typeof o.code === "string" ? o.code : undefined;
  if (signal?.aborted || o.name === "AbortError" || code === "ABORT_ERR")
    return new EngineError({ ...call, kind: "aborted", errno: code ?? "ABORT_ERR", cause: e });
  if (typeof o.statusCode === "number")
    return new EngineError({ ...call, kind: kindForStatus(o.statusCode) ?? "unexpected", statusCode: o.statusCode, cause: e });
  if (code !== undefined && (UNREACHABLE_ERRNOS.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_"))) {
    return new EngineError({ ...call, kind: "unreachable", errno: code, cause: e });
  }
  return new EngineError({ ...call, kind: "unexpected", errno: code, cause: e });
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}
