// The desired container spec of a service, as written in the manifest: what its spec hash and field digests are computed from.
import type { Module, Service } from "../manifest/module.js";
import { canonicalJson, keyedDigest, sha256Hex } from "./canonical-json.js";
import { resolveInterpolation } from "../manifest/interpolation.js";

/** Version prefix of every spec hash: bump it when the canonical spec changes shape, so old containers read as changed once, knowingly. */
export const SPEC_HASH_VERSION = "v1";

/**
 * The canonical desired spec of one service, references unresolved (`${VAR}` stays as written) so a plan can be made
 * without secret values. The image is not part of it: image drift is its own kind (`image.changed`/`image.updated`).
 * Fields are named as in the manifest so a changed-field list reads naturally.
 */
export interface DesiredSpec {
  entrypoint: string[] | null;
  command: string[] | null;
  environment: Record<string, string>;
  env_file: string[];
  restart: string;
  networks: string[];
  volumes: { type: string; source: string | null; target: string; read_only: boolean }[];
  healthcheck: {
    test: string[];
    interval_ns: number | null;
    timeout_ns: number | null;
    start_period_ns: number | null;
    retries: number | null;
  } | null;
  labels: Record<string, string>;
  user: string | null;
  working_dir: string | null;
  ports: { target: number; published: number | null; host_ip: string | null; protocol: string }[];
  stop_grace_period_s: number | null;
  mem_limit_bytes: number | null;
  /**
   * Fields added after spec hash v1 are undefined when unset, and canonical JSON drops undefined members: a service
   * that does not use them keeps the hash its containers were labelled with, so adding a field to the spec never
   * makes every existing container look changed.
   */
  stop_signal: string | undefined;
  /** Swarm tasks (`replicas`); undefined when unset. */
  replicas: number | undefined;
  /** The module's Swarm placement constraints; undefined when it has none. */
  placement: string[] | undefined;
}

export function desiredSpec(service: Service, module?: Pick<Module, "placementConstraints">): DesiredSpec {
  const placement = module?.placementConstraints?.length ? [...module.placementConstraints] : undefined;
  const hc = service.healthcheck;
  return {
    entrypoint: service.entrypoint ?? null,
    command: service.command ?? null,
    environment: { ...service.environment },
    env_file: [...service.envFiles],
    restart: service.restart,
    networks: [...service.networks].sort(),
    volumes: service.volumes.map((v) => ({ type: v.type, source: v.source ?? null, target: v.target, read_only: v.readOnly })),
    healthcheck: hc
      ? {
          test: hc.test,
          interval_ns: hc.intervalNs ?? null,
          timeout_ns: hc.timeoutNs ?? null,
          start_period_ns: hc.startPeriodNs ?? null,
          retries: hc.retries ?? null,
        }
      : null,
    labels: { ...service.labels },
    user: service.user ?? null,
    working_dir: service.workingDir ?? null,
    ports: service.ports.map((p) => ({
      target: p.target,
      published: p.published ?? null,
      host_ip: p.hostIp ?? null,
      protocol: p.protocol,
    })),
    stop_grace_period_s: service.stopGracePeriodSeconds ?? null,
    mem_limit_bytes: service.memLimitBytes ?? null,
    stop_signal: service.stopSignal,
    replicas: service.replicas,
    placement,
  };
}

/** `v1:<sha256>` of the canonical desired spec. */
export function specHash(spec: DesiredSpec): string {
  return `${SPEC_HASH_VERSION}:${sha256Hex(canonicalJson(spec))}`;
}

/**
 * Short digests per field (`environment.<KEY>` per key), stored in a label at create time so a plan can say which
 * fields changed. They cover the manifest as written (public in the repository), never resolved values.
 */
export function fieldDigests(spec: DesiredSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, value] of Object.entries(spec)) {
    if (value === undefined) continue;
    if (field === "environment") {
      for (const [k, v] of Object.entries(value as Record<string, string>))
        out[`environment.${k}`] = sha256Hex(canonicalJson(v)).slice(0, 12);
    } else {
      out[field] = sha256Hex(canonicalJson(value)).slice(0, 12);
    }
  }
  return out;
}

/** Field names whose digests differ (added and removed environment keys included), sorted. */
export function changedFields(desired: Record<string, string>, observed: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(desired), ...Object.keys(observed)]);
  return [...keys].filter((k) => desired[k] !== observed[k]).sort();
}

/**
 * Keyed digests of the resolved values of environment entries that hold references, per key. Returns undefined when
 * any referenced variable is unavailable (a PR check has no secrets): then references are compared as written only.
 */
export function secretDigests(
  service: Service,
  env: Readonly<Record<string, string | undefined>>,
  key: Uint8Array,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [k, written] of Object.entries(service.environment)) {
    if (!written.includes("${")) continue;
    const r = resolveInterpolation(written, env);
    if (!r.ok) return undefined;
    out[k] = keyedDigest(key, `${k}=${r.value}`);
  }
  return out;
}

type ModuleSpecs = Map<string, { spec: DesiredSpec; hash: string; readonly fields: Record<string, string> }>;
const specCache = new WeakMap<Module, ModuleSpecs>();

/** The desired spec of every service of a module, keyed by service name (memoised per Module object; Modules are not mutated). */
export function moduleSpecs(module: Module): ModuleSpecs {
  const cached = specCache.get(module);
  if (cached) return cached;
  const computed: ModuleSpecs = new Map(
    module.services.map((s) => {
      const spec = desiredSpec(s, module);
      // The field digests are needed only for a container whose spec hash differs (and at create), so they are
      // computed on first use: a plan of containers in sync never pays for them.
      let fields: Record<string, string> | undefined;
      return [
        s.name,
        {
          spec,
          hash: specHash(spec),
          get fields() {
            fields ??= fieldDigests(spec);
            return fields;
          },
        },
      ];
    }),
  );
  specCache.set(module, computed);
  return computed;
}

/** `v1:<sha256>` over the spec hash of every service of the module (by name): what a backup records as `spec_hash`. */
export function moduleSpecHash(module: Module): string {
  const hashes = Object.fromEntries([...moduleSpecs(module)].map(([name, s]) => [name, s.hash]));
  return `${SPEC_HASH_VERSION}:${sha256Hex(canonicalJson(hashes))}`;
}
