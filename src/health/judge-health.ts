// Pure judgement of module health: declared services plus one or two observations ~1 s apart in, one verdict per service out.
import type { ExpectedState, Module, Service } from "../manifest/module.js";
import { exitedSuccessfully } from "../plan/compute-plan.js";
import { maintenanceLaneCommands } from "../policy/maintenance-advice.js";
import type { HealthStatus, ObservedContainer } from "../plan/observed-state.js";
import { redact } from "../secrets/masker.js";
import { mountSeverity, type MountFinding } from "./mount-sanity.js";

/**
 * What a service's container is doing, as far as health is concerned. A closed union: machines match on it, the
 * `reason` text is for people.
 *
 * - `missing`: no container for the service.
 * - `never-started`: created, never started (no start error recorded).
 * - `start-error`: a start was tried and failed (`State.Error`, e.g. a missing binary).
 * - `restarting`: a restart loop — status `restarting` in either observation, the restart count rose between
 *   them, or the restart policy restarted it recently (restart count > 0 and started within RESTART_WINDOW_MS, or
 *   within its healthcheck's start period when that is longer). A loop is reported even when the container is
 *   momentarily running: health has no memory across runs, so a recent restart is the evidence inspect gives.
 * - `running`: running, with no healthcheck.
 * - `starting` / `healthy` / `unhealthy`: running, and that is what its healthcheck reports.
 * - `paused`, `removing`: as the engine says.
 * - `exited`: stopped (any exit code, including 0; see `exit_code`); `dead` likewise.
 * - `oom-killed`: stopped by the kernel OOM killer (checked before the exit code, which may be 137 or even 0).
 */
export type ServiceState =
  | "missing"
  | "never-started"
  | "start-error"
  | "restarting"
  | "running"
  | "starting"
  | "healthy"
  | "unhealthy"
  | "paused"
  | "removing"
  | "exited"
  | "dead"
  | "oom-killed";

/**
 * One service's verdict. Invariant: `healthy` follows from `expectedState` and `state` alone (see `judgeService`),
 * except that a mount finding judged unhealthy (see `judgeMounts`) turns a healthy verdict unhealthy.
 */
export interface ServiceVerdict {
  name: string;
  expectedState: ExpectedState;
  state: ServiceState;
  /** The last exit code when the container stopped, failed to start or waits to restart; null while running, never started or missing. */
  exitCode: number | null;
  /** `State.Health.Status`, null without a healthcheck or a container. */
  health: HealthStatus | null;
  healthy: boolean;
  /** Waiting could still make it healthy: a healthcheck still `starting`, or a one-shot still running. */
  pending: boolean;
  /** What is wrong (or right), for people; secrets masked. */
  reason: string;
  /** The container judged, null when missing. */
  container: string | null;
}

export interface ModuleVerdict {
  name: string;
  /** Every service healthy. */
  healthy: boolean;
  /** Some service is pending (see ServiceVerdict.pending). */
  pending: boolean;
  services: ServiceVerdict[];
}

export interface HealthReport {
  /** Every module healthy (true for an empty selection). */
  healthy: boolean;
  modules: ModuleVerdict[];
}

/** The parts of a module the judgement reads. */
export type JudgedModule = Pick<Module, "name"> &
  Partial<Pick<Module, "stateful">> & {
    services: (Pick<Service, "name" | "expectedState"> & Partial<Pick<Service, "healthcheck">>)[];
  };

/**
 * A container the restart policy restarted (restart count > 0) that started less than this long ago is in a restart
 * loop: a service crashing every few seconds is running at most moments, so two samples 1 s apart miss it most of
 * the time. A service that restarted once long ago and stays up is not affected.
 */
export const RESTART_WINDOW_MS = 60_000;

export interface HealthInputs {
  modules: readonly JudgedModule[];
  /** The first observation of the project's containers. */
  first: readonly ObservedContainer[];
  /** A second observation ~1 s later, for restart loops; undefined judges `first` alone. */
  second?: readonly ObservedContainer[] | undefined;
  /** The canonical container name of a service; that container is preferred when a service has several. */
  containerName: (module: string, service: string) => string;
  /** Values masked in every reason (healthcheck output, start errors). */
  secrets: readonly string[];
  /** Seconds already spent waiting per module (with --wait), so a reason can say how long it waited. */
  waitedSeconds?: Readonly<Record<string, number>> | undefined;
  /** The time of the second observation (epoch ms): a recent restart (see RESTART_WINDOW_MS) is a restart loop. */
  now: number;
}

/** Longest healthcheck output quoted in a reason. */
const PROBE_OUTPUT_CHARS = 500;

/** Judges every module. Pure: the same inputs always give the same report. */
export function judgeHealth(inputs: HealthInputs): HealthReport {
  const modules = inputs.modules.map((m): ModuleVerdict => {
    const services = m.services.map((s) => judgeService(inputs, m.name, s));
    return { name: m.name, healthy: services.every((s) => s.healthy), pending: services.some((s) => s.pending), services };
  });
  return { healthy: modules.every((m) => m.healthy), modules };
}

/** The container of one service in one observation: the canonical name first, else the first labelled one. */
export function pickContainer(
  containers: readonly ObservedContainer[],
  module: string,
  service: string,
  canonical: string,
): ObservedContainer | undefined {
  const mine = containers.filter((c) => c.module === module && c.service === service);
  return mine.find((c) => c.name === canonical) ?? mine[0];
}

/** Restarted by its restart policy within the window (or within its healthcheck's start period, when longer). */
function restartedRecently(c: ObservedContainer, s: JudgedModule["services"][number], now: number): boolean {
  if (c.restartCount <= 0 || c.startedAt === undefined) return false;
  const started = Date.parse(c.startedAt);
  if (!Number.isFinite(started)) return false;
  const window = Math.max(RESTART_WINDOW_MS, (s.healthcheck?.startPeriodNs ?? 0) / 1e6);
  return now - started < window;
}

/** A restart policy that restarts the container (`""` and `no` do not; unknown: assume it may). */
const mayRestart = (c: ObservedContainer): boolean => c.restartPolicy === undefined || (c.restartPolicy !== "" && c.restartPolicy !== "no");

/**
 * Whether a second observation ~1 s after `first` could change a verdict: a judged long-running service's container
 * that a restart policy restarts and that is not already seen restarting (the first look may have fallen between
 * two crashes of a loop), or a one-shot still running or restarting (it may finish). Otherwise `first` is judged alone: a
 * container no restart policy restarts cannot loop, so waiting would only delay the same verdict. Pure.
 */
export function needsSecondLook(
  modules: readonly JudgedModule[],
  first: readonly ObservedContainer[],
  containerName: (module: string, service: string) => string,
): boolean {
  return modules.some((m) =>
    m.services.some((s) => {
      const c = pickContainer(first, m.name, s.name, containerName(m.name, s.name));
      if (!c) return false;
      if (s.expectedState === "exited-success") return c.status === "running" || c.status === "restarting";
      return c.status !== "restarting" && mayRestart(c);
    }),
  );
}

function judgeService(inputs: HealthInputs, module: string, s: JudgedModule["services"][number]): ServiceVerdict {
  const canonical = inputs.containerName(module, s.name);
  const first = pickContainer(inputs.first, module, s.name, canonical);
  const second = inputs.second ? pickContainer(inputs.second, module, s.name, canonical) : first;
  const base = { name: s.name, expectedState: s.expectedState };
  // The latest observation is the one judged; the earlier one only reveals a restart loop.
  const c = second ?? first;
  if (!c)
    return {
      ...base,
      state: "missing",
      exitCode: null,
      health: null,
      healthy: false,
      pending: false,
      reason: missingAdvice(inputs, module),
      container: null,
    };
  const earlier = first && second && first.id === second.id ? first : undefined;
  const rose = earlier !== undefined && c.restartCount > earlier.restartCount;
  const recent = !rose && c.status === "running" && restartedRecently(c, s, inputs.now);
  const looping = s.expectedState !== "exited-success" && (c.status === "restarting" || earlier?.status === "restarting" || rose || recent);
  const state = stateOf(c, looping);
  const mask = (text: string) => redact(text, inputs.secrets);
  // A container running again after a restart reports exit code 0; the code of the failed run is only known while restarting.
  const loopExit = c.status === "restarting" ? c.exitCode : earlier?.status === "restarting" ? earlier.exitCode : null;
  const verdict = (healthy: boolean, reason: string, pending = false): ServiceVerdict => ({
    ...base,
    state,
    exitCode: state === "restarting" ? loopExit : exitCodeOf(c, state),
    health: c.health ?? null,
    healthy,
    pending,
    reason,
    container: c.name,
  });
  const waited = inputs.waitedSeconds?.[module];

  if (s.expectedState === "exited-success") {
    if (exitedSuccessfully(c)) return verdict(true, "exited 0");
    if (c.status === "running") return verdict(false, `one-shot still running${waited ? ` after waiting ${waited} s` : ""}`, true);
    return verdict(false, failureReason(c, state, s.expectedState, mask));
  }
  if (state === "restarting") {
    const last = loopExit === null ? "" : `, last exit code ${loopExit}`;
    const how =
      c.status === "restarting"
        ? "restarting"
        : recent
          ? `restarted by its restart policy ${Math.max(0, Math.round((inputs.now - Date.parse(c.startedAt ?? "")) / 1000))} s ago`
          : "restarted while observed";
    // The runtime's own account of the failures (Swarm: the failed tasks' errors), when it gives one.
    const why = c.error ? `: ${mask(c.error)}` : "";
    return verdict(false, `restart loop: ${how} (restart count ${c.restartCount}${last}${c.oomKilled ? ", OOM-killed" : ""})${why}`);
  }
  const isRunning = state === "running" || state === "starting" || state === "healthy" || state === "unhealthy";
  if (!isRunning) return verdict(false, failureReason(c, state, s.expectedState, mask));
  const restarted = c.restartCount > 0 ? ` (restarted ${c.restartCount} time${c.restartCount === 1 ? "" : "s"} by its restart policy)` : "";
  if (s.expectedState === "running") {
    const hc = c.health && c.health !== "healthy" ? `; its healthcheck reports ${c.health} (not required: expected_state running)` : "";
    return verdict(true, `running${restarted}${hc}`);
  }
  // expected healthy
  if (state === "healthy") return verdict(true, `healthcheck healthy${restarted}`);
  if (state === "starting")
    return verdict(false, `healthcheck still starting${waited ? ` after waiting ${waited} s (timeout_seconds)` : ""}`, true);
  if (state === "unhealthy") return verdict(false, `healthcheck reports unhealthy${lastProbe(c, mask)}`);
  return verdict(false, "running, but the container has no healthcheck (expected_state healthy needs one): re-apply the module");
}

/**
 * What to run for a missing container. A stateless module: apply. A stateful one: the maintenance lane (the F3 lane
 * refuses service.missing), unless the module has no container at all, when it may be a first creation (bootstrap).
 */
function missingAdvice(inputs: HealthInputs, module: string): string {
  if (!inputs.modules.find((m) => m.name === module)?.stateful) return `no container: run platformctl apply --module ${module}`;
  const lane = `recreate it through the maintenance lane (runbooks/upgrade-stateful-module.md): ${maintenanceLaneCommands(module).join("; ")}`;
  const any = [...inputs.first, ...(inputs.second ?? [])].some((c) => c.module === module);
  return any
    ? `no container: the module is stateful, so ${lane}`
    : `no container: the module is stateful; a first creation is platformctl apply --module ${module} --allow-stateful --confirm <token> --bootstrap (runbooks/bootstrap-stateful-module.md); if it existed before (its volume holds data), ${lane}`;
}

function stateOf(c: ObservedContainer, looping: boolean): ServiceState {
  if (looping) return "restarting";
  switch (c.status) {
    case "created":
      return c.error ? "start-error" : "never-started";
    case "restarting":
      return "restarting";
    case "paused":
      return "paused";
    case "removing":
      return "removing";
    case "running":
      return c.health ?? "running";
    case "exited":
    case "dead":
      return c.oomKilled ? "oom-killed" : c.status;
  }
}

function exitCodeOf(c: ObservedContainer, state: ServiceState): number | null {
  switch (state) {
    case "exited":
    case "dead":
    case "oom-killed":
    case "start-error":
      return c.exitCode;
    default:
      return null;
  }
}

function failureReason(c: ObservedContainer, state: ServiceState, expected: ExpectedState, mask: (t: string) => string): string {
  switch (state) {
    case "never-started":
      return "created but never started";
    case "start-error":
      return `failed to start (exit code ${c.exitCode}): ${mask(c.error)}`;
    case "oom-killed":
      return `OOM-killed (exit code ${c.exitCode}): raise mem_limit or fix the memory use`;
    case "exited":
    case "dead":
      if (c.exitCode === null) return `stopped, with no exit code kept${c.error ? `: ${mask(c.error)}` : ""}`;
      if (c.exitCode !== 0)
        return `exited with code ${c.exitCode}${expected === "exited-success" ? " (a one-shot must exit 0)" : ""}${c.error ? `: ${mask(c.error)}` : ""}`;
      if (expected !== "exited-success") return "exited 0, but it is expected to keep running";
      // exit 0 that exitedSuccessfully() still refuses: a recorded error or a run without start/finish times
      if (c.error) return `exited 0 with an engine error: ${mask(c.error)}`;
      if (c.startedAt === undefined || c.finishedAt === undefined) return "exited 0 without a recorded run (no start or finish time)";
      return `exited 0, but the engine recorded its finish (${c.finishedAt}) before its start (${c.startedAt}), which the strict exit-0 predicate does not accept`;
    case "paused":
      return "paused: docker unpause it";
    case "removing":
      return "being removed";
    default:
      return `state ${c.status}`;
  }
}

/** `; last probe exited 1: <output>` from the newest healthcheck log entry, masked and cut. */
function lastProbe(c: ObservedContainer, mask: (t: string) => string): string {
  const probe = c.healthLog.at(-1);
  if (!probe) return "";
  const output = mask(probe.output).trim();
  const cut = output.length > PROBE_OUTPUT_CHARS ? `…${output.slice(-PROBE_OUTPUT_CHARS)}` : output;
  return `; last probe exited ${probe.exitCode}${cut ? `: ${cut}` : ""}`;
}

/**
 * Turns mount findings into service verdicts: a finding whose severity is `unhealthy` (see `mountSeverity`; with
 * `strict`, warnings count too) makes its service unhealthy, its reason naming the finding. Findings about no
 * service (`mount.not_checked`) never change a verdict. Pure.
 */
export function judgeMounts(report: HealthReport, findings: readonly MountFinding[], strict: boolean): HealthReport {
  const failing = findings.filter((f) => f.module !== null && f.service !== null && mountSeverity(f.code, strict) === "unhealthy");
  if (failing.length === 0) return report;
  const modules = report.modules.map((m): ModuleVerdict => {
    const services = m.services.map((v): ServiceVerdict => {
      const mine = failing.filter((f) => f.module === m.name && f.service === v.name);
      if (mine.length === 0) return v;
      const what = [...new Set(mine.map((f) => `${f.code} at ${f.path}`))].join(", ");
      return {
        ...v,
        healthy: false,
        pending: false,
        reason: v.healthy ? `mount problem: ${what} (see the mount findings)` : `${v.reason}; mount problem: ${what}`,
      };
    });
    return { ...m, healthy: services.every((v) => v.healthy), pending: services.some((v) => v.pending), services };
  });
  return { healthy: modules.every((m) => m.healthy), modules };
}
