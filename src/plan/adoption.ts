// Adoption of Compose-created containers: which ones a module owns, and how an inspected one compares with its service.
import type { Module, Service } from "../manifest/module.js";
import { resolveInterpolation } from "../manifest/interpolation.js";
import { canonicalJson, keyedDigest } from "./canonical-json.js";
import type { ObservedConfig, ObservedContainer, ObservedImageConfig } from "./observed-state.js";
import { resourceName } from "./unit-name.js";

/** The labels Docker Compose (v1 and v2) writes on what it creates. */
export const COMPOSE_LABEL = {
  project: "com.docker.compose.project",
  service: "com.docker.compose.service",
  /** `True` on `docker compose run` containers: never a service's live container. */
  oneoff: "com.docker.compose.oneoff",
  volume: "com.docker.compose.volume",
  network: "com.docker.compose.network",
  /** Compose's digest of its own normalised service model; `docker compose up` recreates a container whose label differs. */
  configHash: "com.docker.compose.config-hash",
} as const;

/** The prefix of every Compose label; a recreated adopted container keeps these beside platformctl's. */
export const COMPOSE_LABEL_PREFIX = "com.docker.compose.";

/**
 * One Compose service a module owns: a container labelled `com.docker.compose.project=composeProject` and
 * `com.docker.compose.service=service` (and not `oneoff=True`) is that module's live container of that service,
 * whatever name Compose gave it (`<p>_<s>_1` for v1, `<p>-<s>-1` for v2).
 */
export interface AdoptionRule {
  composeProject: string;
  service: string;
  module: string;
}

/** A Compose-created volume (`<composeProject>_<name>`) counted as a module's own. */
export interface AdoptedVolume {
  name: string;
  composeProject: string;
  module: string;
}

/** What observation needs to find a catalog's Compose-created resources; empty when no module uses `spec.compose`. */
export interface Adoption {
  rules: AdoptionRule[];
  volumes: AdoptedVolume[];
}

/** The Compose project a module's services live in: `spec.compose.project`, else platformctl's `--project`. */
export function composeProjectOf(module: Module, project: string): string | undefined {
  return module.compose ? (module.compose.project ?? project) : undefined;
}

/** The adoption rules of a catalog: one per service of each Compose-sourced module, one per named volume it mounts. */
export function adoptionOf(catalog: readonly Module[], project: string): Adoption {
  const rules: AdoptionRule[] = [];
  const volumes = new Map<string, AdoptedVolume>();
  for (const m of catalog) {
    const cp = composeProjectOf(m, project);
    if (cp === undefined) continue;
    for (const s of m.services) {
      rules.push({ composeProject: cp, service: s.name, module: m.name });
      for (const v of s.volumes)
        if (v.type === "volume" && v.source !== undefined) {
          const name = resourceName(cp, v.source);
          if (!volumes.has(name)) volumes.set(name, { name, composeProject: cp, module: m.name });
        }
    }
  }
  return { rules, volumes: [...volumes.values()] };
}

/** The rule a container's labels match, when Compose created it for a service of the catalog (never a one-off). */
export function matchAdoption(labels: Readonly<Record<string, string>>, adoption: Adoption): AdoptionRule | undefined {
  return adoptionMatcher(adoption)(labels);
}

/**
 * `matchAdoption` over one `adoption` for many containers: the rules indexed once by Compose project and service (the
 * first rule for a pair wins, as a search of the list would find it), so matching every container an engine lists is
 * not a scan of every rule each. The index is a snapshot: build a new matcher when the rules change.
 */
export function adoptionMatcher(adoption: Adoption): (labels: Readonly<Record<string, string>>) => AdoptionRule | undefined {
  const byProject = new Map<string, Map<string, AdoptionRule>>();
  for (const r of adoption.rules) {
    const byService = byProject.get(r.composeProject) ?? new Map<string, AdoptionRule>();
    byProject.set(r.composeProject, byService);
    if (!byService.has(r.service)) byService.set(r.service, r);
  }
  return (labels) => {
    const cp = labels[COMPOSE_LABEL.project];
    const svc = labels[COMPOSE_LABEL.service];
    if (cp === undefined || svc === undefined || labels[COMPOSE_LABEL.oneoff] === "True") return undefined;
    return byProject.get(cp)?.get(svc);
  };
}

/** Recreate causes after which the replacement has the config the old container had, so Compose's config-hash still holds. */
const SAME_CONFIG_CAUSES: ReadonlySet<string> = new Set(["container.state.unhealthy", "image.updated"]);

/**
 * The Compose labels of a container, to carry onto its replacement so `docker compose ps` keeps listing it.
 *
 * Decision: `com.docker.compose.config-hash` is Compose's private digest of its normalised service model (v1's and
 * v2's differ; v1's includes the image id), which platformctl cannot reproduce. It is kept only when the recreate's
 * `cause` leaves the config as it was (unhealthy, same reference re-resolved). After a config change it is dropped,
 * never carried stale: a stale hash would let Compose take the container for the config it had before (revert the
 * file and `docker compose up` would leave the new config running). Without it, `docker compose up` recreates the
 * container once, with the same config and volumes, and is up to date from then on.
 */
export function composeLabels(labels: Readonly<Record<string, string>>, cause?: string): Record<string, string> {
  const keepHash = cause !== undefined && SAME_CONFIG_CAUSES.has(cause);
  return Object.fromEntries(
    Object.entries(labels).filter(([k]) => k.startsWith(COMPOSE_LABEL_PREFIX) && (keepHash || k !== COMPOSE_LABEL.configHash)),
  );
}

/**
 * One published port as the engine holds it (`HostConfig.PortBindings`), in one text form for both sides of the
 * comparison: `hostIp:hostPort:target/protocol`. "0.0.0.0" reads as "" (both mean every interface) and hostPort is
 * "" when the port is not published to a fixed host port.
 */
export function portEntry(
  hostIp: string | undefined,
  hostPort: string | number | undefined,
  target: number | string,
  protocol: string,
): string {
  const ip = hostIp === undefined || hostIp === "0.0.0.0" ? "" : hostIp;
  return `${ip}:${hostPort ?? ""}:${target}/${protocol}`;
}

/** Keyed digest of one environment entry (`KEY=value`): comparable, never the value. */
export const envEntryDigest = (key: Uint8Array, name: string, value: string): string => keyedDigest(key, `${name}=${value}`);

/** Keyed digest of an argv (command, entrypoint, healthcheck test); null for none or empty, as the engine reads both alike. */
export const argvDigest = (key: Uint8Array, argv: readonly string[] | null | undefined): string | null =>
  argv?.length ? keyedDigest(key, canonicalJson(argv)) : null;

/** Keyed digests of `KEY=value` entries as the engine holds them (`Config.Env`); a later duplicate wins, as in Docker. */
export function envDigests(key: Uint8Array, entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const i = e.indexOf("=");
    if (i > 0) out[e.slice(0, i)] = envEntryDigest(key, e.slice(0, i), e.slice(i + 1));
  }
  return out;
}

/**
 * The desired values of a service's secret-bearing fields, resolved against `env` and digested with `key`: per
 * environment key a digest, or null when a `${VAR}` it references is not available (then it is unknown, never guessed
 * and never shown); the argv fields likewise, undefined when the service does not set them.
 */
export interface DesiredDigests {
  environment: Record<string, string | null>;
  command: string | null | undefined;
  entrypoint: string | null | undefined;
  healthcheckTest: string | null | undefined;
}

export function desiredDigests(service: Service, env: Readonly<Record<string, string | undefined>>, key: Uint8Array): DesiredDigests {
  const environment: Record<string, string | null> = {};
  for (const [k, written] of Object.entries(service.environment)) {
    const r = resolveInterpolation(written, env);
    environment[k] = r.ok ? envEntryDigest(key, k, r.value) : null;
  }
  const argv = (a: readonly string[] | undefined): string | null | undefined => {
    if (a === undefined) return undefined;
    const out: string[] = [];
    for (const x of a) {
      const r = resolveInterpolation(x, env);
      if (!r.ok) return null;
      out.push(r.value);
    }
    return argvDigest(key, out) ?? "";
  };
  return {
    environment,
    command: argv(service.command),
    entrypoint: argv(service.entrypoint),
    healthcheckTest: argv(service.healthcheck?.test),
  };
}

/** What comparing an adopted container with its service found: differing field names, and fields that could not be compared. */
export interface AdoptionComparison {
  /** Sorted; `environment.<KEY>` per key, the rest named as in the manifest. */
  changed: string[];
  /** Sorted; fields holding a `${VAR}` whose value is not available here. */
  unknown: string[];
}

const signalName = (s: string | undefined): string => {
  const v = (s ?? "").trim().toUpperCase();
  return v === "" ? "SIGTERM" : v.startsWith("SIG") ? v : `SIG${v}`;
};

/**
 * Compares the inspected config of a container Compose created with the service it is adopted for. The engine fills
 * what a create request leaves out from the image (Env, Cmd/Entrypoint, WorkingDir, User, StopSignal, healthcheck
 * fields, anonymous volumes for the image's VOLUMEs) and reads restart "" as "no", so those image defaults are
 * expected wherever the service leaves the field unset: an untouched `docker compose up -d` container compares equal.
 * Compose's own labels and the image's labels are not compared; the service's labels must be present as written.
 * `image` is compared by the caller (it is its own drift kind). `image` null: the image is not on the engine, so
 * fields the service leaves to it are not compared (reported unknown).
 */
export function compareAdopted(input: {
  service: Service;
  /** The module's directory when absolute (bind sources resolve against it); otherwise bind sources are not compared. */
  moduleDir: string;
  composeProject: string;
  config: ObservedConfig;
  /** The container's labels (the service's own labels must be among them). */
  labels: Readonly<Record<string, string>>;
  image: ObservedImageConfig | null;
  desired: DesiredDigests;
}): AdoptionComparison {
  const { service: s, config: c, image, desired: d, composeProject } = input;
  const changed = new Set<string>();
  const unknown = new Set<string>();
  const field = (name: string, same: boolean | null) => {
    if (same === null) unknown.add(name);
    else if (!same) changed.add(name);
  };
  const fromImage = <T>(pick: (i: ObservedImageConfig) => T): T | null => (image ? pick(image) : null);

  // Environment: the image's entries under the service's, by key.
  const imageEnv = image?.env ?? {};
  const keys = new Set([...Object.keys(c.env), ...Object.keys(d.environment), ...Object.keys(imageEnv)]);
  for (const k of keys) {
    const name = `environment.${k}`;
    if (k in d.environment) {
      const want = d.environment[k];
      field(name, want === null || want === undefined ? null : c.env[k] === want);
    } else if (k in imageEnv) field(name, c.env[k] === imageEnv[k]);
    else if (s.envFiles.length) unknown.add(name);
    else if (!image && k in c.env) unknown.add(name);
    else field(name, false);
  }

  const argv = (name: string, set: boolean, want: string | null | undefined, imageValue: string | null, have: string | null) => {
    if (set) field(name, want === null ? null : (want || null) === have);
    else field(name, image ? imageValue === have : null);
  };
  argv(
    "entrypoint",
    s.entrypoint !== undefined,
    d.entrypoint,
    fromImage((i) => i.entrypoint),
    c.entrypoint,
  );
  // With an entrypoint of its own the service gets no image Cmd (the engine's rule).
  if (s.command === undefined && s.entrypoint !== undefined) field("command", c.command === null);
  else
    argv(
      "command",
      s.command !== undefined,
      d.command,
      fromImage((i) => i.command),
      c.command,
    );

  const scalar = (name: string, want: string | undefined, imageValue: string | null, have: string) =>
    field(name, want !== undefined ? want === have : image ? (imageValue ?? "") === have : null);
  scalar(
    "user",
    s.user,
    fromImage((i) => i.user),
    c.user,
  );
  scalar(
    "working_dir",
    s.workingDir,
    fromImage((i) => i.workingDir),
    c.workingDir,
  );
  if (s.stopSignal !== undefined) field("stop_signal", signalName(s.stopSignal) === signalName(c.stopSignal));
  else field("stop_signal", image ? signalName(image.stopSignal) === signalName(c.stopSignal) : null);
  field("restart", (s.restart === "no" ? "" : s.restart) === (c.restart === "no" ? "" : c.restart));

  // Healthcheck: the service's fields, else the image's (the engine merges them field by field).
  const hc = s.healthcheck;
  const ihc = image?.healthcheck ?? null;
  if (!hc && !image) unknown.add("healthcheck");
  else {
    const wantTest = hc ? d.healthcheckTest : (ihc?.test ?? null);
    if (wantTest === null && hc) unknown.add("healthcheck");
    else {
      const ns = (v: number | undefined, i: number | undefined) => v ?? i ?? 0;
      const have = c.healthcheck;
      const same =
        (wantTest || null) === (have?.test ?? null) &&
        ns(hc?.intervalNs, ihc?.intervalNs) === (have?.intervalNs ?? 0) &&
        ns(hc?.timeoutNs, ihc?.timeoutNs) === (have?.timeoutNs ?? 0) &&
        ns(hc?.startPeriodNs, ihc?.startPeriodNs) === (have?.startPeriodNs ?? 0) &&
        ns(hc?.retries, ihc?.retries) === (have?.retries ?? 0);
      field("healthcheck", same);
    }
  }

  // Mounts by target. A long-syntax tmpfs is a `HostConfig.Mounts` entry (Compose v1 and v2), which inspect's Mounts
  // reports with type tmpfs, so it is compared like the others.
  const byTarget = new Map(c.mounts.map((m) => [m.target, m]));
  const wanted = new Set<string>();
  for (const v of s.volumes) {
    wanted.add(v.target);
    const m = byTarget.get(v.target);
    if (!m || m.type !== v.type || m.readOnly !== v.readOnly) {
      changed.add("volumes");
      continue;
    }
    if (v.type === "volume" && v.source !== undefined && m.name !== resourceName(composeProject, v.source)) changed.add("volumes");
    if (v.type === "bind" && v.source !== undefined) {
      const src = bindSource(input.moduleDir, v.source);
      if (src === undefined) unknown.add("volumes");
      else if (src !== m.source) changed.add("volumes");
    }
  }
  const imageVolumes = new Set(image?.volumes ?? []);
  for (const m of c.mounts)
    if (!wanted.has(m.target) && !(m.type === "volume" && imageVolumes.has(m.target)) && !s.volumes.some((v) => v.target === m.target))
      changed.add("volumes");

  // Ports, memory and grace period as Compose writes them: PortBindings, HostConfig.Memory bytes, StopTimeout seconds.
  const wantPorts = s.ports.map((p) => portEntry(p.hostIp, p.published, p.target, p.protocol)).sort();
  field("ports", canonicalJson(wantPorts) === canonicalJson(c.ports));
  field("mem_limit", (s.memLimitBytes ?? 0) === c.memoryBytes);
  field("stop_grace_period", (s.stopGracePeriodSeconds ?? null) === c.stopTimeoutSeconds);

  const wantNetworks = [...s.networks].map((n) => resourceName(composeProject, n)).sort();
  field("networks", canonicalJson(wantNetworks) === canonicalJson([...c.networks].sort()));
  field(
    "labels",
    Object.entries(s.labels).every(([k, v]) => input.labels[k] === v),
  );
  for (const u of unknown) if (changed.has(u)) unknown.delete(u);
  return { changed: [...changed].sort(), unknown: [...unknown].sort() };
}

/** A bind source as the engine holds it (absolute, normalised), or undefined when it cannot be known here. */
function bindSource(moduleDir: string, source: string): string | undefined {
  if (source.includes("$")) return undefined;
  const joined = source.startsWith("/") ? source : moduleDir.startsWith("/") ? `${moduleDir}/${source}` : undefined;
  if (joined === undefined) return undefined;
  const out: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/** True for a container Compose created that platformctl has not (re)created: it carries no spec hash. */
export function isAdopted(c: ObservedContainer): boolean {
  return c.specHash === undefined && c.compose !== undefined;
}
