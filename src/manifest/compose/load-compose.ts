// Loads a module's Compose files (bytes handed in by the catalog): per-file reading, `extends`, then merging in `-f` order.
import path from "node:path";
import type { Problem } from "../problems.js";
import type { ComposeService, ComposeServiceLayer } from "./compose-service.js";
import { mergeLayers, settleLayer } from "./merge-compose.js";
import { readComposeFile, type ComposeFileRead, type ComposeView } from "./read-compose-file.js";

/** At most this many Compose files per module, `extends` targets included. */
export const MAX_COMPOSE_FILES = 32;

export interface ComposeLoadInput {
  /** The files in `-f` order, as paths the catalog reads (already joined onto the module directory). */
  files: readonly string[];
  /** What the catalog read: bytes, or the problem that kept it from reading a file. */
  read: ReadonlyMap<string, Uint8Array | Problem>;
  /** Interpolation environment (the command's environment over the `env_file` values). */
  env: Readonly<Record<string, string | undefined>>;
  view: ComposeView;
}

export type ComposeLoad =
  /** More files must be read first (`extends` targets); the catalog reads them and calls again. */
  | { kind: "needs"; files: string[] }
  | {
      kind: "loaded";
      /** Every service of the merged model, in first-seen order. */
      services: Map<string, ComposeServiceLayer>;
      problems: Problem[];
      warnings: Problem[];
      /** Unsupported fields: warnings, or errors with --strict. */
      unsupported: Problem[];
      /** Every variable the files' read-time interpolation references, sorted: what of the environment the load depends on. */
      referenced: string[];
    };

/** The project directory relative paths resolve against: the first file's, as Compose uses. */
export function projectDir(files: readonly string[]): string {
  return path.posix.dirname(files[0] ?? ".");
}

/**
 * Reads, extends and merges. Pure: every file's bytes come in `read`; when an `extends` names a file not read yet,
 * the answer lists it (the catalog reads it and calls again, bounded by {@link MAX_COMPOSE_FILES}).
 */
export function loadCompose(input: ComposeLoadInput): ComposeLoad {
  const key = loadKey(input);
  const hit = loaded.get(key);
  if (hit) return hit;
  const result = loadComposeOnce(input);
  // Only a complete load is kept: one that still needs files is asked again with more of them read.
  if (result.kind === "loaded") loaded.set(key, result);
  return result;
}

/**
 * Complete loads by their input, so the modules owning services of one set of files (read once by the catalog and
 * shared) merge those files once rather than once each: the merge is over every service of the files, which made N
 * modules of one N-service file cost N². A load is only read by its callers. Bounded, oldest dropped first.
 */
const loaded = new Map<string, ComposeLoad>();
const MAX_LOADS = 64;
const identities = new WeakMap<object, number>();
let nextIdentity = 0;

function loadKey(input: ComposeLoadInput): string {
  const id = (o: object) => {
    const known = identities.get(o);
    if (known !== undefined) return known;
    const n = nextIdentity++;
    identities.set(o, n);
    return n;
  };
  const read = [...input.read].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([f, v]) => [f, id(v)]);
  const env = Object.entries(input.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const key = JSON.stringify([input.files, input.view, read, env]);
  if (loaded.size >= MAX_LOADS && !loaded.has(key)) loaded.delete(loaded.keys().next().value as string);
  return key;
}

function loadComposeOnce(input: ComposeLoadInput): ComposeLoad {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const unsupported: Problem[] = [];
  const needs = new Set<string>();
  const referenced = new Set<string>();
  const cache = new Map<string, ComposeFileRead | undefined>();
  const base = projectDir(input.files);

  const fileRead = (file: string, baseDir: string): ComposeFileRead | undefined => {
    const key = `${file}\u0000${baseDir}`;
    if (cache.has(key)) return cache.get(key);
    const got = input.read.get(file);
    let result: ComposeFileRead | undefined;
    if (got === undefined) needs.add(file);
    else if (got instanceof Uint8Array) {
      result = readComposeFile(file, got, { view: input.view, env: input.env, baseDir });
      problems.push(...result.problems);
      warnings.push(...result.warnings);
      unsupported.push(...result.unsupported);
      for (const n of result.referenced) referenced.add(n);
    } else problems.push(got);
    cache.set(key, result);
    return result;
  };

  /** A service with its `extends` chain applied (the referenced service first, this one merged over it). */
  const resolve = (file: string, baseDir: string, name: string, stack: readonly string[]): ComposeServiceLayer | undefined => {
    const read = fileRead(file, baseDir);
    const layer = read?.services.get(name);
    if (!layer) return undefined;
    const ext = layer.extends;
    if (!ext) return layer;
    // A relative `file` is relative to the file holding the `extends`; its own relative paths to its own directory.
    const target = ext.file === undefined ? file : path.posix.join(path.posix.dirname(file), ext.file);
    const targetBase = ext.file === undefined ? baseDir : path.posix.dirname(target);
    const key = `${target}#${ext.service}`;
    const problem = (message: string): Problem => ({
      ...ext.at,
      path: `services.${name}.extends`,
      code: "compose.extends",
      message,
      hint: "Name a service defined in that file; extends chains must not loop.",
    });
    if (stack.includes(key)) {
      problems.push(problem(`extends loops: ${[...stack, key].join(" -> ")}`));
      return undefined;
    }
    if (ext.file !== undefined && !input.read.has(target)) {
      if (input.read.size >= MAX_COMPOSE_FILES) problems.push(problem(`more than ${MAX_COMPOSE_FILES} Compose files`));
      else needs.add(target);
      return undefined;
    }
    const parent = resolve(target, targetBase, ext.service, [...stack, key]);
    if (!parent) {
      if (fileRead(target, targetBase) && !needs.size && !problems.some((p) => p.code === "compose.extends"))
        problems.push(problem(`service "${ext.service}" is not defined in ${target}`));
      return undefined;
    }
    return mergeLayers(parent, layer);
  };

  const merged = new Map<string, ComposeServiceLayer>();
  for (const file of input.files) {
    const read = fileRead(file, base);
    if (!read) continue;
    for (const name of read.services.keys()) {
      const layer = resolve(file, base, name, [`${file}#${name}`]);
      if (!layer) continue;
      const before = merged.get(name);
      merged.set(name, before ? mergeLayers(before, layer) : settleLayer(layer));
    }
  }
  if (needs.size) return { kind: "needs", files: [...needs].sort() };
  return { kind: "loaded", services: merged, problems, warnings, unsupported, referenced: [...referenced].sort() };
}

/** The merged model as plain data (`services` only), the shape tests compare with `docker-compose config`. */
export function composeModel(services: ReadonlyMap<string, ComposeServiceLayer>): { services: Record<string, ComposeService> } {
  return { services: Object.fromEntries([...services].map(([name, layer]) => [name, layer.service])) };
}
