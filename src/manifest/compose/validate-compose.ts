// Validates a module's `spec.compose` and builds its services from the Compose files the catalog read (pure).
import { looksSecret } from "../secret-names.js";
import path from "node:path";
import type { ComposeSourceManifest, ExpectedState } from "../schema.js";
import type { Service } from "../module.js";
import { PROBLEM_CODES, type Problem, type ProblemCode } from "../problems.js";
import { isPureReference } from "../interpolation.js";
import type { ComposeServiceLayer } from "./compose-service.js";
import { loadCompose } from "./load-compose.js";
import { toNativeService } from "./to-native-service.js";

/** What the catalog read for a Compose-sourced module: file bytes (or why not) and the interpolation environment. */
export interface ComposeFiles {
  read: ReadonlyMap<string, Uint8Array | Problem>;
  /** The command's environment over the values of `spec.compose.env_file`. */
  env: Readonly<Record<string, string | undefined>>;
}

export interface ComposeValidation {
  services: Service[] | undefined;
  dependsOn: Record<string, Record<string, string>>;
  problems: Problem[];
  warnings: Problem[];
}

/** The paths the catalog reads for `files`: joined onto the module directory. */
export function composeFilePaths(moduleDir: string, files: readonly string[]): string[] {
  return files.map((f) => path.join(moduleDir, f));
}

/**
 * Loads the owned services and applies the module rules a native service gets (one-shot restart policy; with strict:
 * pinned image, explicit one-shot restart, healthcheck when expected healthy, secret-looking environment as a
 * reference). Problems and warnings concern the owned services and the files' top level only: the other services of
 * a shared Compose file belong to other modules, which report them. Unsupported fields are warnings, errors with strict.
 */
export function validateCompose(
  spec: ComposeSourceManifest,
  ctx: {
    moduleDir: string;
    expectedState: ExpectedState;
    strict: boolean;
    files: ComposeFiles | undefined;
    /** Locates a field path of module.yaml (for problems about `spec.compose` itself). */
    at: (segs: (string | number)[], code: ProblemCode, message: string) => Problem;
    /** The env-file confinement rule native services get: why a path may not be read, or undefined. */
    envFileEscape: (file: string) => string | undefined;
  },
): ComposeValidation {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const none: ComposeValidation = { services: undefined, dependsOn: {}, problems, warnings };
  spec.files.forEach((f, i) => {
    if (f.startsWith("/") || f.startsWith("~"))
      problems.push(ctx.at(["spec", "compose", "files", i], "compose.file", `"${f}" must be relative to the module directory`));
  });
  if (spec.env_file !== undefined) {
    const why = ctx.envFileEscape(spec.env_file);
    if (why) problems.push(ctx.at(["spec", "compose", "env_file"], "env_file.outside_catalog", `env file "${spec.env_file}" ${why}`));
  }
  if (problems.length) return none;
  if (!ctx.files) {
    problems.push(ctx.at(["spec", "compose"], "compose.file", "the Compose files were not read (validate through the catalog loader)"));
    return none;
  }
  const files = composeFilePaths(ctx.moduleDir, spec.files);
  const loaded = loadCompose({ files, read: ctx.files.read, env: ctx.files.env, view: "module" });
  if (loaded.kind === "needs") {
    problems.push(ctx.at(["spec", "compose", "files"], "compose.file", `Compose files were not read: ${loaded.files.join(", ")}`));
    return none;
  }
  const owned = new Set(spec.services);
  const concerns = (p: Problem) =>
    !p.path.startsWith("services.") || [...owned].some((s) => p.path === `services.${s}` || p.path.startsWith(`services.${s}.`));
  problems.push(...loaded.problems.filter(concerns));
  warnings.push(...loaded.warnings.filter(concerns));
  (ctx.strict ? problems : warnings).push(...loaded.unsupported.filter(concerns));
  // A file that could not be read or parsed says everything; its services would only add "not defined" noise.
  if (loaded.problems.some((p) => p.code === "compose.file" || p.code.startsWith("yaml.") || p.code.startsWith("file."))) return none;

  const services: Service[] = [];
  const dependsOn: Record<string, Record<string, string>> = {};
  spec.services.forEach((name, i) => {
    const layer = loaded.services.get(name);
    if (!layer) {
      problems.push(
        ctx.at(["spec", "compose", "services", i], "compose.unknown_service", `service "${name}" is not defined in ${files.join(", ")}`),
      );
      return;
    }
    const mapped = toNativeService(name, layer, { moduleDir: ctx.moduleDir, expectedState: ctx.expectedState });
    problems.push(...mapped.problems);
    if (!mapped.service) return;
    services.push(mapped.service);
    dependsOn[name] = Object.fromEntries(Object.entries(layer.service.depends_on ?? {}).map(([d, v]) => [d, v.condition]));
    problems.push(...serviceRules(name, layer, mapped.service, ctx));
  });
  if (problems.length) return { services: undefined, dependsOn, problems, warnings };
  return { services, dependsOn, problems, warnings };
}

function serviceRules(
  name: string,
  layer: ComposeServiceLayer,
  s: Service,
  ctx: { strict: boolean; envFileEscape: (file: string) => string | undefined },
): Problem[] {
  const out: Problem[] = [];
  const add = (field: keyof ComposeServiceLayer["service"] | undefined, code: ProblemCode, message: string, hint?: string) => {
    const at = (field && layer.origins[field]) || layer.at;
    out.push({ ...at, path: `services.${name}${field ? `.${field}` : ""}`, code, message, hint: hint ?? PROBLEM_CODES[code].fix });
  };
  if (s.expectedState === "exited-success" && s.restart !== "no")
    add("restart", "oneshot.restart_policy", `a one-shot (exited-success) must have restart "no" (got "${s.restart}")`);
  for (const f of s.envFiles) {
    const why = ctx.envFileEscape(f);
    if (why) add("env_file", "env_file.outside_catalog", `env file "${f}" ${why}`);
  }
  if (!ctx.strict) return out;
  const withoutDigest = s.image.split("@")[0] as string;
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf("/") + 1);
  const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
  if (!s.image.includes("@") && (tag === undefined || tag === "latest"))
    add(
      "image",
      "strict.image_unpinned",
      tag === undefined ? "image has no tag" : 'image is tagged "latest"',
      "Pin a version tag (e.g. :1.2.3) or a digest (@sha256:...).",
    );
  if (s.expectedState === "exited-success" && !s.restartExplicit)
    add(undefined, "strict.oneshot_restart_implicit", 'a one-shot must declare restart: "no" explicitly');
  if (s.expectedState === "healthy" && !s.healthcheck)
    add(undefined, "strict.healthcheck_missing", "a service expected healthy must declare a healthcheck");
  for (const [key, value] of Object.entries(s.environment)) {
    if (looksSecret(key) && !isPureReference(value))
      add(
        "environment",
        "strict.secret_literal",
        `${key} looks secret and must be a \${VAR} reference, not a literal`,
        `Write ${key}: \${${key}} and provide the value at apply time.`,
      );
  }
  return out;
}
