// Reads what a Compose-sourced module names (its Compose files, `extends` targets, the interpolation env_file) for the pure validator.
import { lstat } from "node:fs/promises";
import { readBounded as readFileBounded } from "./read-bounded.js";
import { parseYaml, MAX_MANIFEST_BYTES } from "../manifest/parse-yaml.js";
import { PROBLEM_CODES, type Problem } from "../manifest/problems.js";
import type { ManifestSource } from "../manifest/validate.js";
import { composeFilePaths, type ComposeFiles } from "../manifest/compose/validate-compose.js";
import { loadCompose, MAX_COMPOSE_FILES } from "../manifest/compose/load-compose.js";
import { readEnvFile } from "../secrets/env-files.js";
import { PlatformError } from "../errors.js";

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
    return await readFileBounded(file, MAX_MANIFEST_BYTES);
  } catch {
    return problem(file, "Compose file cannot be read");
  }
}

/**
 * For a manifest with `spec.compose`, reads its Compose files (and the `extends` targets they name, up to
 * {@link MAX_COMPOSE_FILES}) and its interpolation env_file; returns the source with them attached. Other manifests
 * come back unchanged. The env_file's values are secrets: they only feed interpolation and never reach a problem.
 */
export async function withComposeFiles(
  source: ManifestSource,
  env: Readonly<Record<string, string | undefined>>,
  allowedDirs: readonly string[],
  /** Compose files already read for other modules of the same catalog load (path -> bytes or problem), shared. */
  shared: Map<string, Uint8Array | Problem> = new Map(),
): Promise<{ source: ManifestSource; problems: Problem[] }> {
  const parsed = parseYaml(source.file, source.bytes);
  const spec = parsed.ok
    ? (parsed.parsed.value as { spec?: { compose?: { files?: unknown; env_file?: unknown } } }).spec?.compose
    : undefined;
  if (
    !spec ||
    !Array.isArray(spec.files) ||
    !spec.files.every((f) => typeof f === "string" && f !== "" && !f.startsWith("/") && !f.startsWith("~"))
  )
    return { source, problems: [] };
  const problems: Problem[] = [];
  let fileEnv: Record<string, string> = {};
  // An absolute env_file is read under the same confinement (an allowed directory); validation names it otherwise.
  if (typeof spec.env_file === "string" && !spec.env_file.startsWith("~")) {
    try {
      fileEnv = await readEnvFile(`${source.dirName} spec.compose.env_file`, source.dir, spec.env_file, allowedDirs);
    } catch (e) {
      if (!(e instanceof PlatformError)) throw e;
      problems.push({ ...problem(source.file, e.message), path: "spec.compose.env_file" });
    }
  }
  const composeEnv = { ...fileEnv, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
  const files = composeFilePaths(source.dir, spec.files as string[]);
  const read = new Map<string, Uint8Array | Problem>();
  let pending = files;
  while (pending.length && read.size < MAX_COMPOSE_FILES) {
    for (const f of pending) {
      if (read.has(f)) continue;
      const got = shared.get(f) ?? (await readComposeFile(f));
      shared.set(f, got);
      read.set(f, got);
    }
    const next = loadCompose({ files, read, env: composeEnv, view: "module" });
    pending = next.kind === "needs" ? next.files.filter((f) => !read.has(f)) : [];
  }
  const compose: ComposeFiles = { read, env: composeEnv };
  return { source: { ...source, compose }, problems };
}
