// The typed Module every later phase works with: a validated manifest, normalised (defaults applied, short forms expanded).
import type {
  BackupMethod,
  BackupVerify,
  ExpectedState,
  ModuleManifest,
  RestartPolicy,
  ServiceManifest,
  SmokeProbe,
  StopSignal,
} from "./schema.js";

export type { BackupMethod, BackupVerify, ExpectedState, RestartPolicy, SmokeProbe, StopSignal };

/** Docker's own default for the wait between the stop signal and SIGKILL, used when `stop_grace_period` is unset. */
const DEFAULT_STOP_GRACE_SECONDS = 10;

/** The grace every stop and recreate of `service` gives between its stop signal and SIGKILL, in seconds. */
export function stopGraceSeconds(service: Pick<Service, "stopGracePeriodSeconds">): number {
  return service.stopGracePeriodSeconds ?? DEFAULT_STOP_GRACE_SECONDS;
}

/** A mount after normalisation. `source` is as written (it may hold `${...}` references); bind sources are resolved at apply time. */
export interface Mount {
  type: "volume" | "bind" | "tmpfs";
  /** Volume name or host path; undefined for tmpfs and anonymous volumes. */
  source: string | undefined;
  target: string;
  readOnly: boolean;
}

export interface PortBinding {
  target: number;
  published: number | undefined;
  hostIp: string | undefined;
  protocol: "tcp" | "udp" | "sctp";
}

export interface Healthcheck {
  /** Docker form: `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`. */
  test: string[];
  intervalNs: number | undefined;
  timeoutNs: number | undefined;
  startPeriodNs: number | undefined;
  retries: number | undefined;
}

/** One declared service. Strings that may hold references (environment values, command, entrypoint, bind sources) are kept as written. */
export interface Service {
  name: string;
  image: string;
  entrypoint: string[] | undefined;
  command: string[] | undefined;
  /** Key -> value as written (map and list forms both end up here; numbers become strings). */
  environment: Record<string, string>;
  envFiles: string[];
  restart: RestartPolicy;
  /** True when `restart` was written in the manifest (strict mode requires it for one-shots). */
  restartExplicit: boolean;
  networks: string[];
  volumes: Mount[];
  healthcheck: Healthcheck | undefined;
  labels: Record<string, string>;
  user: string | undefined;
  workingDir: string | undefined;
  ports: PortBinding[];
  stopGracePeriodSeconds: number | undefined;
  /** `stop_signal` as written (a name from STOP_SIGNALS); undefined leaves the image's STOPSIGNAL (else SIGTERM). */
  stopSignal: StopSignal | undefined;
  memLimitBytes: number | undefined;
  /** The service's own override, or the module's default. */
  expectedState: ExpectedState;
  /** Tasks on the Swarm runtime (`replicas`); undefined means 1. The Docker runtime runs one container. */
  replicas?: number | undefined;
}

/**
 * How the module's data is backed up (spec.backup, defaults applied). `exec` is set exactly when `method` is `exec`
 * (validation guarantees it); its commands are argv as written, run in `exec.service`'s running container.
 */
export interface BackupSpec {
  method: BackupMethod;
  exec: { service: string; command: string[]; restoreCommand: string[] } | undefined;
  verify: BackupVerify;
}

/** A module as the planner, policy and apply see it. */
export interface Module {
  name: string;
  description: string | undefined;
  /** Path of the module.yaml it came from, as given to the loader. */
  file: string;
  /** Directory of the module (bind sources written `./x` are relative to it). */
  dir: string;
  /** `sha256:<hex>` of the manifest bytes: part of a saved plan's fingerprint. */
  contentDigest: string;
  stateful: boolean;
  /** Modules whose backup covers this one (default: the module itself). */
  backupRefModules: string[];
  dependsOn: string[];
  expectedState: ExpectedState;
  timeoutSeconds: number;
  /** Sorted by name. */
  services: Service[];
  smoke: SmokeProbe[];
  /** Set when the services come from Compose files (`spec.compose`) rather than `spec.services`. */
  compose?: ComposeSource | undefined;
  backup: BackupSpec;
  /** Swarm placement constraints of every service (`spec.placement.constraints`), as written; empty when none. */
  placementConstraints?: string[] | undefined;
}

/**
 * Where a Compose-sourced module's services come from, as written in module.yaml (paths relative to the module
 * directory). Adoption of Compose-created containers keys on `project` and `services`.
 */
export interface ComposeSource {
  files: string[];
  services: string[];
  project: string | undefined;
  envFile: string | undefined;
  /** Compose `depends_on` of each owned service: the services it waits for and under which condition. */
  dependsOn: Record<string, Record<string, string>>;
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** `1m30s` -> nanoseconds. The schema has already checked the syntax. */
export function parseDurationNs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)(ns|us|ms|s|m|h)/g)) total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
  return total;
}

/** `256m` -> bytes. */
export function parseMemoryBytes(text: string): number {
  const m = /^([0-9]+)([bkmg]?)$/.exec(text);
  const n = Number(m?.[1] ?? 0);
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m?.[2] ?? ""] ?? 1;
  return n * unit;
}

/** Compose's rule: a source starting with `/`, `.`, `~` or a `${` reference is a host path; otherwise a named volume. */
export function isBindSource(source: string): boolean {
  return /^(?:\/|\.|~|\$\{)/.test(source);
}

export function parseShortVolume(spec: string): Mount {
  // split on ':' outside ${...}
  const parts: string[] = [];
  let cur = "";
  let depth = 0;
  for (const ch of spec) {
    if (ch === "{" && cur.endsWith("$")) depth++;
    if (ch === "}" && depth > 0) depth--;
    if (ch === ":" && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  let mode: string | undefined;
  if (parts.length > 1 && (parts.at(-1) === "ro" || parts.at(-1) === "rw")) mode = parts.pop();
  const target = parts.pop() as string;
  const source = parts.length ? parts.join(":") : undefined;
  const type = source === undefined ? "volume" : isBindSource(source) ? "bind" : "volume";
  return { type, source, target, readOnly: mode === "ro" };
}

function parsePort(
  p:
    | string
    | { target: number; published?: number | undefined; host_ip?: string | undefined; protocol?: "tcp" | "udp" | "sctp" | undefined },
): PortBinding {
  if (typeof p !== "string") return { target: p.target, published: p.published, hostIp: p.host_ip, protocol: p.protocol ?? "tcp" };
  const [addr, proto] = p.split("/") as [string, string | undefined];
  const lastColon = addr.lastIndexOf(":");
  const target = Number(addr.slice(lastColon + 1));
  const rest = lastColon >= 0 ? addr.slice(0, lastColon) : "";
  const restColon = rest.lastIndexOf(":");
  const published = rest ? Number(rest.slice(restColon + 1)) : undefined;
  const hostIp = restColon >= 0 ? rest.slice(0, restColon).replace(/^\[|\]$/g, "") : undefined;
  return { target, published, hostIp, protocol: (proto as PortBinding["protocol"]) ?? "tcp" };
}

const asList = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : typeof v === "string" ? [v] : [...v];

export function environmentMap(env: ServiceManifest["environment"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!env) return out;
  if (Array.isArray(env)) {
    for (const item of env) {
      const eq = item.indexOf("=");
      out[item.slice(0, eq)] = item.slice(eq + 1);
    }
  } else {
    for (const [k, v] of Object.entries(env)) out[k] = String(v);
  }
  return out;
}

function toService(name: string, s: ServiceManifest, moduleDefault: ExpectedState): Service {
  const hc = s.healthcheck;
  return {
    name,
    image: s.image,
    entrypoint: asList(s.entrypoint),
    command: asList(s.command),
    environment: environmentMap(s.environment),
    envFiles: asList(s.env_file) ?? [],
    restart: s.restart ?? "no",
    restartExplicit: s.restart !== undefined,
    networks: [...(s.networks ?? [])],
    volumes: (s.volumes ?? []).map((v) =>
      typeof v === "string" ? parseShortVolume(v) : { type: v.type, source: v.source, target: v.target, readOnly: v.read_only ?? false },
    ),
    healthcheck: hc && {
      test: typeof hc.test === "string" ? ["CMD-SHELL", hc.test] : [...hc.test],
      intervalNs: hc.interval === undefined ? undefined : parseDurationNs(hc.interval),
      timeoutNs: hc.timeout === undefined ? undefined : parseDurationNs(hc.timeout),
      startPeriodNs: hc.start_period === undefined ? undefined : parseDurationNs(hc.start_period),
      retries: hc.retries,
    },
    labels: { ...(s.labels ?? {}) },
    user: s.user,
    workingDir: s.working_dir,
    ports: (s.ports ?? []).map(parsePort),
    stopGracePeriodSeconds: s.stop_grace_period === undefined ? undefined : Math.ceil(parseDurationNs(s.stop_grace_period) / 1e9),
    stopSignal: s.stop_signal,
    memLimitBytes: s.mem_limit === undefined ? undefined : parseMemoryBytes(s.mem_limit),
    expectedState: s.expected_state ?? moduleDefault,
    replicas: s.replicas,
  };
}

/**
 * Builds the typed Module from a schema-valid manifest. A Compose-sourced module's services are mapped by the Compose
 * reader and handed in (`fromCompose`); a native module's come from `spec.services`.
 */
export function toModule(
  m: ModuleManifest,
  source: { file: string; dir: string; contentDigest: string },
  fromCompose?: { services: Service[]; dependsOn: ComposeSource["dependsOn"] },
): Module {
  const expected = m.spec.runtime.expected_state;
  const c = m.spec.compose;
  return {
    name: m.metadata.name,
    description: m.metadata.description,
    file: source.file,
    dir: source.dir,
    contentDigest: source.contentDigest,
    stateful: m.spec.stateful,
    backupRefModules: [...(m.spec.backup_ref_modules ?? [m.metadata.name])],
    dependsOn: [...m.spec.depends_on],
    expectedState: expected,
    timeoutSeconds: m.spec.runtime.timeout_seconds,
    services: (fromCompose ? fromCompose.services.map((s) => [s.name, s] as const) : Object.entries(m.spec.services ?? {}))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, s]) => (fromCompose ? (s as Service) : toService(name, s as ServiceManifest, expected))),
    smoke: m.spec.smoke.map((p) => ({ ...p })),
    backup: toBackup(m),
    placementConstraints: [...(m.spec.placement?.constraints ?? [])],
    ...(c && {
      compose: {
        files: [...c.files],
        services: [...c.services],
        project: c.project,
        envFile: c.env_file,
        dependsOn: fromCompose?.dependsOn ?? {},
      },
    }),
  };
}

/** The backup method of a module that declares none: `stop` (consistent) when stateful, `archive` (no downtime) otherwise. */
export function defaultBackupMethod(stateful: boolean): BackupMethod {
  return stateful ? "stop" : "archive";
}

/** spec.backup with its defaults applied. */
function toBackup(m: ModuleManifest): BackupSpec {
  const b = m.spec.backup;
  const method = b?.method ?? defaultBackupMethod(m.spec.stateful);
  const exec =
    method === "exec" && b?.exec
      ? { service: b.exec.service, command: [...b.exec.command], restoreCommand: [...b.exec.restore_command] }
      : undefined;
  return { method, exec, verify: b?.verify ?? "optional" };
}
