// Reads the Compose files `import compose` is given (and the `extends` targets they name, and the env file) for the pure reader.
import path from "node:path";
import type { Problem } from "../manifest/problems.js";
import { loadCompose, MAX_COMPOSE_FILES, type ComposeLoad } from "../manifest/compose/load-compose.js";
import { readEnvFile } from "../secrets/env-files.js";
import { readComposeFile } from "./read-compose-inputs.js";

export interface ComposeProject {
  /** The merged model as a module reads it (fields resolved at apply time keep their references). */
  loaded: Extract<ComposeLoad, { kind: "loaded" }>;
  /** Every file read, by absolute path: bytes or why it could not be read. */
  read: ReadonlyMap<string, Uint8Array | Problem>;
  /** The interpolation environment (the command's over the env file's); secret values. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads `files` (absolute, in `-f` order) and loads them as a module would, interpolating with the command's
 * environment over `envFile`'s values (Compose's rule for `.env`). The env file is the operator's own choice, so its
 * directory is allowed; its values are secrets and never appear in a problem.
 */
export async function readComposeProject(
  files: readonly string[],
  envFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ComposeProject> {
  const fileEnv =
    envFile === undefined ? {} : await readEnvFile("--env-file", path.dirname(envFile), path.basename(envFile), [path.dirname(envFile)]);
  const composeEnv = { ...fileEnv, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
  const read = new Map<string, Uint8Array | Problem>();
  let pending = [...files];
  while (pending.length && read.size < MAX_COMPOSE_FILES) {
    for (const f of pending) if (!read.has(f)) read.set(f, await readComposeFile(f));
    const next = loadCompose({ files, read, env: composeEnv, view: "module" });
    if (next.kind === "loaded") return { loaded: next, read, env: composeEnv };
    pending = next.files.filter((f) => !read.has(f));
  }
  const problem: Problem = {
    file: files[0] ?? "",
    line: 0,
    column: 0,
    path: "",
    code: "compose.file",
    message: `the files and their extends targets are more than ${MAX_COMPOSE_FILES} Compose files`,
    hint: "Shorten the extends chains.",
  };
  return {
    loaded: { kind: "loaded", services: new Map(), problems: [problem], warnings: [], unsupported: [], referenced: [] },
    read,
    env: composeEnv,
  };
}
