// Reads manifests from disk (the only file-system code of the manifest phase) and hands the bytes to the pure validator.
import { lstatSync } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { PROBLEM_CODES, type Problem, type ProblemCode } from "../manifest/problems.js";
import type { CatalogResult, ManifestResult, ManifestSource, ValidateOptions } from "../manifest/validate.js";
import { checkCatalog } from "../manifest/validate-catalog.js";
import { MAX_MANIFEST_BYTES } from "../manifest/vocabulary.js";
import { manifestCacheKey, type ComposeInputs, type ManifestCache } from "../state/manifest-cache.js";
import { composeResultKey } from "./compose-result-key.js";
import { readNoFollowSync } from "./read-bounded.js";
import { readComposeFile, readInterpolationEnv } from "./read-compose-inputs.js";

/**
 * The validator, the YAML parser and the Compose reader, loaded on first need: a catalog whose manifests all come
 * from the manifest cache is checked without loading them (about a tenth of a warm command's start-up).
 */
const validators = async () => {
  const [validate, compose] = await Promise.all([import("../manifest/validate.js"), import("./read-compose-files.js")]);
  return { validateManifest: validate.validateManifest, locateProblem: validate.locateProblem, withComposeFiles: compose.withComposeFiles };
};

/** Validation options plus the environment Compose files are interpolated with (normally the command's). */
export interface LoadOptions extends ValidateOptions {
  env?: Readonly<Record<string, string | undefined>>;
}

export const MANIFEST_FILE = "module.yaml";

function fileProblem(file: string, code: ProblemCode, message: string): Problem {
  return { file, line: 0, column: 0, path: "", code, message, hint: PROBLEM_CODES[code].fix };
}

/**
 * An lstat failure other than "no such file" (EACCES, EIO …) counts as present, so the manifest is read and its
 * failure reported as `file.unreadable` rather than the module silently dropping out of the catalog.
 */
const absentOnlyIfMissing = (e: NodeJS.ErrnoException): undefined | true =>
  e.code === "ENOENT" || e.code === "ENOTDIR" ? undefined : true;

/**
 * Finds the module.yaml files a PATH names: a modules directory (each subdirectory holding a module.yaml),
 * a module directory, or a module.yaml itself.
 */
export async function findManifests(target: string): Promise<{
  files: string[];
  problems: Problem[];
  /** true when target named one module rather than a modules directory */
  single?: boolean;
}> {
  // Safe: any lstat failure is reported as a problem naming the path (validate fails), never skipped.
  const st = await lstat(target).catch(() => undefined);
  if (!st) return { files: [], problems: [fileProblem(target, "file.not_found", "path does not exist")] };
  if (st.isSymbolicLink())
    return { files: [], problems: [fileProblem(target, "file.symlink", "path is a symbolic link; pass the real path")] };
  if (st.isFile()) return { files: [target], problems: [], single: true };
  if (!st.isDirectory()) return { files: [], problems: [fileProblem(target, "file.not_found", "path is neither a file nor a directory")] };
  const own = path.join(target, MANIFEST_FILE);
  if (await lstat(own).catch(absentOnlyIfMissing)) return { files: [own], problems: [], single: true };
  let entries: string[];
  const problems: Problem[] = [];
  try {
    const all = await readdir(target, { withFileTypes: true });
    entries = all
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    // A symlinked module directory would otherwise be skipped without a word, and the module would silently
    // drop out of the catalog.
    for (const e of all.filter((x) => x.isSymbolicLink()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const linked = path.join(target, e.name);
      // Safe: a dangling link names no module directory, so there is nothing to report or load.
      if ((await stat(linked).catch(() => undefined))?.isDirectory())
        problems.push(fileProblem(linked, "file.symlink", "module directory is a symbolic link; commit the module itself"));
    }
  } catch {
    return { files: [], problems: [fileProblem(target, "file.unreadable", "directory cannot be read")] };
  }
  const candidates = entries.map((name) => path.join(target, name, MANIFEST_FILE));
  // Synchronous: one lstat per module directory is microseconds, where the promise API sends each through the pool.
  const present = candidates.map((f) => {
    try {
      return Boolean(lstatSync(f));
    } catch (e) {
      return Boolean(absentOnlyIfMissing(e as NodeJS.ErrnoException));
    }
  });
  const files = candidates.filter((_, i) => present[i]);
  if (files.length === 0 && problems.length === 0)
    return { files, problems: [fileProblem(target, "file.not_found", `no */${MANIFEST_FILE} found in this directory`)] };
  return { files, problems };
}

/** Reads one manifest without following a symlink and without reading more than the size limit (+1 byte to detect excess). */
export async function readManifest(file: string): Promise<{ source?: ManifestSource; problem?: Problem }> {
  const r = readNoFollowSync(file, MAX_MANIFEST_BYTES);
  if (r.kind === "failed") {
    if (r.code === "ELOOP") return { problem: fileProblem(file, "file.symlink", "module.yaml is a symbolic link") };
    if (r.code === "ENOENT" || r.code === "ENOTDIR") return { problem: fileProblem(file, "file.not_found", "file does not exist") };
    return { problem: fileProblem(file, "file.unreadable", "file cannot be read") };
  }
  if (r.kind === "not-regular") return { problem: fileProblem(file, "file.unreadable", "not a regular file") };
  // Reported with the real size; the reader never loads more than the limit.
  if (r.kind === "too-large")
    return { problem: fileProblem(file, "file.too_large", `file is ${r.size} bytes; the limit is ${MAX_MANIFEST_BYTES}`) };
  const dir = path.dirname(file);
  return { source: { file, dir, dirName: path.basename(path.resolve(dir)), bytes: r.bytes } };
}

/** A manifest cache and the build it belongs to (see src/state/manifest-cache.ts). */
export interface CacheUse {
  cache: ManifestCache;
  buildId: string;
}

/**
 * Loads and validates every module under the given paths (default: one modules directory). With `cached`, each
 * manifest whose key (build, options, path, directory name, bytes) is in the cache takes its stored result instead of
 * being parsed and validated again; a Compose-sourced one's key also holds its Compose files' bytes, the env_file's
 * outcome and a keyed digest of the variables they interpolate (compose-result-key.ts). A result may depend only on
 * what its key holds: a validation that starts reading other files for a manifest must add their bytes to the key.
 */
export async function loadModules(
  targets: string | readonly string[],
  options: LoadOptions = {},
  cached?: CacheUse,
): Promise<CatalogResult> {
  const list = typeof targets === "string" ? [targets] : targets;
  const problems: Problem[] = [];
  const files: string[] = [];
  const seen = new Set<string>();
  const knownNames: string[] = [];
  for (const t of list) {
    const found = await findManifests(t);
    problems.push(...found.problems);
    if (found.single && found.files[0]) {
      // One module of a catalog: its siblings are the catalog its depends_on may name.
      // Resolved first: for `validate .` inside a module directory the catalog is the parent, not `.` itself.
      const catalogDir = path.dirname(path.dirname(path.resolve(found.files[0])));
      // Safe: without the siblings, a depends_on naming one is reported as unknown (a problem), never accepted.
      const siblings = await findManifests(catalogDir).catch(() => ({ files: [] as string[] }));
      knownNames.push(...siblings.files.map((f) => path.basename(path.dirname(f))));
    }
    for (const f of found.files) {
      const key = path.resolve(f);
      if (seen.has(key)) continue;
      seen.add(key);
      files.push(f);
    }
  }
  // Read concurrently (a small pool, in catalog order), then take each unchanged manifest's result from the cache
  // before anything parses it: a Compose-sourced one's after reading (never parsing) the inputs it was computed from.
  const read = await mapPool(files, READ_POOL, readManifest);
  // One plain copy of the environment per load: each read of `process.env` is a runtime call per key, and every
  // Compose-sourced module builds its interpolation environment from it (~27 ms at 200 modules, `--cpu-prof`).
  const env: Record<string, string | undefined> = { ...options.env };
  const sources: ManifestSource[] = [];
  const results: ManifestResult[] = [];
  // `strict` as a boolean: the cache key is the options' JSON, and `validate` (false) must share plan's (absent) entries.
  const validateOptions = { strict: options.strict === true, envFileDirs: options.envFileDirs };
  // A Compose file named by several modules is read (and so parsed) once per load.
  const composeFiles = new Map<string, Uint8Array | Problem>();
  const memo: LoadMemo = { valueDigests: new Map() };
  for (const r of read) {
    if (r.problem) problems.push(r.problem);
    if (!r.source) continue;
    const key = cached && cacheKey(r.source, validateOptions, cached);
    const hit =
      cached &&
      key &&
      ((await cachedComposeResult(r.source, key, cached.cache, { ...options, env }, composeFiles, memo)) ??
        cachedResult(r.source, key, cached));
    if (hit) {
      problems.push(...hit.problems);
      sources.push(r.source);
      results.push(hit.result);
      continue;
    }
    const v = await validators();
    const withCompose = await v.withComposeFiles(r.source, env, options.envFileDirs ?? [], composeFiles);
    problems.push(...withCompose.problems);
    sources.push(withCompose.source);
    const result = v.validateManifest(withCompose.source, validateOptions);
    results.push(result);
    if (!cached || !key) continue;
    const compose = withCompose.source.compose;
    if (!compose) cached.cache.set(key, result);
    else if (withCompose.inputs) {
      // Stored under a key over every input's content; a module whose inputs could not all be read is never stored.
      const inputs = withCompose.inputs;
      cached.cache.setCompose(key, inputs);
      cached.cache.set(
        composeResultKey({
          manifestKey: key,
          ...inputs,
          read: compose.read,
          env: compose.env,
          problems: withCompose.problems,
          digestKey: cached.cache.digestKey,
        }),
        result,
      );
    }
  }
  await cached?.cache.save();
  const context = { problems, knownNames, results };
  const checked = checkCatalog(sources, options, context);
  // Catalog-level problems are found without positions; only then is the parser loaded to locate them.
  if (!checked.problems.some((p) => p.line === 0 && p.path)) return checked;
  return checkCatalog(sources, options, context, (await validators()).locateProblem);
}

/** Manifests read at once: enough to keep the file-system thread pool busy, few enough to bound open files. */
const READ_POOL = 8;

/** `fn` over `items` with at most `size` calls in flight; results in the order of `items`. */
async function mapPool<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return out;
}

function cacheKey(src: ManifestSource, options: ValidateOptions, cached: CacheUse): string {
  return manifestCacheKey({ buildId: cached.buildId, options, file: src.file, dirName: src.dirName, bytes: src.bytes });
}

/** The stored result of an unchanged manifest without Compose files, if any. */
function cachedResult(src: ManifestSource, key: string, cached: CacheUse): { result: ManifestResult; problems: Problem[] } | undefined {
  const hit = cached.cache.get(key);
  return hit && hit.file === src.file ? { result: hit, problems: [] } : undefined;
}

/** What the cache lookups of one load's Compose-sourced modules share; made within one `loadModules` call only. */
interface LoadMemo {
  /** The interpolation environment of a module without an env_file: the load's environment, the same for each. */
  plain?: { env: Record<string, string | undefined>; problem?: Problem };
  /** composeResultKey's digests of the values of variables under `plain.env` (see its `valueDigests`). */
  valueDigests: Map<string, string>;
}

/**
 * The stored result of a Compose-sourced manifest whose inputs are all unchanged: its Compose files are read again
 * (shared within the load) and its env_file, and the result is looked up under the key of what they hold now.
 */
async function cachedComposeResult(
  src: ManifestSource,
  key: string,
  cache: ManifestCache,
  options: LoadOptions,
  shared: Map<string, Uint8Array | Problem>,
  memo: LoadMemo,
): Promise<{ result: ManifestResult; problems: Problem[] } | undefined> {
  const inputs = cache.getCompose(key);
  if (!wellFormed(inputs)) return undefined;
  const interpolate = (envFile: string | undefined) => readInterpolationEnv(src, envFile, options.env ?? {}, options.envFileDirs ?? []);
  // Without an env_file the environment is the load's own (no file read, no problem possible), so it is made once.
  const plain = inputs.envFile === undefined;
  if (plain && !memo.plain) memo.plain = await interpolate(undefined);
  const interpolation = plain && memo.plain ? memo.plain : await interpolate(inputs.envFile);
  const read = new Map<string, Uint8Array | Problem>();
  for (const f of inputs.files) {
    const got = shared.get(f) ?? (await readComposeFile(f));
    shared.set(f, got);
    read.set(f, got);
  }
  const problems = interpolation.problem ? [interpolation.problem] : [];
  const resultKey = composeResultKey({
    manifestKey: key,
    files: inputs.files,
    read,
    env: interpolation.env,
    names: inputs.names,
    problems,
    digestKey: cache.digestKey,
    ...(plain ? { valueDigests: memo.valueDigests } : {}),
  });
  const hit = cache.get(resultKey);
  return hit && hit.file === src.file ? { result: hit, problems } : undefined;
}

/** A stored ComposeInputs of the expected shape (a hand-edited or corrupt cache reads as a miss). */
function wellFormed(x: ComposeInputs | undefined): x is ComposeInputs {
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
  return (
    typeof x === "object" &&
    x !== null &&
    strings(x.files) &&
    strings(x.names) &&
    (x.envFile === undefined || typeof x.envFile === "string")
  );
}
