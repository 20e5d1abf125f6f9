// Reads one Compose file (bytes in, no I/O): its services as merge-ready layers, with every problem located at file:line.
import { looksSecret } from "../secret-names.js";
import path from "node:path";
import { parseYaml } from "../parse-yaml.js";
import type { Problem, ProblemCode } from "../problems.js";
import { PROBLEM_CODES } from "../problems.js";
import type {
  ComposeHealthcheck,
  ComposePort,
  ComposeService,
  ComposeServiceLayer,
  ComposeVolume,
  SourceLocation,
} from "./compose-service.js";
import { composeReferencedNames, resolveComposeText, toNativeReferences } from "./interpolate-compose.js";
import { splitCommand } from "./split-command.js";

/**
 * `config`: every value resolved, as `docker compose config` shows it (tests compare the two). `module`: the view a
 * module is built from — the fields platformctl resolves at apply time (environment values, command, entrypoint,
 * healthcheck test, bind sources) keep their references, so a plan never holds a resolved value; every other field is
 * resolved now, and may not name a variable that looks secret (it would land in the plan).
 */
export type ComposeView = "config" | "module";

export interface ReadComposeOptions {
  view: ComposeView;
  /** The interpolation environment: the command's environment over the module's `spec.compose.env_file`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths in this file resolve against (the project directory: the first file's). */
  baseDir: string;
}

export interface ComposeFileRead {
  file: string;
  /** Services by name, in file order. */
  services: Map<string, ComposeServiceLayer>;
  /** Errors (problems) and, separately, what is warned about: unsupported fields (errors with --strict), unset variables. */
  problems: Problem[];
  warnings: Problem[];
  unsupported: Problem[];
  /**
   * The variables the values interpolated when read reference (nested ones included): with the bytes, everything
   * from the environment a read depends on (fields resolved at apply time only keep references).
   */
  referenced: Set<string>;
}

export const COMPOSE_TAGS = ["!reset", "!override"] as const;

/** Service fields of the supported subset; `x-*` are ignored; anything else is warned about (refused with --strict). */
const SUPPORTED = new Set([
  "image",
  "command",
  "entrypoint",
  "environment",
  "env_file",
  "volumes",
  "networks",
  "ports",
  "healthcheck",
  "restart",
  "depends_on",
  "labels",
  "user",
  "working_dir",
  "stop_signal",
  "stop_grace_period",
  "mem_limit",
  "profiles",
  "extends",
]);
const TOP_LEVEL = new Set(["services", "volumes", "networks", "version", "name"]);

type Segs = (string | number)[];

/**
 * Parsed Compose files by their bytes (the same buffer object, read once by the catalog and shared by every module
 * naming the file), so N modules owning services of one file parse it once, not N times. Parsing is pure and its
 * result is only read, never changed; a buffer that is dropped drops its entry.
 */
const parsedFiles = new WeakMap<Uint8Array, { file: string; parsed: ReturnType<typeof parseYaml> }>();

function parseComposeYaml(file: string, bytes: Uint8Array): ReturnType<typeof parseYaml> {
  const hit = parsedFiles.get(bytes);
  if (hit?.file === file) return hit.parsed;
  const parsed = parseYaml(file, bytes, { tags: COMPOSE_TAGS, mergeKeys: true, maxAliases: 64 });
  parsedFiles.set(bytes, { file, parsed });
  return parsed;
}

/**
 * Read results by bytes and by everything else they depend on (file, view, base directory, the environment's
 * content), for the same reason as `parsedFiles`: every module owning a service of one file reads the whole file.
 * A result is only read by its callers (merging clones what it takes).
 */
const readFiles = new WeakMap<Uint8Array, Map<string, ComposeFileRead>>();

export function readComposeFile(file: string, bytes: Uint8Array, options: ReadComposeOptions): ComposeFileRead {
  const key = JSON.stringify([
    file,
    options.view,
    options.baseDir,
    Object.entries(options.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);
  const byOptions = readFiles.get(bytes) ?? new Map<string, ComposeFileRead>();
  readFiles.set(bytes, byOptions);
  const hit = byOptions.get(key);
  if (hit) return hit;
  const result = readComposeFileOnce(file, bytes, options);
  byOptions.set(key, result);
  return result;
}

function readComposeFileOnce(file: string, bytes: Uint8Array, options: ReadComposeOptions): ComposeFileRead {
  const out: ComposeFileRead = { file, services: new Map(), problems: [], warnings: [], unsupported: [], referenced: new Set() };
  const parsed = parseComposeYaml(file, bytes);
  if (!parsed.ok) {
    out.problems.push(
      ...parsed.problems.map((p) => (p.code === "yaml.not_mapping" ? { ...p, hint: "A Compose file is a mapping with `services:`." } : p)),
    );
    return out;
  }
  const { value, locate, tags } = parsed.parsed;
  const loc = (segs: Segs, key = false): SourceLocation => ({ file, ...locate(segs, key) });
  const fmt = (segs: Segs) => segs.map((s, i) => (typeof s === "number" ? `[${s}]` : i ? `.${s}` : s)).join("");
  const problem = (segs: Segs, code: ProblemCode, message: string, key = false): Problem => {
    const { line, column } = locate(segs, key);
    return { file, line, column, path: fmt(segs), code, message, hint: PROBLEM_CODES[code].fix };
  };
  const error = (segs: Segs, message: string, code: ProblemCode = "compose.invalid") => out.problems.push(problem(segs, code, message));
  const tagAt = new Map(tags.map((t) => [t.path.join("\u0000"), t.tag]));
  const tagOf = (segs: Segs) => tagAt.get(segs.join("\u0000"));

  const doc = value as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (key.startsWith("x-") || TOP_LEVEL.has(key)) continue;
    out.unsupported.push(problem([key], "compose.unsupported_field", `top-level "${key}" is not supported by platformctl`, true));
  }
  for (const kind of ["volumes", "networks"] as const) {
    const section = doc[kind];
    if (section === undefined || section === null) continue;
    if (!isMap(section)) {
      error([kind], `top-level ${kind} must be a mapping`);
      continue;
    }
    for (const [name, def] of Object.entries(section)) {
      if (def === null || (isMap(def) && Object.keys(def).every((k) => k.startsWith("x-")))) continue;
      out.unsupported.push(
        problem(
          [kind, name],
          "compose.unsupported_field",
          `the definition of ${kind === "volumes" ? "volume" : "network"} "${name}" is not applied: platformctl creates ${kind} with its own names, labels and defaults`,
          true,
        ),
      );
    }
  }
  const services = doc.services;
  if (services === undefined || services === null) return out;
  if (!isMap(services)) {
    error(["services"], "services must be a mapping of service name to service");
    return out;
  }

  for (const [name, raw] of Object.entries(services)) {
    const base: Segs = ["services", name];
    if (!isMap(raw)) {
      error(base, `service "${name}" must be a mapping`);
      continue;
    }
    const layer: ComposeServiceLayer = {
      service: {},
      resets: new Set(),
      overrides: new Set(),
      extends: undefined,
      origins: {},
      at: loc(base, true),
    };
    const s = layer.service as Record<string, unknown>;

    /** A value of a field: interpolated (config view) or, for apply-time fields in the module view, rewritten to references. */
    const text = (segs: Segs, v: unknown, applyTime: boolean): string | undefined => {
      if (typeof v === "number" || typeof v === "boolean") return String(v);
      if (typeof v !== "string") {
        error(segs, `expected a string, got ${v === null ? "null" : Array.isArray(v) ? "a list" : typeof v}`);
        return undefined;
      }
      if (options.view === "module" && applyTime) {
        const r = toNativeReferences(v);
        if (!r.ok) error(segs, r.message, "compose.interpolation");
        return r.ok ? r.value : undefined;
      }
      if (options.view === "module") {
        const secret = composeReferencedNames(v).find((n) => looksSecret(n));
        if (secret) {
          error(
            segs,
            `\${${secret}} looks secret but this field is resolved when the module is read and would appear in plans; only environment values, command, entrypoint, healthcheck test and bind sources keep references`,
            "compose.interpolation",
          );
          return undefined;
        }
      }
      for (const n of composeReferencedNames(v)) out.referenced.add(n);
      const r = resolveComposeText(v, options.env);
      if (!r.ok) {
        error(segs, r.message, "compose.interpolation");
        return undefined;
      }
      for (const n of r.unset)
        out.warnings.push(
          problem(segs, "compose.unset_variable", `variable ${n} is not set: it is replaced by an empty string (as Compose does)`),
        );
      return r.value;
    };
    const list = (segs: Segs, v: unknown): unknown[] | undefined => {
      if (Array.isArray(v)) return v;
      error(segs, "expected a list");
      return undefined;
    };
    const unsupportedKeys = (segs: Segs, v: Record<string, unknown>, allowed: readonly string[]) => {
      for (const k of Object.keys(v))
        if (!allowed.includes(k) && !k.startsWith("x-"))
          out.unsupported.push(problem([...segs, k], "compose.unsupported_field", `"${k}" is not supported by platformctl`, true));
    };
    const words = (segs: Segs, v: unknown): string[] | null | undefined => {
      if (v === null) return null;
      if (Array.isArray(v)) {
        const items = v.map((item, i) => text([...segs, i], item, true));
        return items.every((i) => i !== undefined) ? (items as string[]) : undefined;
      }
      if (typeof v !== "string") return text(segs, v, true) === undefined ? undefined : [String(v)];
      // Compose interpolates, then splits; a module keeps references, so it splits the text as written.
      const source = options.view === "config" ? text(segs, v, false) : v;
      if (source === undefined) return undefined;
      const split = splitCommand(source);
      if (!split) {
        error(segs, "unterminated quote or trailing backslash");
        return undefined;
      }
      if (options.view === "config") return split;
      const items = split.map((w) => text(segs, w, true));
      return items.every((i) => i !== undefined) ? (items as string[]) : undefined;
    };
    /** Resolves `./x`, `../x` against the base directory; absolute paths and references stay as written. */
    const hostPath = (segs: Segs, p: string): string | undefined => {
      if (p.startsWith("~")) {
        error(segs, "a path starting with ~ is not expanded to a home directory; write an absolute path or ${HOME}/…", "volume.home_path");
        return undefined;
      }
      if (p.startsWith("/") || p.startsWith("$")) return p;
      return path.posix.join(options.baseDir, p);
    };
    const mapping = (segs: Segs, v: unknown, applyTime: boolean, listSeparator = "="): Record<string, string> | undefined => {
      const result: Record<string, string> = {};
      if (Array.isArray(v)) {
        v.forEach((item, i) => {
          if (typeof item !== "string") {
            error([...segs, i], "expected KEY=VALUE");
            return;
          }
          const eq = item.indexOf(listSeparator);
          const k = eq < 0 ? item : item.slice(0, eq);
          if (eq < 0) {
            const value = valueFromHost(segs, k, applyTime);
            if (value !== undefined) result[k] = value;
            return;
          }
          const value = text([...segs, i], item.slice(eq + 1), applyTime);
          if (value !== undefined) result[k] = value;
        });
        return result;
      }
      if (!isMap(v)) {
        error(segs, "expected a mapping or a list of KEY=VALUE");
        return undefined;
      }
      let resets = 0;
      for (const [k, value] of Object.entries(v)) {
        if (tagOf([...segs, k]) === "!reset") {
          layer.resets.add(`${segs[2]}.${k}`);
          resets++;
          continue;
        }
        if (value === null) {
          const hosted = valueFromHost([...segs, k], k, applyTime);
          if (hosted !== undefined) result[k] = hosted;
          continue;
        }
        const t = text([...segs, k], value, applyTime);
        if (t !== undefined) result[k] = t;
      }
      // Only resets: the layer removes entries and adds none (an empty mapping would otherwise stay behind).
      return resets && !Object.keys(result).length ? undefined : result;
    };
    /** `KEY` without a value takes the host's value: resolved in the config view, a `${KEY}` reference in a module. */
    const valueFromHost = (segs: Segs, k: string, applyTime: boolean): string | undefined => {
      if (options.view === "module" && applyTime) return `\${${k}}`;
      if (options.view === "module") {
        error(segs, `"${k}" has no value; write ${k}=value`);
        return undefined;
      }
      return options.env[k];
    };

    for (const [field, v] of Object.entries(raw)) {
      const segs = [...base, field];
      if (field.startsWith("x-")) continue;
      if (!SUPPORTED.has(field)) {
        out.unsupported.push(problem(segs, "compose.unsupported_field", `"${field}" is not supported by platformctl`, true));
        continue;
      }
      const tag = tagOf(segs);
      if (tag === "!reset") {
        layer.resets.add(field);
        continue;
      }
      if (tag === "!override") layer.overrides.add(field);
      layer.origins[field as keyof ComposeService] = loc(segs);
      switch (field) {
        case "image":
        case "restart":
        case "user":
        case "working_dir":
        case "stop_signal":
        case "stop_grace_period":
        case "mem_limit": {
          const t = text(segs, v, false);
          if (t !== undefined) s[field] = t;
          break;
        }
        case "command":
        case "entrypoint": {
          const w = words(segs, v);
          if (w !== undefined) s[field] = w;
          break;
        }
        case "environment": {
          const m = mapping(segs, v, true);
          if (m) s.environment = m;
          break;
        }
        case "labels": {
          const m = mapping(segs, v, false);
          if (m) s.labels = m;
          break;
        }
        case "env_file": {
          const items = typeof v === "string" ? [v] : list(segs, v);
          if (!items) break;
          const files: string[] = [];
          items.forEach((item, i) => {
            const itemSegs = typeof v === "string" ? segs : [...segs, i];
            let p: unknown = item;
            if (isMap(item)) {
              unsupportedKeys(itemSegs, item, ["path"]);
              p = item.path;
            }
            const t = text(itemSegs, p, false);
            const resolved = t === undefined ? undefined : hostPath(itemSegs, t);
            if (resolved !== undefined) files.push(resolved);
          });
          s.env_file = files;
          break;
        }
        case "volumes": {
          const items = list(segs, v);
          if (!items) break;
          const volumes: ComposeVolume[] = [];
          items.forEach((item, i) => {
            const vol = volume([...segs, i], item);
            if (vol) volumes.push(vol);
          });
          s.volumes = volumes;
          break;
        }
        case "networks": {
          let names: string[] = [];
          if (Array.isArray(v)) names = v.flatMap((n, i) => text([...segs, i], n, false) ?? []);
          else if (isMap(v)) {
            for (const [n, def] of Object.entries(v)) {
              if (isMap(def)) unsupportedKeys([...segs, n], def, []);
              else if (def !== null) error([...segs, n], "expected a mapping or nothing");
              names.push(n);
            }
          } else error(segs, "expected a list or a mapping of network names");
          names = [...new Set(names)];
          s.networks = names;
          break;
        }
        case "ports": {
          const items = list(segs, v);
          if (!items) break;
          const ports: ComposePort[] = [];
          items.forEach((item, i) => {
            const p = port([...segs, i], item);
            if (p) ports.push(p);
          });
          s.ports = ports;
          break;
        }
        case "healthcheck": {
          if (!isMap(v)) {
            error(segs, "expected a mapping");
            break;
          }
          unsupportedKeys(segs, v, ["test", "interval", "timeout", "start_period", "retries", "disable"]);
          const hc: ComposeHealthcheck = {};
          for (const [k, hv] of Object.entries(v)) {
            const hs = [...segs, k];
            if (tagOf(hs) === "!reset") {
              layer.resets.add(`healthcheck.${k}`);
              continue;
            }
            if (k === "test") {
              if (typeof hv === "string") {
                const t = text(hs, hv, true);
                if (t !== undefined) hc.test = ["CMD-SHELL", t];
              } else {
                const w = words(hs, hv);
                if (w) hc.test = w;
              }
            } else if (k === "interval" || k === "timeout" || k === "start_period") {
              const t = text(hs, hv, false);
              if (t !== undefined) hc[k] = t;
            } else if (k === "retries") {
              const t = text(hs, hv, false);
              if (t !== undefined && /^[0-9]+$/.test(t)) hc.retries = Number(t);
              else if (t !== undefined) error(hs, "retries must be a whole number");
            } else if (k === "disable") {
              if (typeof hv === "boolean") hc.disable = hv;
              else error(hs, "disable must be true or false");
            }
          }
          s.healthcheck = hc;
          break;
        }
        case "depends_on": {
          const deps: Record<string, { condition: string }> = {};
          if (Array.isArray(v)) {
            v.forEach((d, i) => {
              const t = text([...segs, i], d, false);
              if (t !== undefined) deps[t] = { condition: "service_started" };
            });
          } else if (isMap(v)) {
            for (const [d, def] of Object.entries(v)) {
              if (tagOf([...segs, d]) === "!reset") {
                layer.resets.add(`depends_on.${d}`);
                continue;
              }
              if (!isMap(def)) {
                error([...segs, d], "expected a mapping with condition");
                continue;
              }
              unsupportedKeys([...segs, d], def, ["condition"]);
              const c = def.condition === undefined ? "service_started" : text([...segs, d, "condition"], def.condition, false);
              if (c === undefined) continue;
              if (!["service_started", "service_healthy", "service_completed_successfully"].includes(c))
                error(
                  [...segs, d, "condition"],
                  `condition must be service_started, service_healthy or service_completed_successfully (got "${c}")`,
                );
              deps[d] = { condition: c };
            }
          } else error(segs, "expected a list or a mapping of service names");
          s.depends_on = deps;
          break;
        }
        case "profiles": {
          const items = list(segs, v);
          if (items) s.profiles = items.flatMap((p, i) => text([...segs, i], p, false) ?? []);
          break;
        }
        case "extends": {
          delete layer.origins[field as keyof ComposeService];
          if (typeof v === "string") layer.extends = { service: v, file: undefined, at: loc(segs) };
          else if (isMap(v) && typeof v.service === "string") {
            unsupportedKeys(segs, v, ["service", "file"]);
            const f = v.file === undefined ? undefined : text([...segs, "file"], v.file, false);
            layer.extends = { service: v.service, file: f, at: loc(segs) };
          } else error(segs, "extends needs service (and optionally file)");
          break;
        }
      }
    }
    out.services.set(name, layer);

    function volume(segs: Segs, item: unknown): ComposeVolume | undefined {
      if (typeof item === "string") {
        const parts = splitOutsideReferences(item);
        let readOnly = false;
        if (
          parts.length === 3 ||
          (parts.length === 2 && /^(?:ro|rw|z|Z|ro,z|ro,Z|rw,z|rw,Z)$/.test(parts[1] as string) && !(parts[1] as string).startsWith("/"))
        ) {
          const mode = parts.pop() as string;
          const flags = mode.split(",");
          if (flags.some((f) => f !== "ro" && f !== "rw")) {
            out.unsupported.push(
              problem(segs, "compose.unsupported_field", `volume mode "${mode}" is not supported by platformctl (only ro and rw)`),
            );
          }
          readOnly = flags.includes("ro");
        }
        const targetRaw = parts.pop() as string;
        const target = text(segs, targetRaw, false);
        const sourceRaw = parts.length ? parts.join(":") : undefined;
        if (target === undefined) return undefined;
        if (sourceRaw === undefined) return { type: "volume", source: undefined, target, read_only: readOnly };
        const bind = /^(?:\/|\.|~|\$\{|\$[A-Za-z_])/.test(sourceRaw);
        const sourceText = text(segs, sourceRaw, bind);
        if (sourceText === undefined) return undefined;
        const source = bind ? hostPath(segs, sourceText) : sourceText;
        if (source === undefined) return undefined;
        return { type: bind ? "bind" : "volume", source, target, read_only: readOnly };
      }
      if (!isMap(item)) {
        error(segs, "expected a volume string or a mapping");
        return undefined;
      }
      unsupportedKeys(segs, item, ["type", "source", "target", "read_only"]);
      const type = text([...segs, "type"], item.type, false);
      if (type !== "volume" && type !== "bind" && type !== "tmpfs") {
        if (type !== undefined) error([...segs, "type"], `volume type "${type}" is not supported (volume, bind or tmpfs)`);
        return undefined;
      }
      const target = text([...segs, "target"], item.target, false);
      if (target === undefined) return undefined;
      let source: string | undefined;
      if (item.source !== undefined && item.source !== null) {
        const t = text([...segs, "source"], item.source, type === "bind");
        if (t === undefined) return undefined;
        source = type === "bind" ? hostPath([...segs, "source"], t) : t;
        if (source === undefined) return undefined;
      }
      if (item.read_only !== undefined && typeof item.read_only !== "boolean")
        error([...segs, "read_only"], "read_only must be true or false");
      return { type, source, target, read_only: item.read_only === true };
    }

    function port(segs: Segs, item: unknown): ComposePort | undefined {
      if (isMap(item)) {
        unsupportedKeys(segs, item, ["target", "published", "host_ip", "protocol"]);
        const num = (k: string) => {
          if (item[k] === undefined || item[k] === null) return undefined;
          const t = text([...segs, k], item[k], false);
          if (t !== undefined && !/^[0-9]{1,5}$/.test(t)) {
            error([...segs, k], `${k} must be one port number (ranges are not supported)`);
            return undefined;
          }
          return t === undefined ? undefined : Number(t);
        };
        const target = num("target");
        if (target === undefined) {
          error(segs, "a port needs a target");
          return undefined;
        }
        const protocol = item.protocol === undefined ? "tcp" : text([...segs, "protocol"], item.protocol, false);
        if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") return undefined;
        const hostIp = item.host_ip === undefined ? undefined : text([...segs, "host_ip"], item.host_ip, false);
        return { target, published: num("published"), host_ip: hostIp, protocol };
      }
      const t = text(segs, item, false);
      if (t === undefined) return undefined;
      const m = /^(?:(?:([0-9.]+|\[[0-9a-fA-F:]+\]):)?([0-9]{1,5})?:)?([0-9]{1,5})(?:\/(tcp|udp|sctp))?$/.exec(t);
      if (!m) {
        error(segs, `"${t}" is not a port [[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL] (ranges are not supported)`);
        return undefined;
      }
      return {
        target: Number(m[3]),
        published: m[2] === undefined ? undefined : Number(m[2]),
        host_ip: m[1]?.replace(/^\[|\]$/g, ""),
        protocol: (m[4] ?? "tcp") as ComposePort["protocol"],
      };
    }
  }
  return out;
}

/** Splits a short volume on `:` outside `${...}`. */
function splitOutsideReferences(spec: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let depth = 0;
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i] as string;
    if (ch === "$" && spec[i + 1] === "{") depth++;
    else if (ch === "}" && depth > 0) depth--;
    if (ch === ":" && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
