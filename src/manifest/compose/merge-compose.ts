// Merging one Compose service layer onto another (compose-spec 13-merge.md, and `extends` in 05-services.md).
import type { ComposeField, ComposePort, ComposeService, ComposeServiceLayer, ComposeVolume } from "./compose-service.js";

const portKey = (p: ComposePort) => `${p.host_ip ?? ""}|${p.target}|${p.published ?? ""}|${p.protocol}`;

/** Appends entries whose unique key is new and replaces (in place) the ones that share it. */
function mergeKeyed<T>(base: readonly T[], over: readonly T[], key: (t: T) => string): T[] {
  const out = [...base];
  for (const item of over) {
    const i = out.findIndex((b) => key(b) === key(item));
    if (i >= 0) out[i] = item;
    else out.push(item);
  }
  return out;
}

const appendUnique = (base: readonly string[], over: readonly string[]) => [...base, ...over.filter((o) => !base.includes(o))];

/**
 * The decision table: how each supported field of an overriding layer combines with the base. Mappings merge by key
 * (later wins); `volumes` by target and `ports` by {ip, target, published, protocol} (the spec's unique keys);
 * `command`, `entrypoint` and `healthcheck.test` are replaced, never appended; `env_file` appends (duplicates kept,
 * as the spec says for list syntax); `profiles` and `networks` append without duplicates; scalars are replaced.
 */
const RULES: { [F in ComposeField]-?: (base: NonNullable<ComposeService[F]>, over: NonNullable<ComposeService[F]>) => ComposeService[F] } =
  {
    image: (_b, o) => o,
    command: (_b, o) => o,
    entrypoint: (_b, o) => o,
    environment: (b, o) => ({ ...b, ...o }),
    env_file: (b, o) => [...b, ...o],
    volumes: (b, o) => mergeKeyed<ComposeVolume>(b, o, (v) => v.target),
    networks: appendUnique,
    ports: (b, o) => mergeKeyed(b, o, portKey),
    healthcheck: (b, o) => ({ ...b, ...o }),
    restart: (_b, o) => o,
    depends_on: (b, o) => ({ ...b, ...o }),
    labels: (b, o) => ({ ...b, ...o }),
    user: (_b, o) => o,
    working_dir: (_b, o) => o,
    stop_signal: (_b, o) => o,
    stop_grace_period: (_b, o) => o,
    mem_limit: (_b, o) => o,
    profiles: appendUnique,
  };

/** Mapping-valued fields whose single entries `!reset` can remove. */
const MAPPING_FIELDS = new Set<ComposeField>(["environment", "labels", "depends_on", "healthcheck"]);

/**
 * Merges `over` onto `base` and returns the merged layer (inputs untouched). `!reset` on a field removes it (on an
 * entry of a mapping, that entry); `!override` replaces the field whole. The result carries no tags: they apply to
 * the layer below only, as in `docker compose -f base.yaml -f override.yaml`.
 */
export function mergeLayers(base: ComposeServiceLayer, over: ComposeServiceLayer): ComposeServiceLayer {
  const service = structuredClone(base.service) as Record<string, unknown>;
  const origins = { ...base.origins };
  for (const reset of over.resets) {
    const dot = reset.indexOf(".");
    if (dot < 0) {
      delete service[reset];
      delete origins[reset as ComposeField];
      continue;
    }
    const field = reset.slice(0, dot) as ComposeField;
    const entry = service[field] as Record<string, unknown> | undefined;
    if (MAPPING_FIELDS.has(field) && entry) {
      delete entry[reset.slice(dot + 1)];
      if (!Object.keys(entry).length) delete service[field];
    }
  }
  for (const [field, value] of Object.entries(over.service) as [ComposeField, unknown][]) {
    if (over.resets.has(field)) continue;
    const current = service[field];
    const rule = RULES[field] as (b: unknown, o: unknown) => unknown;
    service[field] =
      current === undefined || current === null || value === null || over.overrides.has(field)
        ? structuredClone(value)
        : rule(current, value);
    const at = over.origins[field];
    if (at) origins[field] = at;
  }
  return {
    service: service as ComposeService,
    resets: new Set(),
    overrides: new Set(),
    extends: undefined,
    origins,
    at: over.at,
  };
}

/** A layer with its own tags applied to nothing: what a single file means on its own. */
export function settleLayer(layer: ComposeServiceLayer): ComposeServiceLayer {
  const empty: ComposeServiceLayer = {
    service: {},
    resets: new Set(),
    overrides: new Set(),
    extends: undefined,
    origins: {},
    at: layer.at,
  };
  return mergeLayers(empty, layer);
}
