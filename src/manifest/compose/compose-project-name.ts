// Compose's own project name for a set of files (pure): the last top-level `name:`, else the first file's directory, normalized.
import path from "node:path";
import { parseYaml } from "../parse-yaml.js";
import { COMPOSE_TAGS } from "./read-compose-file.js";

export interface ComposeProjectName {
  /** Undefined when nothing yields a usable name (the operator passes --project). */
  name: string | undefined;
  why: string;
}

const PROJECT = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Compose's normalization of a directory name: lower-cased, characters outside `[a-z0-9_-]` dropped. */
export function normalizeProjectName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "")
    .replace(/^[_-]+/, "");
}

/**
 * The project name `docker compose -f ...` would use without `-p`: the top-level `name` of the last file that sets
 * one (when it is literal: an interpolated name is left to the operator), else the base name of the first file's
 * directory (the files are absolute paths). `COMPOSE_PROJECT_NAME` is not consulted: the module must not depend on a shell variable.
 */
export function composeProjectName(files: readonly { file: string; shown: string; bytes: Uint8Array }[]): ComposeProjectName {
  let named: string | undefined;
  let from = "";
  for (const f of files) {
    const parsed = parseYaml(f.file, f.bytes, { tags: COMPOSE_TAGS, mergeKeys: true, maxAliases: 64 });
    const value = parsed.ok ? (parsed.parsed.value as { name?: unknown }).name : undefined;
    if (typeof value === "string") {
      named = value;
      from = f.shown;
    }
  }
  if (named !== undefined) {
    if (PROJECT.test(named)) return { name: named, why: `Compose's project name: the top-level name in ${from}` };
    return { name: undefined, why: `the top-level name "${named}" in ${from} is not a literal project name` };
  }
  const first = files[0];
  const dir = normalizeProjectName(path.basename(path.dirname(first?.file ?? "")));
  if (PROJECT.test(dir))
    return {
      name: dir,
      why: `Compose's default project name: the directory of ${first?.shown}; pass --project if you run Compose with -p`,
    };
  return { name: undefined, why: `the directory of ${first?.shown} does not yield a project name` };
}
