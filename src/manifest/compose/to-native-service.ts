// Maps a merged Compose service onto platformctl's Service (the model native manifests produce), refusing what it cannot carry.
import path from "node:path";
import type { ExpectedState, RestartPolicy, StopSignal } from "../schema.js";
import { PATTERNS, RESTART_POLICIES, STOP_SIGNALS } from "../vocabulary.js";
import { parseDurationNs, parseMemoryBytes, type Mount, type Service } from "../module.js";
import { PROBLEM_CODES, type Problem } from "../problems.js";
import type { ComposeField, ComposeServiceLayer, SourceLocation } from "./compose-service.js";

export interface NativeServiceContext {
  /** The module directory as the catalog names it (paths are made relative to it). */
  moduleDir: string;
  expectedState: ExpectedState;
}

/** A path the Compose reader joined onto its base directory, made relative to the module directory (`./x`, `../x`). */
function relativeToModule(moduleDir: string, joined: string): string {
  if (joined.startsWith("/") || joined.startsWith("$")) return joined;
  const rel = path.posix.relative(path.posix.normalize(moduleDir), path.posix.normalize(joined));
  if (rel === "") return ".";
  return rel.startsWith("..") ? rel : `./${rel}`;
}

/**
 * The native Service for one Compose service, or problems naming the Compose file:line of each field that cannot be
 * mapped. `profiles` needs nothing (a module names its services, which enables them, as `docker compose up SERVICE`
 * does); `depends_on` is checked against the module's own `depends_on` by the caller.
 */
export function toNativeService(
  name: string,
  layer: ComposeServiceLayer,
  ctx: NativeServiceContext,
): { service: Service | undefined; problems: Problem[] } {
  const s = layer.service;
  const problems: Problem[] = [];
  const fail = (field: ComposeField | undefined, message: string) => {
    const at: SourceLocation = (field && layer.origins[field]) || layer.at;
    problems.push({
      file: at.file,
      line: at.line,
      column: at.column,
      path: `services.${name}${field ? `.${field}` : ""}`,
      code: "compose.invalid",
      message,
      hint: PROBLEM_CODES["compose.invalid"].fix,
    });
  };
  if (!PATTERNS.serviceName.test(name))
    fail(
      undefined,
      `service name "${name}" must match ${PATTERNS.serviceName.source} to be a platformctl service; rename it in the Compose file`,
    );
  if (s.image === undefined) fail(undefined, "a service needs an image (build is not supported)");
  else if (!PATTERNS.image.test(s.image)) fail("image", `"${s.image}" is not a valid image reference`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.environment ?? {})) {
    if (!PATTERNS.envKey.test(k)) fail("environment", `environment key "${k}" is not a variable name`);
    env[k] = v;
  }
  let restart: RestartPolicy = "no";
  if (s.restart !== undefined) {
    if ((RESTART_POLICIES as readonly string[]).includes(s.restart)) restart = s.restart as RestartPolicy;
    else fail("restart", `restart "${s.restart}" is not supported (no, always, unless-stopped, on-failure; a retry count is not)`);
  }
  const networks = s.networks ?? ["default"];
  for (const n of networks) if (!PATTERNS.networkName.test(n)) fail("networks", `network "${n}" must match ${PATTERNS.networkName.source}`);
  const volumes: Mount[] = (s.volumes ?? []).map((v) => {
    if (v.type === "volume" && v.source !== undefined && !PATTERNS.volumeName.test(v.source))
      fail("volumes", `volume "${v.source}" is neither a volume name nor a host path`);
    if (!v.target.startsWith("/")) fail("volumes", `volume target "${v.target}" must be an absolute path`);
    return {
      type: v.type,
      source: v.type === "bind" && v.source !== undefined ? relativeToModule(ctx.moduleDir, v.source) : v.source,
      target: v.target,
      readOnly: v.read_only,
    };
  });
  const duration = (field: ComposeField, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!PATTERNS.duration.test(value)) {
      fail(field, `duration "${value}" must be whole units such as 1m30s, 10s, 500ms`);
      return undefined;
    }
    return parseDurationNs(value);
  };
  const hc = s.healthcheck;
  let healthcheck: Service["healthcheck"];
  if (hc?.disable === true)
    healthcheck = { test: ["NONE"], intervalNs: undefined, timeoutNs: undefined, startPeriodNs: undefined, retries: undefined };
  else if (hc) {
    if (!hc.test) fail("healthcheck", "a healthcheck without test (inheriting the image's) is not supported; write the test");
    healthcheck = {
      test: hc.test ?? ["NONE"],
      intervalNs: duration("healthcheck", hc.interval),
      timeoutNs: duration("healthcheck", hc.timeout),
      startPeriodNs: duration("healthcheck", hc.start_period),
      retries: hc.retries,
    };
  }
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.labels ?? {})) {
    if (!PATTERNS.labelKey.test(k)) fail("labels", `label "${k}" is not allowed (reverse-DNS keys; dev.platformctl. is reserved)`);
    labels[k] = v;
  }
  if (s.working_dir !== undefined && !s.working_dir.startsWith("/")) fail("working_dir", "working_dir must be an absolute path");
  // Docker reads `INT`, `sigint` and `SIGINT` alike; the native model keeps the one canonical name.
  let stopSignal: StopSignal | undefined;
  if (s.stop_signal !== undefined) {
    const canonical = `SIG${s.stop_signal.toUpperCase().replace(/^SIG/, "")}`;
    if ((STOP_SIGNALS as readonly string[]).includes(canonical)) stopSignal = canonical as StopSignal;
    else fail("stop_signal", `stop_signal "${s.stop_signal}" is not supported; use a signal name: ${STOP_SIGNALS.join(", ")}`);
  }
  let memLimitBytes: number | undefined;
  if (s.mem_limit !== undefined) {
    const m = /^([0-9]+)(?:([bkmgBKMG])[bB]?)?$/.exec(s.mem_limit);
    if (m) memLimitBytes = parseMemoryBytes(`${m[1]}${(m[2] ?? "").toLowerCase()}`);
    else fail("mem_limit", `mem_limit "${s.mem_limit}" must be a whole number of bytes with an optional unit b, k, m or g`);
  }
  const stopGrace = duration("stop_grace_period", s.stop_grace_period);
  if (problems.length) return { service: undefined, problems };
  return {
    service: {
      name,
      image: s.image as string,
      entrypoint: s.entrypoint ?? undefined,
      command: s.command ?? undefined,
      environment: env,
      envFiles: (s.env_file ?? []).map((f) => relativeToModule(ctx.moduleDir, f)),
      restart,
      restartExplicit: s.restart !== undefined,
      networks: [...networks],
      volumes,
      healthcheck,
      labels,
      user: s.user,
      workingDir: s.working_dir,
      ports: (s.ports ?? []).map((p) => ({ target: p.target, published: p.published, hostIp: p.host_ip, protocol: p.protocol })),
      stopGracePeriodSeconds: stopGrace === undefined ? undefined : Math.ceil(stopGrace / 1e9),
      stopSignal,
      memLimitBytes,
      expectedState: ctx.expectedState,
    },
    problems,
  };
}
