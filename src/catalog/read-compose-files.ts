// Reads what a Compose-sourced module names (its Compose files, `extends` targets, the interpolation env_file) for the pure validator.
import { parseYaml } from "../manifest/parse-yaml.js";
import type { Problem } from "../manifest/problems.js";
import type { ManifestSource } from "../manifest/validate.js";
import type { ComposeInputs } from "../state/manifest-cache.js";
import { composeFilePaths, type ComposeFiles } from "../manifest/compose/validate-compose.js";
import { loadCompose, MAX_COMPOSE_FILES } from "../manifest/compose/load-compose.js";
import { readComposeFile, readInterpolationEnv } from "./read-compose-inputs.js";

/**
 * For a manifest with `spec.compose`, reads its Compose files (and the `extends` targets they name, up to
 * {@link MAX_COMPOSE_FILES}) and its interpolation env_file; returns the source with them attached. Other manifests
 * come back unchanged. The env_file's values are secrets: they only feed interpolation and never reach a problem.
 * `inputs` names what the module's result depends on besides its bytes (for the manifest cache); undefined when the
 * files could not all be read within the bound.
 */
export async function withComposeFiles(
  source: ManifestSource,
  env: Readonly<Record<string, string | undefined>>,
  allowedDirs: readonly string[],
  /** Compose files already read for other modules of the same catalog load (path -> bytes or problem), shared. */
  shared: Map<string, Uint8Array | Problem> = new Map(),
): Promise<{ source: ManifestSource; problems: Problem[]; inputs?: ComposeInputs }> {
  // Parsed once here; validateManifest takes this parse from the source instead of parsing again.
  const parsed = parseYaml(source.file, source.bytes);
  const withParse: ManifestSource = { ...source, parsed };
  const spec = parsed.ok
    ? (parsed.parsed.value as { spec?: { compose?: { files?: unknown; env_file?: unknown } } }).spec?.compose
    : undefined;
  if (
    !spec ||
    !Array.isArray(spec.files) ||
    !spec.files.every((f) => typeof f === "string" && f !== "" && !f.startsWith("/") && !f.startsWith("~"))
  )
    return { source: withParse, problems: [] };
  const envFile = typeof spec.env_file === "string" ? spec.env_file : undefined;
  const interpolation = await readInterpolationEnv(source, envFile, env, allowedDirs);
  const problems: Problem[] = interpolation.problem ? [interpolation.problem] : [];
  const composeEnv = interpolation.env;
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
  const loaded = loadCompose({ files, read, env: composeEnv, view: "module" });
  if (loaded.kind !== "loaded") return { source: { ...withParse, compose }, problems };
  const inputs: ComposeInputs = { files: [...read.keys()], names: loaded.referenced, ...(envFile === undefined ? {} : { envFile }) };
  return { source: { ...withParse, compose }, problems, inputs };
}
