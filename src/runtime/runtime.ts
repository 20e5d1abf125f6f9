// The runtime port: everything plan, apply, health, smoke and backup need from a runtime, in runtime-neutral terms.
import type { Readable } from "node:stream";
import { PlatformError, type ErrorCode, type PlatformErrorOptions } from "../errors.js";
import type { Module, Service } from "../manifest/module.js";
import type { Problem } from "../manifest/problems.js";
import type { Adoption } from "../plan/adoption.js";
import type { ObservedContainer, ObservedState } from "../plan/observed-state.js";
import type { HeldValues } from "../secrets/module-secrets.js";

/*
 * Vocabulary. A *unit* is what runs one service of one module (a container on Docker; a service task elsewhere).
 * Units, networks and volumes carry the project's ownership mark; a runtime never observes, changes or removes what
 * lacks it. A `UnitRef` is a unit's id or its name as `unitName` (src/plan/unit-name.ts) gives it.
 *
 * Errors. Runtime failures are `RuntimeError`s (below) of a closed `kind`: `unreachable` (no connection, or it
 * dropped), `unresponsive` (connected but no answer within the request's deadline), `aborted` (the caller's signal fired), `not_found`, `conflict`, `bad_request`, `server`, `unexpected`.
 * Callers that must react to one ask `isRuntimeError(e, kind)`, never message text. Where a method documents a
 * return value for a case (`absent`, `null`, `already-running`), that case does not throw. Other PlatformErrors
 * (e.g. `apply.unresolved_reference`) are named where they occur.
 *
 * Bounds. Every method that can wait takes a bound (`timeoutMs`) or is a single request under the runtime's request
 * deadline; `signal` always cuts it short with `aborted`.
 */

/** Options of `Runtime.observe`. */
export interface ObserveOpts {
  signal?: AbortSignal | undefined;
  adoption?: Adoption | undefined;
  configKey?: Uint8Array | undefined;
  /**
   * Called with each observed unit's id and the values it holds (as `heldValues` reads them), taken from the same
   * read as its observation, so masking costs no second read. The values go only to this callback, never into the
   * ObservedState. A runtime that cannot do this does not call it: ask `heldValues` for the units it skipped.
   */
  onHeld?: ((unitId: string, held: HeldValues) => void) | undefined;
  /**
   * The modules the caller will look at: units of other modules may be left out (a runtime may still return them).
   * Undefined: every module's. apply of one module of a large project then reads one module's units, not all.
   */
  modules?: readonly string[] | undefined;
  /** Names of units likely to exist (the modules' own services'), which a runtime may read while it lists. */
  expect?: readonly string[] | undefined;
  /** Include the project's networks (restore's clean-up); otherwise `networks` may be empty. */
  networks?: boolean | undefined;
}

/** A unit's id, or its name. */
export type UnitRef = string;

/** What a service's unit is created from: the module, the service and the values its `${VAR}` references take. */
export interface UnitSpec {
  project: string;
  module: Module;
  service: Service;
  /** The environment `${VAR}` references resolve against. Never printed or persisted. */
  env: Readonly<Record<string, string | undefined>>;
  /** Key for the digests of resolved values written on the unit; undefined omits them. */
  digestKey: Uint8Array | undefined;
  /** Values read from the service's env files (KEY -> value). */
  envFileValues: Record<string, string>;
  /** Labels carried over from the unit it replaces (Compose's, for an adopted unit); platformctl's own labels win. */
  keepLabels?: Record<string, string> | undefined;
}

export interface CreateUnitOptions {
  /** The unit's name; `unitName(...)` for the service's own unit, `replacementUnitName(...)` during a recreate. */
  name: string;
  signal?: AbortSignal | undefined;
  /**
   * Receives every value resolved for the unit (from `${VAR}` and env files) before anything is changed, so the
   * caller can mask them in whatever a later failure shows.
   */
  onSecrets?: ((values: readonly string[]) => void) | undefined;
}

export interface CreatedUnit {
  id: string;
  name: string;
}

/** A mount of a helper unit: a project volume (by its manifest name) or a host path. */
export type HelperMount =
  | { type: "volume"; volume: string; target: string; readOnly: boolean }
  | { type: "bind"; source: string; target: string; readOnly: boolean };

/** A short-lived unit that is not a module's service (e.g. a backup archiver). Marked as `service` `_<role>`. */
export interface HelperSpec {
  project: string;
  module: string;
  /** What it is for, e.g. `backup`; its name comes from `helperUnitName`. */
  role: string;
  /** Distinguishes parallel helpers of the same role (e.g. the process id). */
  nonce: string | number;
  image: string;
  /** argv; the image's entrypoint is replaced by `command[0]`. */
  command: readonly string[];
  mounts: readonly HelperMount[];
}

/** A project network or volume made sure of: its runtime name, and whether this call created it. */
export interface EnsuredResource {
  /** `resourceName(project, name)`. */
  name: string;
  created: boolean;
}

/**
 * How a unit ended up, judged from its inspected state (never from a wait reply alone).
 *
 * - `never-started`: created, never started.
 * - `start-error`: a start was tried and failed (e.g. a missing binary, 127).
 * - `running`: running, including paused.
 * - `restarting`: between attempts of a restart policy.
 * - `succeeded`: exited 0 and not OOM-killed.
 * - `failed`: exited with a code that is not a signal.
 * - `oom-killed`: the kernel OOM killer fired; checked before the exit code, which may be 137 or even 0.
 * - `killed`: exit code 129–159, read as 128 + signal (heuristic: a program may exit 130 by itself).
 * - `vanished`: the unit no longer exists (only a run reports this; inspect cannot).
 */
export type Outcome =
  | { kind: "never-started" }
  | { kind: "start-error"; exitCode: number | null; error: string }
  | { kind: "running" }
  | { kind: "restarting"; restartCount: number }
  | { kind: "succeeded" }
  | { kind: "failed"; exitCode: number | null }
  | { kind: "oom-killed"; exitCode: number | null }
  | { kind: "killed"; signal: number; exitCode: number }
  | { kind: "vanished" };

export interface OneShotOptions {
  /** The run's bound; past it the unit is stopped (its stop signal, then SIGKILL after `graceSeconds`) and kept. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Grace after the stop signal when the run times out, before SIGKILL (default 10 s). */
  graceSeconds?: number | undefined;
  /**
   * The unit as the caller last read it (apply: the observation its plan was gated on, under the lock); given,
   * the run does not read it again first. Its start time is the baseline of `ranThisTime`.
   */
  before?: ObservedContainer | undefined;
}

/** What one run of a one-shot unit did. `ranThisTime` is the evidence that this run happened. */
export interface OneShotResult {
  outcome: Outcome;
  ranThisTime: boolean;
  /** The run outlived `timeoutMs`: it was stopped (and kept, for its logs). */
  timedOut: boolean;
  /** The connection dropped during the start or the wait (e.g. a daemon restart); the end was found by polling. */
  waitLost: boolean;
  /** The start found the unit already running (someone else started it): the run seen is not this one's. */
  alreadyRunning?: boolean | undefined;
  /** The run's exit code; null when the runtime kept none (a Swarm job stopped at its timeout), never a made-up 0. */
  exitCode: number | null;
  oomKilled: boolean;
  /** The runtime's message when the start failed (e.g. a missing binary). May hold resolved values: mask it. */
  startError: string | undefined;
  /** The unit after the run; null when it vanished. */
  unit: ObservedContainer | null;
  durationMs: number;
  /**
   * What became of a run that outlived `timeoutMs` (set only with `timedOut`; undefined reads as `stopped`):
   * `stopped` — stopped and kept (Docker); `parked` — its task was shut down and the unit kept, placed on no node
   * until the next run of it (Swarm cannot stop one task of a job); `still-running` — the runtime was asked to stop
   * it and it still ran at the end of the stop's bound.
   */
  afterTimeout?: "stopped" | "parked" | "still-running" | undefined;
  /** The runtime's own finding about the run (e.g. a known engine bug it detected), for the failure's text. May hold resolved values: mask it. */
  note?: string | undefined;
}

/**
 * Why `waitForState` ended: `reached`; `timed-out`; `exited` (stopped without restarting); `restart-loop` (the
 * restart count rose, or it is between restarts); `unhealthy`; `no-healthcheck` (asked for healthy, but the unit
 * has no healthcheck); `never-started` (created, or a start error); `vanished`.
 */
export type WaitForStateOutcome =
  | "reached"
  | "timed-out"
  | "exited"
  | "restart-loop"
  | "unhealthy"
  | "no-healthcheck"
  | "never-started"
  | "vanished";

/**
 * How long apply, restore and a backup's restart watch a started service stay running before it counts as up: a
 * process that exits right after its start (a crash on boot) is caught instead of reported as running.
 */
export const RUNNING_STABLE_MS = 1000;

export interface WaitForStateOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Observation interval (default 250 ms). */
  intervalMs?: number | undefined;
  /**
   * How long the unit must be seen running without a restart before `running` counts as reached (default 0: the
   * first running observation). Set it to catch a process that crashes soon after start.
   */
  stableMs?: number | undefined;
}

export interface WaitForStateResult {
  outcome: WaitForStateOutcome;
  /** The last observation; null when the unit vanished. */
  unit: ObservedContainer | null;
  elapsedMs: number;
}

/** Why `waitForExit` ended: the unit stopped running (`exited`), the bound passed (`timed-out`, left running), or it is gone. */
export type WaitForExitOutcome = "exited" | "timed-out" | "vanished";

export interface WaitForExitResult {
  outcome: WaitForExitOutcome;
  /** The last observation; null when the unit vanished. */
  unit: ObservedContainer | null;
}

export interface ExecResult {
  /** Null when the command did not finish within the bound (it may keep running: not every runtime can stop it). */
  exitCode: number | null;
  /** stdout and stderr interleaved, at most the last 64 KiB. May hold resolved values: mask it. */
  output: string;
  timedOut: boolean;
}

/** Options of `execStream`: where stdout goes, what stdin gets, and the bound. */
export interface ExecStreamOptions {
  /** Receives the command's stdout byte for byte (backpressure is respected); not ended by `execStream`. */
  stdout: NodeJS.WritableStream;
  /** Bytes piped into the command's stdin, which is closed at their end; undefined: the command gets no stdin. */
  stdin?: Readable | undefined;
  /** Bound of the whole run, from the exec's creation to its exit code. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * How one streamed exec ended. A command that outlives `timeoutMs` is cut off (`timedOut`, `exitCode` null): the
 * stream is closed, but the command may keep running inside the unit, since not every runtime can stop an exec.
 */
export interface ExecStreamResult {
  /** Null when it timed out, or when the runtime never reported the code. */
  exitCode: number | null;
  timedOut: boolean;
  /** Bytes written to `stdout`. */
  stdoutBytes: number;
  /** The last 64 KiB of stderr. May hold resolved values: mask it. */
  stderrTail: string;
  durationMs: number;
}

/** One line of a unit's output; `text` has no line terminator. */
export interface LogLine {
  stream: "stdout" | "stderr";
  text: string;
}

/** One mount of a unit as the runtime reports it. */
export interface UnitMount {
  type: string;
  /** Host path for binds; the volume's data path for volumes. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** `rprivate`, `rshared`, … ("" for volumes). */
  propagation: string;
}

export interface DeviceReading {
  /** `st_dev` at the path inside the unit; null when no method worked. */
  dev: number | null;
  /** How it was read. */
  method: "stat" | "busybox stat" | "mountinfo" | null;
  /** Why each method failed, when none worked. */
  error: string | undefined;
}

export interface VolumeAccessOptions {
  /**
   * An image present on the runtime for the helper unit that holds the volume. The helper is created and never
   * started, so the image needs no shell or tools.
   */
  helperImage: string;
  signal?: AbortSignal | undefined;
  /** Bound of a write (upload and extraction; default 1 hour). A read fails `unresponsive` when the content stalls. */
  timeoutMs?: number | undefined;
}

/**
 * How a runtime keeps the unit a maintenance apply replaces, until its successor is proven (the apply's own wait), so
 * a failed update can be rolled back. The executor asks which one it holds and carries it out; it never asks which
 * runtime it talks to.
 * - `renamed-unit` (Docker): the executor creates the replacement under `replacementUnitName`, stops the old unit and
 *   renames it `previousUnitName`; a rollback removes the replacement and renames the old unit back; success removes
 *   it. It uses `renameUnit`.
 * - `previous-spec` (Swarm, which cannot rename a service): the runtime updates the unit in place and keeps the spec it
 *   replaced itself (`PreviousSpec`); see `PreviousSpecLane`.
 */
export type MaintenanceLane = { keeps: "renamed-unit" } | PreviousSpecLane;

/** The kept previous unit as a spec the runtime holds (Swarm's `PreviousSpec`); every wait bounded by `timeoutMs`. */
export interface PreviousSpecLane {
  keeps: "previous-spec";
  /**
   * Replaces the spec of unit `unit` in place with the one built from `spec`, keeping the replaced spec. The old
   * unit's tasks stop before the new ones start (never two on one volume), and it resolves once they are told to stop,
   * within `opts.timeoutMs`. The unit keeps its id and name; it runs again only if it ran (its `start` action, as on
   * the other lane, then waits for it). Throws before any change for what `createUnit` refuses.
   */
  replaceKeepingPrevious(unit: UnitRef, spec: UnitSpec, opts: ReplaceOptions): Promise<CreatedUnit>;
  /**
   * Puts back the spec `replaceKeepingPrevious` kept for `unit` (in this process) and waits, within `timeoutMs`, until
   * its tasks run as the unit did before (`running`/`healthy` as a start's wait; none when it had not run), judging only
   * the tasks the rollback started. `nothing-kept` when no replace of `unit` changed it (nothing to put back).
   */
  rollBackToPrevious(
    unit: UnitRef,
    opts: { timeoutMs: number; signal?: AbortSignal | undefined },
  ): Promise<"nothing-kept" | WaitForStateOutcome>;
  /** The update was proven: forget what was kept for `unit` (the runtime's own record of the spec may remain). */
  forgetPrevious(unit: UnitRef, signal?: AbortSignal): Promise<void>;
  /**
   * What an interrupted maintenance apply leaves of unit `name` (updated in place, its previous spec kept), and the
   * runtime's own command that puts the previous spec back, for the apply's message; no engine call.
   */
  keptAfterInterrupt(name: string): string;
}

export interface ReplaceOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** As `CreateUnitOptions.onSecrets`: every resolved value, before anything is changed. */
  onSecrets?: ((values: readonly string[]) => void) | undefined;
  /** Called right before the update is sent: from then on the unit may have changed, and a failure is rolled back. */
  onKept: () => void;
}

/**
 * A runtime platformctl plans for and acts on. Implementations: `src/engine/docker-runtime.ts` (the Docker engine).
 * Chosen in one place, `src/runtime/open-runtime.ts`; callers never ask which one they hold.
 */
export interface Runtime {
  /** How a maintenance apply keeps the unit it replaces (see `MaintenanceLane`). */
  readonly maintenance: MaintenanceLane;
  /** Where the runtime is reached, for messages, e.g. `unix:///var/run/docker.sock`. */
  readonly endpoint: string;
  /** The runtime runs on this machine: the host paths its units mount are this machine's paths. */
  readonly local: boolean;

  /** Resolves when the runtime answers; throws `unreachable` (within a few seconds) otherwise. */
  ping(signal?: AbortSignal): Promise<void>;
  /**
   * Refuses, before anything is observed, planned or changed, a module this runtime cannot run without losing data
   * (Swarm: a stateful module not pinned to one node throws `swarm.unpinned_stateful`). No I/O. Docker admits all.
   * Returns the fields of `modules` this runtime will not use (`runtime.ignored_field` warnings, never errors; Docker:
   * `replicas` and `spec.placement`), for plan and apply to show. Call it before volume access too: Swarm remembers
   * where the admitted modules' volumes live (the node their constraints pin them to).
   */
  admit(modules: readonly Module[]): Problem[];

  /**
   * One read-only snapshot of `project`: every unit carrying its mark, the local image id of each of `imageRefs`
   * (null when absent), its volumes and networks. Issues no mutation. A unit removed mid-observation is skipped.
   * With `adoption`, the Compose-created units and volumes it names are included as their modules' (never more than
   * one list request); with `configKey`, adopted units carry their digested config and images their defaults.
   */
  observe(project: string, imageRefs: readonly string[], opts?: ObserveOpts): Promise<ObservedState>;
  /**
   * One unit as observe would describe it; null when it does not exist. `onHeld` (see ObserveOpts) receives the values
   * it holds from the same read; a runtime that cannot do this does not call it (ask `heldValues`).
   */
  inspectUnit(unit: UnitRef, signal?: AbortSignal, onHeld?: (held: HeldValues) => void): Promise<ObservedContainer | null>;
  /** The local id of image `ref`; null when the runtime does not have it (nothing is pulled). */
  imageId(ref: string, signal?: AbortSignal): Promise<string | null>;
  /**
   * The values a unit was created with (environment, entrypoint, command), only so they can be masked: never shown,
   * stored or put in an observation. Null when the unit does not exist or its values cannot be read.
   */
  heldValues(unit: UnitRef, signal?: AbortSignal): Promise<HeldValues | null>;

  /**
   * Creates (never starts) the unit of `spec.service` under `opts.name`, making sure of its networks and volumes
   * first. Throws `apply.unresolved_reference` naming the variable (never a value) before any change when a
   * required `${VAR}` is unset, and `conflict` when the name is taken. The adapter masks the environment values it
   * sent in what the runtime echoes back; mask anything shown with the values given to `onSecrets` as well.
   */
  createUnit(spec: UnitSpec, opts: CreateUnitOptions): Promise<CreatedUnit>;
  /** Creates (never starts) a helper unit marked with the project and module; returns it. Remove it when done. */
  createHelper(spec: HelperSpec, signal?: AbortSignal): Promise<CreatedUnit>;
  /** Starts a unit; `already-running` when it was. A start the runtime refuses (bad binary) throws `bad_request`. */
  startUnit(unit: UnitRef, signal?: AbortSignal): Promise<"started" | "already-running">;
  /**
   * Stops a unit: the stop signal it was created with (the service's `stop_signal`, else the image's, else SIGTERM),
   * then SIGKILL after `graceSeconds` (pass `stopGraceSeconds(service)`); resolves once it stopped. A stop keeps the
   * unit stopped: its restart policy does not start it again.
   */
  stopUnit(unit: UnitRef, graceSeconds: number, signal?: AbortSignal): Promise<"stopped" | "already-stopped">;
  /** Removes a unit, never its volumes; `absent` when it was already gone. `force` kills a running one first. */
  removeUnit(unit: UnitRef, opts?: { force?: boolean; signal?: AbortSignal | undefined }): Promise<"removed" | "absent">;
  /** Renames a unit (the last step of a recreate); `conflict` when the name is taken. */
  renameUnit(unit: UnitRef, newName: string, signal?: AbortSignal): Promise<void>;
  /** Makes sure project network `name` exists; one of that name not marked with `project` throws `conflict`. */
  ensureNetwork(project: string, name: string, signal?: AbortSignal): Promise<EnsuredResource>;
  /**
   * Makes sure module volume `name` exists (created with the stateful mark when `stateful`; an existing volume is
   * never relabelled); one of that name not marked with `project` throws `conflict`.
   */
  ensureVolume(project: string, module: string, name: string, signal?: AbortSignal, stateful?: boolean): Promise<EnsuredResource>;
  /**
   * Removes project volume `name` (its manifest name) and its content; `absent` when there is none. Throws `conflict`
   * for a volume of that name not marked with `project`, and for one a unit still mounts (remove the units first).
   */
  removeVolume(project: string, name: string, signal?: AbortSignal): Promise<"removed" | "absent">;
  /** Removes project network `name`; `absent` when there is none; `conflict` when not marked with `project`. */
  removeNetwork(project: string, name: string, signal?: AbortSignal): Promise<"removed" | "absent">;

  /**
   * Runs a created (or exited) unit once and reports how it ended; never misses an exit however fast. Past
   * `timeoutMs` the unit is stopped and kept (`timedOut`). A lost connection falls back to polling within the same
   * bound. Throws `not_found` when there is no such unit and `aborted` when `signal` fires (the unit is left).
   */
  runOneShot(unit: UnitRef, opts: OneShotOptions): Promise<OneShotResult>;
  /**
   * Waits, within `timeoutMs`, until a started unit is `running` (or `healthy`), ending early on what cannot recover
   * in time: an exit, a restart, an unhealthy report, no healthcheck, a unit that never started or vanished.
   */
  waitForState(unit: UnitRef, target: "running" | "healthy", opts: WaitForStateOptions): Promise<WaitForStateResult>;
  /** Waits, within `timeoutMs`, until a running unit (a one-shot someone else started) stops; never starts it. */
  waitForExit(unit: UnitRef, opts: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<WaitForExitResult>;
  /** Runs `cmd` (argv, no shell added) in a running unit, bounded by `timeoutMs`; see `ExecResult`. */
  exec(unit: UnitRef, cmd: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecResult>;
  /**
   * Runs `cmd` (argv, no shell added) in a running unit with its stdout streamed into `opts.stdout` and, when given,
   * `opts.stdin` piped into its stdin (closed at its end); for dumps and restores of a live service. Throws `not_found`
   * when there is no such unit, `conflict` when it is not running, and `aborted` when `signal` fires.
   */
  execStream(unit: UnitRef, cmd: readonly string[], opts: ExecStreamOptions): Promise<ExecStreamResult>;
  /** The last `lines` lines of the unit's stdout and stderr, demuxed, oldest first. Unmasked: mask before showing. */
  tailLogs(unit: UnitRef, lines: number, signal?: AbortSignal): Promise<LogLine[]>;

  /** The unit's mounts (one read). */
  unitMounts(unit: UnitRef, signal?: AbortSignal): Promise<UnitMount[]>;
  /** The device a running unit sees at `path`, by probes each bounded by `timeoutMs`; never throws for a failed probe. */
  readDevice(unit: UnitRef, path: string, timeoutMs: number, signal?: AbortSignal): Promise<DeviceReading>;

  /**
   * Resolves when project volumes `volumes` (manifest names) can be read and written now; otherwise throws, so a
   * backup or restore fails before it stops or changes anything. Docker: nothing to check (the engine is the host).
   * Swarm: their node (from the admitted modules' constraints) is ready and its engine answers. Given `helper`, also
   * that its image (the never-started volume helper's) is present where the helper is created — Docker: the engine;
   * Swarm: the volumes' node — else `backup.image_missing` naming that place and how to load the image there.
   */
  checkVolumeAccess(
    project: string,
    volumes: readonly string[],
    signal?: AbortSignal,
    helper?: { image: string; module: string },
  ): Promise<void>;
  /**
   * Reads the content of project volume `volume` (its manifest name) as a tar stream handed to `consume`; entries
   * are relative to the volume's root (`./a/b`). The volume is only read (mounted read-only by a helper unit that
   * is never started and is removed afterwards, also on failure). Throws `not_found` when the volume does not
   * exist. Resolves with what `consume` returns, after it settles.
   */
  readVolume<T>(project: string, volume: string, consume: (tar: Readable) => Promise<T>, opts: VolumeAccessOptions): Promise<T>;
  /**
   * Extracts tar stream `tar` into project volume `volume` (its manifest name), over what is there (nothing is
   * deleted first). Same helper and errors as `readVolume`; the volume must exist.
   */
  writeVolume(project: string, volume: string, tar: Readable, opts: VolumeAccessOptions): Promise<void>;
}

/** The failure kinds every runtime classifies its errors into (see the vocabulary above). */
export type RuntimeErrorKind =
  | "not_found"
  | "conflict"
  | "not_modified"
  | "bad_request"
  | "server"
  | "unreachable"
  | "unresponsive"
  | "aborted"
  | "unexpected";

/**
 * A classified runtime failure. Each adapter throws its own subclass (Docker: `EngineError`, code `engine.<kind>`),
 * classified once in the adapter from status codes and errno values; callers match on `kind` only.
 */
export class RuntimeError extends PlatformError {
  readonly kind: RuntimeErrorKind;
  constructor(kind: RuntimeErrorKind, code: ErrorCode, message: string, options: PlatformErrorOptions = {}) {
    super(code, message, options);
    this.kind = kind;
  }
}

/**
 * The runtime cannot run a command in this unit from here (Swarm: the engine address of the node its task runs on is
 * not known). Not a failure of the command and never a pass: probes report it `skipped` with this message.
 */
export class ExecUnavailableError extends PlatformError {
  constructor(message: string, options: PlatformErrorOptions = {}) {
    super("runtime.exec_unavailable", message, options);
  }
}

/** True when `e` is a RuntimeError, optionally of one of `kinds`. */
export function isRuntimeError(e: unknown, ...kinds: RuntimeErrorKind[]): e is RuntimeError {
  return e instanceof RuntimeError && (kinds.length === 0 || kinds.includes(e.kind));
}
