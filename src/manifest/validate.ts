// Pure validation of manifests: one file (parse, schema, module rules, strict rules) and a catalog (cross-module rules).
import { looksSecret } from "./secret-names.js";
import { createHash } from "node:crypto";
import path from "node:path";
import { ModuleSchema, PATTERNS, type ModuleManifest } from "./schema.js";
import { parseYaml, type ParsedYaml, type ParseResult } from "./parse-yaml.js";
import { issuesToProblems, formatPath } from "./schema-issues.js";
import { defaultBackupMethod, isBindSource, toModule, type Module } from "./module.js";
import { isPureReference } from "./interpolation.js";
import { PROBLEM_CODES, type Problem, type ProblemCode } from "./problems.js";
import { checkCatalog, dedupe, dependencyOrder } from "./validate-catalog.js";
import { validateCompose, type ComposeFiles } from "./compose/validate-compose.js";

export interface ValidateOptions {
  /** Apply the strict rules (CI): pinned images, secret references, explicit one-shot restart, descriptions. */
  strict?: boolean;
  /**
   * Absolute directories outside the catalog where an `env_file` may be (the operator's opt-in, from
   * `PLATFORMCTL_ENV_FILE_DIRS`). Without them every env file must stay inside the catalog's directory tree.
   */
  envFileDirs?: readonly string[];
}

/** One manifest's source: its path for messages, the directory name it must match, and its bytes. */
export interface ManifestSource {
  file: string;
  dir: string;
  /** The directory's base name; `metadata.name` must equal it. */
  dirName: string;
  bytes: Uint8Array;
  /** For a module with `spec.compose`: what the catalog read of its Compose files and interpolation environment. */
  compose?: ComposeFiles;
  /** The parse of `bytes`, when the reader already parsed them (a catalog load parses each manifest once); never of other bytes. */
  parsed?: ParseResult;
}

export interface ManifestResult {
  file: string;
  module: Module | undefined;
  problems: Problem[];
  /** Reported but not failing: unsupported Compose fields (errors with strict), unset Compose variables. */
  warnings: Problem[];
}

export interface CatalogResult {
  valid: boolean;
  /** Every module that validated, in dependency order (dependencies first, then by name). */
  modules: Module[];
  problems: Problem[];
  /** Reported, never failing (see ManifestResult.warnings). */
  warnings: Problem[];
}

/** Validates one manifest. Never throws; every problem found is returned, not just the first. */
export function validateManifest(src: ManifestSource, options: ValidateOptions = {}): ManifestResult {
  const parsed = src.parsed ?? parseYaml(src.file, src.bytes);
  if (!parsed.ok) return { file: src.file, module: undefined, problems: parsed.problems, warnings: [] };
  const result = ModuleSchema.safeParse(parsed.parsed.value);
  if (!result.success) {
    const problems = issuesToProblems(src.file, result.error.issues, parsed.parsed);
    // name mismatch is still worth reporting when the rest is broken
    problems.push(...nameProblems(src, parsed.parsed));
    return { file: src.file, module: undefined, problems: dedupe(problems), warnings: [] };
  }
  const manifest = result.data;
  const problems = [...nameProblems(src, parsed.parsed), ...moduleRules(src.file, manifest, parsed.parsed, options)];
  if (options.strict) problems.push(...strictRules(src.file, manifest, parsed.parsed));
  const compose =
    manifest.spec.compose &&
    validateCompose(manifest.spec.compose, {
      moduleDir: src.dir,
      expectedState: manifest.spec.runtime.expected_state,
      strict: options.strict === true,
      files: src.compose,
      at: (segs, code, message) => {
        const { line, column } = parsed.parsed.locate(segs);
        return { file: src.file, line, column, path: formatPath(segs), code, message, hint: PROBLEM_CODES[code].fix };
      },
      envFileEscape: (f) => envFileEscape(f, options.envFileDirs ?? []),
    });
  if (compose) problems.push(...compose.problems, ...composeSmokeProblems(src.file, manifest, compose.services, parsed.parsed));
  const warnings = compose?.warnings ?? [];
  if (compose && !compose.services) return { file: src.file, module: undefined, problems, warnings };
  // Hashed with the Compose files it reads and the services they yield (fields resolved from the environment when the
  // module is read, such as an image tag, included): a change in either must make a saved plan stale, as a change in
  // module.yaml does. Fields kept as references are hashed as written, never resolved.
  const digest = createHash("sha256").update(src.bytes);
  for (const [f, bytes] of [...(src.compose?.read ?? [])].sort(([a], [b]) => (a < b ? -1 : 1)))
    if (bytes instanceof Uint8Array) digest.update(`\u0000${f}\u0000`).update(bytes);
  if (compose?.services) digest.update("\u0000services\u0000").update(JSON.stringify(compose.services));
  const contentDigest = `sha256:${digest.digest("hex")}`;
  const module = toModule(
    manifest,
    { file: src.file, dir: src.dir, contentDigest },
    compose?.services && { services: compose.services, dependsOn: compose.dependsOn },
  );
  return { file: src.file, module, problems, warnings };
}

/** An `exec` probe of a Compose-sourced module must name one of its services. */
function composeSmokeProblems(
  file: string,
  m: ModuleManifest,
  services: readonly Module["services"][number][] | undefined,
  parsed: ParsedYaml,
): Problem[] {
  const names = new Set((services ?? []).map((s) => s.name));
  const owned = new Set(m.spec.compose?.services ?? []);
  return m.spec.smoke.flatMap((p, i) => {
    if (!p.exec || owned.has(p.exec.service) || names.has(p.exec.service)) return [];
    const { line, column } = parsed.locate(["spec", "smoke", i, "exec", "service"]);
    return [
      {
        file,
        line,
        column,
        path: `spec.smoke[${i}].exec.service`,
        code: "smoke.unknown_service" as const,
        message: `service "${p.exec.service}" is not declared in this module`,
        hint: PROBLEM_CODES["smoke.unknown_service"].fix,
      },
    ];
  });
}

function nameProblems(src: ManifestSource, parsed: ParsedYaml): Problem[] {
  const v = parsed.value as { metadata?: { name?: unknown } };
  const name = v?.metadata?.name;
  if (typeof name !== "string" || name === src.dirName) return [];
  const { line, column } = parsed.locate(["metadata", "name"]);
  const shown = PATTERNS.moduleName.test(name) ? `"${name}"` : "the name written";
  return [
    {
      file: src.file,
      line,
      column,
      path: "metadata.name",
      code: "module.name_mismatch",
      message: `must equal the directory name "${src.dirName}" (got ${shown})`,
      hint: `Rename the directory or set metadata.name: ${src.dirName}.`,
    },
  ];
}

/**
 * Why an `env_file` entry is outside what a module may read, or undefined when it is inside. Decided on the text
 * alone (pure): a relative path is resolved from the module directory and must not climb above the modules
 * directory; an absolute path must lie under an allowed directory. Apply re-checks with symbolic links resolved.
 */
function envFileEscape(file: string, allowedDirs: readonly string[]): string | undefined {
  if (file.startsWith("~")) return "starts with ~, which is not expanded (it would name a directory called ~ inside the module)";
  if (file.startsWith("/")) {
    const n = path.posix.normalize(file);
    const inside = allowedDirs.some((d) => {
      const dir = path.posix.normalize(d).replace(/\/+$/, "");
      return dir === "" || n === dir || n.startsWith(`${dir}/`);
    });
    return inside
      ? undefined
      : `is an absolute path outside the catalog${allowedDirs.length ? ` and outside ${allowedDirs.join(", ")}` : ""}`;
  }
  const n = path.posix.normalize(`module/${file}`);
  return n === ".." || n.startsWith("../") ? "leaves the catalog's directory tree" : undefined;
}

function moduleRules(file: string, m: ModuleManifest, parsed: ParsedYaml, options: ValidateOptions): Problem[] {
  const out: Problem[] = [];
  const add = (path: (string | number)[], code: ProblemCode, message: string) => {
    const { line, column } = parsed.locate(path);
    out.push({ file, line, column, path: formatPath(path), code, message, hint: PROBLEM_CODES[code].fix });
  };
  for (const [name, s] of Object.entries(m.spec.services ?? {})) {
    const base = ["spec", "services", name];
    const expected = s.expected_state ?? m.spec.runtime.expected_state;
    if (expected === "exited-success" && s.restart !== undefined && s.restart !== "no") {
      add([...base, "restart"], "oneshot.restart_policy", `a one-shot (exited-success) must have restart "no" (got "${s.restart}")`);
    }
    if (Array.isArray(s.environment)) {
      const seen = new Set<string>();
      s.environment.forEach((item, i) => {
        const key = item.slice(0, item.indexOf("="));
        if (seen.has(key)) add([...base, "environment", i], "env.duplicate_key", `environment key "${key}" appears more than once`);
        seen.add(key);
      });
    }
    const envFiles =
      s.env_file === undefined
        ? []
        : typeof s.env_file === "string"
          ? [[s.env_file, [...base, "env_file"]] as const]
          : s.env_file.map((f, i) => [f, [...base, "env_file", i]] as const);
    for (const [f, path] of envFiles) {
      const why = envFileEscape(f, options.envFileDirs ?? []);
      // The path is shown: it names a file, never a value read from one.
      if (why) add([...path], "env_file.outside_catalog", `env file "${f}" ${why}`);
    }
    (s.volumes ?? []).forEach((v, i) => {
      const path = [...base, "volumes", i];
      if (typeof v === "string") {
        const parts = v.split(":");
        if (parts.length >= 2) {
          const source = parts[0] as string;
          if (source.startsWith("~")) add(path, "volume.home_path", "a bind source starting with ~ is not expanded to a home directory");
          else if (!isBindSource(source) && !PATTERNS.volumeName.test(source))
            add(path, "volume.invalid", `volume source "${source}" is neither a volume name nor a host path`);
        }
        return;
      }
      if (v.type === "bind" && v.source?.startsWith("~")) {
        add([...path, "source"], "volume.home_path", "a bind source starting with ~ is not expanded to a home directory");
        return;
      }
      if (v.type === "tmpfs" && v.source !== undefined) add([...path, "source"], "volume.invalid", "a tmpfs mount has no source");
      if (v.type === "volume" && v.source !== undefined && !PATTERNS.volumeName.test(v.source))
        add([...path, "source"], "volume.invalid", "a named volume's source must be a volume name");
      if (v.type === "bind" && (v.source === undefined || !isBindSource(v.source)))
        add([...path, "source"], "volume.invalid", "a bind mount needs a host path source starting with /, ./ or ${");
    });
  }
  const probeNames = new Set<string>();
  m.spec.smoke.forEach((p, i) => {
    const path = ["spec", "smoke", i];
    const kinds = (["exec", "http", "tcp", "command"] as const).filter((k) => p[k] !== undefined);
    if (kinds.length !== 1)
      add(path, "smoke.kind", `a probe declares exactly one of exec, http, tcp, command (got ${kinds.length ? kinds.join(", ") : "none"})`);
    if (p.exec && m.spec.services && !Object.hasOwn(m.spec.services, p.exec.service))
      add([...path, "exec", "service"], "smoke.unknown_service", `service "${p.exec.service}" is not declared in this module`);
    if (probeNames.has(p.name)) add([...path, "name"], "smoke.duplicate_name", `probe name "${p.name}" is used twice`);
    probeNames.add(p.name);
  });
  const backup = m.spec.backup;
  if (backup) {
    const method = backup.method ?? defaultBackupMethod(m.spec.stateful);
    if (method === "exec" && !backup.exec)
      add(["spec", "backup", "method"], "backup.exec_missing", "method exec needs spec.backup.exec (service, command, restore_command)");
    if (method !== "exec" && backup.exec)
      add(["spec", "backup", "exec"], "backup.exec_unused", `spec.backup.exec is only used by method exec (the method is ${method})`);
    const service = backup.exec?.service;
    if (service !== undefined) {
      const native = m.spec.services && Object.hasOwn(m.spec.services, service) ? m.spec.services[service] : undefined;
      const declared = native !== undefined || (m.spec.compose?.services ?? []).includes(service);
      if (!declared)
        add(["spec", "backup", "exec", "service"], "backup.exec_service", `service "${service}" is not declared in this module`);
      else if (native && (native.expected_state ?? m.spec.runtime.expected_state) === "exited-success")
        add(
          ["spec", "backup", "exec", "service"],
          "backup.exec_service",
          `service "${service}" is a one-shot: it is not running to exec into`,
        );
    }
  }
  return out;
}

function strictRules(file: string, m: ModuleManifest, parsed: ParsedYaml): Problem[] {
  const out: Problem[] = [];
  const add = (path: (string | number)[], code: ProblemCode, message: string, hint: string = PROBLEM_CODES[code].fix) => {
    const { line, column } = parsed.locate(path);
    out.push({ file, line, column, path: formatPath(path), code, message, hint });
  };
  if (!m.metadata.description) add(["metadata"], "strict.description_missing", "metadata.description is required in strict mode");
  for (const [name, s] of Object.entries(m.spec.services ?? {})) {
    const base = ["spec", "services", name];
    const expected = s.expected_state ?? m.spec.runtime.expected_state;
    const withoutDigest = s.image.split("@")[0] as string;
    const hasDigest = s.image.includes("@");
    const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf("/") + 1);
    const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
    if (!hasDigest && (tag === undefined || tag === "latest")) {
      add(
        [...base, "image"],
        "strict.image_unpinned",
        tag === undefined ? "image has no tag" : 'image is tagged "latest"',
        "Pin a version tag (e.g. :1.2.3) or a digest (@sha256:...).",
      );
    }
    if (expected === "exited-success" && s.restart === undefined)
      add(base, "strict.oneshot_restart_implicit", 'a one-shot must declare restart: "no" explicitly');
    if (expected === "healthy" && !s.healthcheck)
      add(base, "strict.healthcheck_missing", "a service expected healthy must declare a healthcheck");
    const env = s.environment;
    const entries: [string, string, (string | number)[]][] = Array.isArray(env)
      ? env.map((item, i) => [item.slice(0, item.indexOf("=")), item.slice(item.indexOf("=") + 1), [...base, "environment", i]])
      : Object.entries(env ?? {}).map(([k, v]) => [k, String(v), [...base, "environment", k]]);
    for (const [key, value, path] of entries) {
      if (looksSecret(key) && !isPureReference(value)) {
        // The value itself is never shown.
        add(
          path,
          "strict.secret_literal",
          `${key} looks secret and must be a \${VAR} reference, not a literal`,
          `Write ${key}: \${${key}} and provide the value at apply time.`,
        );
      }
    }
  }
  return out;
}

/** Validates a whole catalog: every manifest (unless `context.results` has them), then the checks across modules. */
export function validateCatalog(
  sources: readonly ManifestSource[],
  options: ValidateOptions = {},
  context: {
    problems?: readonly Problem[];
    knownNames?: readonly string[];
    results?: readonly ManifestResult[];
  } = {},
): CatalogResult {
  const results = context.results ?? sources.map((s) => validateManifest(s, options));
  return checkCatalog(sources, options, { ...context, results }, locateProblem);
}

export { dependencyOrder };

/** Fills in line/column for catalog-level problems by re-reading the field path in their file. */
export function locateProblem(p: Problem, src: ManifestSource): Problem {
  const parsed = src.parsed ?? parseYaml(src.file, src.bytes);
  if (!parsed.ok) return p;
  const segs = p.path.split(/\.|(?=\[)/).map((s) => (s.startsWith("[") ? Number(s.slice(1, -1)) : s));
  const { line, column } = parsed.parsed.locate(segs);
  return { ...p, line, column };
}
