// Reads the bytes a Compose-sourced module's result depends on (its Compose files, its interpolation env_file) without parsing them.
import { lstat } from "node:fs/promises";
import { PlatformError } from "../errors.js";
import { PROBLEM_CODES, type Problem } from "../manifest/problems.js";
import type { ManifestSource } from "../manifest/validate.js";
import { MAX_MANIFEST_BYTES } from "../manifest/vocabulary.js";
import { readEnvFile } from "../secrets/env-files.js";
import { readBounded } from "./read-bounded.js";

const problem = (file: string, message: string): Problem => ({
  file,
  line: 0,
  column: 0,
  path: "",
  code: "compose.file",
  message,
  hint: PROBLEM_CODES["compose.file"].fix,
});

/** One Compose file's bytes, bounded like a manifest; a symbolic link is refused, like a linked manifest. */
export async function readComposeFile(file: string): Promise<Uint8Array | Problem> {
  const st = await lstat(file).catch((e: NodeJS.ErrnoException) => e.code ?? "error");
  if (typeof st === "string")
    return problem(file, st === "ENOENT" || st === "ENOTDIR" ? "Compose file does not exist" : "Compose file cannot be read");
  if (st.isSymbolicLink()) return problem(file, "Compose file is a symbolic link; name the file itself");
  if (!st.isFile()) return problem(file, "not a regular file");
  if (st.size > MAX_MANIFEST_BYTES) return problem(file, `file is ${st.size} bytes; the limit is ${MAX_MANIFEST_BYTES}`);
  try {
    return await readBounded(file, MAX_MANIFEST_BYTES);
  } catch {
    return problem(file, "Compose file cannot be read");
  }
}

/**
 * The interpolation environment of a Compose-sourced module: the command's environment over the values of its
 * `spec.compose.env_file` (secrets: they only feed interpolation and never reach a problem), and the problem reading
 * the env_file gave, if any (then only the command's environment is used).
 */
export async function readInterpolationEnv(
  source: ManifestSource,
  envFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  allowedDirs: readonly string[],
): Promise<{ env: Record<string, string | undefined>; problem?: Problem }> {
  let fileEnv: Record<string, string> = {};
  let failed: Problem | undefined;
  // An absolute env_file is read under the same confinement (an allowed directory); validation names it otherwise.
  if (envFile !== undefined && !envFile.startsWith("~")) {
    try {
      fileEnv = await readEnvFile(`${source.dirName} spec.compose.env_file`, source.dir, envFile, allowedDirs);
    } catch (e) {
      if (!(e instanceof PlatformError)) throw e;
      failed = { ...problem(source.file, e.message), path: "spec.compose.env_file" };
    }
  }
  const composeEnv = { ...fileEnv, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
  return failed ? { env: composeEnv, problem: failed } : { env: composeEnv };
}
