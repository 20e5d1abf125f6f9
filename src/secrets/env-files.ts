// Env files named by a service (KEY=VALUE lines): read at apply and health time, confined to the catalog; every value is a secret.
import { realpath } from "node:fs/promises";
import path from "node:path";
import type { Module, Service } from "../manifest/module.js";
import { PlatformError, UsageError } from "../errors.js";
import { readFailure, readRegularFile } from "../state/read-regular-file.js";

/**
 * The directories outside the catalog an `env_file` may name, from `PLATFORMCTL_ENV_FILE_DIRS` (absolute paths
 * separated by `:`). The operator's opt-in on the host: a manifest cannot grant it to itself.
 */
export function envFileDirs(env: Readonly<Record<string, string | undefined>>): string[] {
  const raw = env.PLATFORMCTL_ENV_FILE_DIRS ?? "";
  const dirs = raw.split(":").filter((d) => d !== "");
  const relative = dirs.filter((d) => !path.isAbsolute(d));
  if (relative.length) {
    throw new UsageError(
      "usage.env_file_dirs",
      `PLATFORMCTL_ENV_FILE_DIRS holds a relative directory: ${relative.map((d) => d.slice(0, 200)).join(", ")}`,
      {
        hint: "List absolute directories separated by ':', e.g. PLATFORMCTL_ENV_FILE_DIRS=/etc/platformctl/env.",
      },
    );
  }
  return dirs.map((d) => (d === "/" ? d : d.replace(/\/+$/, "")));
}

const within = (file: string, dir: string) => file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

/**
 * Reads env files (KEY=VALUE lines; `#` comments) relative to the module directory. The file, with symbolic links
 * resolved, must be inside the catalog (the modules directory holding the module) or under one of `allowedDirs`:
 * validation checks the text, this checks what is really on disk. Values are secrets and never appear in errors.
 */
export async function readEnvFiles(module: Module, service: Service, allowedDirs: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of service.envFiles) Object.assign(out, await readEnvFile(`${module.name}/${service.name}`, module.dir, f, allowedDirs));
  return out;
}

/**
 * The environment a module's `${VAR}` references resolve against: the command's environment over the values of its
 * `spec.compose.env_file` (Compose's rule for `.env`: the shell wins). A native module's is the environment as is.
 * Every value read is a secret like any resolved reference (callers mask what references resolve to).
 */
export async function moduleEnv(
  module: Module,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Readonly<Record<string, string | undefined>>> {
  const file = module.compose?.envFile;
  if (file === undefined) return env;
  const values = await readEnvFile(`${module.name} spec.compose.env_file`, module.dir, file, envFileDirs(env));
  return { ...values, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
}

/**
 * Reads one env file named relative to `moduleDir` under the same confinement (the catalog holding the module, or an
 * allowed directory, symbolic links resolved). `label` names who reads it in errors; values never appear in them.
 */
export async function readEnvFile(
  label: string,
  moduleDir: string,
  f: string,
  allowedDirs: readonly string[],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const file = path.resolve(moduleDir, f);
  const unreadable = (e: unknown) =>
    new PlatformError("apply.env_file", `${label}: env file ${file} cannot be read (${readFailure(e)})`, {
      hint: "Create the file or remove it from env_file.",
    });
  let real: string;
  let roots: string[];
  try {
    real = await realpath(file);
    const catalog = await realpath(path.dirname(path.resolve(moduleDir)));
    roots = [catalog, ...(await Promise.all(allowedDirs.map((d) => realpath(d).catch(() => path.resolve(d)))))]; // safe: a missing directory holds no file to allow
  } catch (e) {
    throw unreadable(e);
  }
  if (!roots.some((r) => within(real, r))) {
    throw new PlatformError(
      "apply.env_file",
      `${label}: env file ${file} resolves to ${real}, outside the catalog${allowedDirs.length ? ` and outside ${allowedDirs.join(", ")}` : ""}`,
      {
        hint: "Keep env files inside the modules directory, or list the real file's directory in PLATFORMCTL_ENV_FILE_DIRS.",
      },
    );
  }
  let text: string;
  try {
    text = (await readRegularFile(real)).toString("utf8");
  } catch (e) {
    throw unreadable(e);
  }
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith("#")) return;
    const eq = t.indexOf("=");
    const key = eq > 0 ? t.slice(0, eq).replace(/^export\s+/, "") : "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new PlatformError("apply.env_file", `${file}:${i + 1}: expected KEY=VALUE`, {
        hint: "Fix the line (its value is not shown).",
      });
    out[key] = t.slice(eq + 1).replace(/^(["'])(.*)\1$/, "$2");
  });
  return out;
}
