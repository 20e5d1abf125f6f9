// A module's mask set, built up front in one place: resolved `${VAR}` values, env-file values, and what containers hold.
import type { Module, Service } from "../manifest/module.js";
import { parseInterpolation, resolveInterpolation } from "../manifest/interpolation.js";
import { envFileDirs, moduleEnv, readEnvFiles } from "./env-files.js";

/** Env-file values per service name (KEY -> value), as read for the module. */
export type EnvFileValues = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** The strings of a service that may hold `${VAR}` references, with the container field each one ends up in. */
export function referenceSites(
  s: Service,
): { field: "env" | "entrypoint" | "cmd" | "healthcheck"; key: string | number; written: string }[] {
  return [
    ...Object.entries(s.environment).map(([key, written]) => ({ field: "env" as const, key, written })),
    ...(s.entrypoint ?? []).map((written, key) => ({ field: "entrypoint" as const, key, written })),
    ...(s.command ?? []).map((written, key) => ({ field: "cmd" as const, key, written })),
    ...(s.healthcheck?.test ?? []).map((written, key) => ({ field: "healthcheck" as const, key, written })),
  ].filter((x) => x.written.includes("${"));
}

/**
 * Every value a module's containers get from the environment or env files: the mask set of everything shown about
 * the module (container output, engine errors, probe output, audit), whichever action runs. Pure. Covers every
 * interpolated field: environment, entrypoint, command, healthcheck test and bind sources (a resolved bind path is
 * masked too: the engine's "bind source path does not exist" error and mount findings would otherwise show it).
 * Unresolvable references are skipped (nothing to mask).
 */
export function moduleSecrets(
  module: Module,
  env: Readonly<Record<string, string | undefined>>,
  envFileValues: EnvFileValues = {},
): string[] {
  const out = new Set<string>();
  for (const s of module.services) {
    const written = [
      ...referenceSites(s).map((x) => x.written),
      ...(s.healthcheck?.test ?? []),
      ...s.volumes.flatMap((v) => (v.type === "bind" && v.source ? [v.source] : [])),
    ];
    for (const text of written) {
      const r = resolveInterpolation(text, env);
      if (r.ok) for (const v of r.secrets) out.add(v);
    }
    for (const v of Object.values(envFileValues[s.name] ?? {})) if (v !== "") out.add(v);
  }
  return [...out];
}

/** `moduleSecrets` with the module's env files read from disk (an unreadable file contributes nothing here). */
export async function readModuleSecrets(module: Module, env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  const files: Record<string, Record<string, string>> = {};
  // Safe: values of an unreadable file cannot be known here, and every use of them reads the file again and fails loudly (apply.env_file).
  for (const s of module.services) files[s.name] = await readEnvFiles(module, s, envFileDirs(env)).catch(() => ({}));
  // Safe: without the Compose env_file its values cannot be known here; apply reads it again and fails loudly (apply.env_file).
  const resolving = await moduleEnv(module, env).catch(() => env);
  return moduleSecrets(module, resolving, files);
}

/** A created container's own values (read by the engine adapter from inspect; never shown, never stored). */
export interface HeldValues {
  env: readonly string[];
  entrypoint: readonly string[] | null;
  cmd: readonly string[] | null;
  /** `Config.Healthcheck.Test`. */
  healthcheck: readonly string[] | null;
}

/**
 * The values a container actually holds for what the manifest writes as `${VAR}` references (or takes from env
 * files): they may differ from the current environment (after a rotation, or when the variable is not set here).
 * Each referenced part is recovered by matching the written template's literal runs; the whole value is kept too. Pure.
 */
/**
 * The variable names a unit holds, as an env-file map without values: what an unreadable env file is taken to have
 * held, so every variable the manifest does not declare is masked (more, never less).
 */
export function heldEnvNames(held: HeldValues): Record<string, string> {
  return Object.fromEntries(held.env.flatMap((kv) => (kv.indexOf("=") > 0 ? [[kv.slice(0, kv.indexOf("=")), ""]] : [])));
}

export function heldSecrets(service: Service, held: HeldValues, envFileKeys: readonly string[] = []): string[] {
  const envMap = new Map<string, string>();
  for (const kv of held.env) {
    const eq = kv.indexOf("=");
    if (eq > 0) envMap.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  const out = new Set<string>();
  for (const site of referenceSites(service)) {
    const actual =
      site.field === "env"
        ? envMap.get(site.key as string)
        : { entrypoint: held.entrypoint, cmd: held.cmd, healthcheck: held.healthcheck }[site.field]?.[site.key as number];
    if (actual === undefined || actual === "") continue;
    for (const v of referencedParts(site.written, actual)) out.add(v);
  }
  for (const k of envFileKeys) {
    if (k in service.environment) continue;
    const v = envMap.get(k);
    if (v) out.add(v);
  }
  return [...out];
}

/** The parts of `actual` that stand where `written` has references, plus `actual` itself when it has any. */
function referencedParts(written: string, actual: string): string[] {
  const segs = parseInterpolation(written);
  if (!segs) return [actual];
  const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`^${segs.map((x) => ("literal" in x ? escapeRegExp(x.literal) : "([\\s\\S]*?)")).join("")}$`);
  const m = re.exec(actual);
  const parts = m ? m.slice(1).filter((p): p is string => p !== undefined && p !== "") : [];
  return [actual, ...parts];
}
