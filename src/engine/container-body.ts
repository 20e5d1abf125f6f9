// Pure builder of the Docker create request for one service: labels, resolved values and host config, no I/O.
import path from "node:path";
import type { Module, Service } from "../manifest/module.js";
import { resolveInterpolation } from "../manifest/interpolation.js";
import { moduleSpecs, secretDigests } from "../plan/desired-spec.js";
import { InternalError, PlatformError } from "../errors.js";
import { LABEL } from "./labels.js";
import { resourceName, unitName } from "../plan/unit-name.js";

/** The body of `POST /containers/create` (API 1.41 field names). */
export interface CreateBody {
  Image: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env: string[];
  Labels: Record<string, string>;
  User?: string;
  WorkingDir?: string;
  StopTimeout?: number;
  StopSignal?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
  HostConfig: {
    RestartPolicy: { Name: string; MaximumRetryCount?: number };
    Mounts: { Type: "volume" | "bind" | "tmpfs"; Source?: string; Target: string; ReadOnly: boolean }[];
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
    Memory?: number;
    MemorySwap?: number;
    NetworkMode?: string;
  };
  NetworkingConfig?: { EndpointsConfig: Record<string, { Aliases: string[] }> };
}

export interface BuiltContainer {
  name: string;
  body: CreateBody;
  /** Networks (full names) to connect after create: API 1.41 accepts only one endpoint at create time. */
  extraNetworks: string[];
  /** Named volumes (full name -> manifest name) the service needs. */
  volumes: Record<string, string>;
  /** Values resolved from `${VAR}` references and env files: callers mask these in everything they show. */
  secrets: string[];
}

export interface BuildContext {
  project: string;
  module: Module;
  service: Service;
  env: Readonly<Record<string, string | undefined>>;
  /** Key for the secret-digests label; without it the label is omitted. */
  digestKey: Uint8Array | undefined;
  /** Values read from the service's env files, already parsed (KEY -> value). */
  envFileValues?: Record<string, string>;
  /** Labels kept from the container being replaced (Compose's); the service's and platformctl's labels win. */
  keepLabels?: Record<string, string> | undefined;
}

function resolveOrFail(text: string, ctx: BuildContext, field: string, secrets: string[]): string {
  const r = resolveInterpolation(text, ctx.env);
  if (!r.ok) {
    throw new PlatformError("apply.unresolved_reference", `${ctx.module.name}/${ctx.service.name} ${field}: ${r.message}`, {
      hint: "Set the variable in the environment of the apply (CI secrets, or export it) and run again.",
    });
  }
  secrets.push(...r.secrets);
  return r.value;
}

/** Builds the create request; fails with the variable's name (never a value) when a required reference is unset. */
export function buildContainer(ctx: BuildContext): BuiltContainer {
  const { project, module: m, service: s } = ctx;
  const secrets: string[] = [];
  const spec = moduleSpecs(m).get(s.name);
  if (!spec) throw new InternalError(`service ${s.name} is not part of module ${m.name}`);
  const env: string[] = [];
  for (const [k, v] of Object.entries(ctx.envFileValues ?? {}).sort()) {
    if (v !== "") secrets.push(v);
    if (!(k in s.environment)) env.push(`${k}=${v}`);
  }
  for (const [k, v] of Object.entries(s.environment).sort()) env.push(`${k}=${resolveOrFail(v, ctx, `environment.${k}`, secrets)}`);
  const entrypoint = s.entrypoint?.map((a, i) => resolveOrFail(a, ctx, `entrypoint[${i}]`, secrets));
  const cmd = s.command?.map((a, i) => resolveOrFail(a, ctx, `command[${i}]`, secrets));

  const digests = ctx.digestKey ? secretDigests(s, ctx.env, ctx.digestKey) : undefined;
  const labels: Record<string, string> = {
    ...ctx.keepLabels,
    ...s.labels,
    [LABEL.project]: project,
    [LABEL.module]: m.name,
    [LABEL.service]: s.name,
    [LABEL.specHash]: spec.hash,
    [LABEL.specFields]: JSON.stringify(spec.fields),
    [LABEL.imageRef]: s.image,
  };
  if (digests && Object.keys(digests).length) labels[LABEL.secretDigests] = JSON.stringify(digests);
  if (m.stateful) labels[LABEL.stateful] = "true";

  const volumes: Record<string, string> = {};
  const mounts = s.volumes.map((v) => {
    if (v.type === "volume") {
      if (v.source === undefined) return { Type: "volume" as const, Target: v.target, ReadOnly: v.readOnly };
      const full = resourceName(project, v.source);
      volumes[full] = v.source;
      return { Type: "volume" as const, Source: full, Target: v.target, ReadOnly: v.readOnly };
    }
    if (v.type === "tmpfs") return { Type: "tmpfs" as const, Target: v.target, ReadOnly: v.readOnly };
    const raw = resolveOrFail(v.source ?? "", ctx, `volumes(${v.target})`, []);
    return { Type: "bind" as const, Source: path.resolve(m.dir, raw), Target: v.target, ReadOnly: v.readOnly };
  });

  const networks = s.networks.map((n) => resourceName(project, n));
  const body: CreateBody = {
    Image: s.image,
    Env: env,
    Labels: labels,
    HostConfig: {
      RestartPolicy: { Name: s.restart === "no" ? "no" : s.restart },
      Mounts: mounts,
    },
  };
  if (entrypoint) body.Entrypoint = entrypoint;
  if (cmd) body.Cmd = cmd;
  if (s.user) body.User = s.user;
  if (s.workingDir) body.WorkingDir = s.workingDir;
  if (s.stopGracePeriodSeconds !== undefined) body.StopTimeout = s.stopGracePeriodSeconds;
  if (s.stopSignal !== undefined) body.StopSignal = s.stopSignal;
  if (s.healthcheck) {
    const hc = s.healthcheck;
    // Interpolated like command (Compose's rule): `$$` reaches the container as `$`, `${VAR}` as its value.
    body.Healthcheck = { Test: hc.test.map((a, i) => resolveOrFail(a, ctx, `healthcheck.test[${i}]`, secrets)) };
    if (hc.intervalNs !== undefined) body.Healthcheck.Interval = hc.intervalNs;
    if (hc.timeoutNs !== undefined) body.Healthcheck.Timeout = hc.timeoutNs;
    if (hc.startPeriodNs !== undefined) body.Healthcheck.StartPeriod = hc.startPeriodNs;
    if (hc.retries !== undefined) body.Healthcheck.Retries = hc.retries;
  }
  if (s.memLimitBytes !== undefined) {
    body.HostConfig.Memory = s.memLimitBytes;
    body.HostConfig.MemorySwap = s.memLimitBytes;
  }
  if (s.ports.length) {
    body.ExposedPorts = {};
    body.HostConfig.PortBindings = {};
    for (const p of s.ports) {
      const key = `${p.target}/${p.protocol}`;
      body.ExposedPorts[key] = {};
      if (p.published === undefined) continue;
      const bindings = body.HostConfig.PortBindings[key] ?? [];
      bindings.push({ HostIp: p.hostIp ?? "", HostPort: String(p.published) });
      body.HostConfig.PortBindings[key] = bindings;
    }
  }
  if (networks.length) {
    const first = networks[0] as string;
    body.HostConfig.NetworkMode = first;
    body.NetworkingConfig = { EndpointsConfig: { [first]: { Aliases: [s.name] } } };
  }
  return {
    name: unitName(project, m.name, s.name),
    body,
    extraNetworks: networks.slice(1),
    volumes,
    secrets: [...new Set(secrets)].filter((x) => x.length > 0),
  };
}
