// The manifest cache (STATE_DIR/cache/manifests.json): validation results of unchanged manifest files, per build.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ManifestResult } from "../manifest/validate.js";

export const MANIFEST_CACHE_FILE = path.join("cache", "manifests.json");
/** Entries kept at most; the least recently written go first. */
const MAX_ENTRIES = 5_000;

/**
 * Validation results keyed by everything a result depends on: the build of platformctl that validated (never
 * trusted by another build, not even of the same version), the validation options, the file's path, its directory's
 * name and its bytes. Safe to delete at any time; a missing, unreadable or malformed cache is an empty one.
 */
export interface ManifestCache {
  get(key: string): ManifestResult | undefined;
  set(key: string, result: ManifestResult): void;
  /** Writes the cache back when something was added; never throws (a cache that cannot be written is only slower). */
  save(): Promise<void>;
}

interface CacheFile {
  build_id: string;
  entries: Record<string, ManifestResult>;
}

/** The key of one manifest's validation result. */
export function manifestCacheKey(parts: { buildId: string; options: unknown; file: string; dirName: string; bytes: Uint8Array }): string {
  return createHash("sha256")
    .update(parts.buildId)
    .update("\0")
    .update(JSON.stringify(parts.options))
    .update("\0")
    .update(path.resolve(parts.file))
    .update("\0")
    .update(parts.dirName)
    .update("\0")
    .update(parts.bytes)
    .digest("hex");
}

/**
 * Opens the cache of `buildId` under `stateDir`. Only an existing STATE_DIR gets a cache (read-only commands such as
 * `plan` never create the state directory); the cache directory inside it is created on first save.
 */
export async function openManifestCache(stateDir: string, buildId: string): Promise<ManifestCache | undefined> {
  // Safe: without a state directory there is no cache, and every manifest is validated as before.
  const st = await stat(stateDir).catch(() => undefined);
  if (!st?.isDirectory()) return undefined;
  const file = path.join(stateDir, MANIFEST_CACHE_FILE);
  const entries = new Map<string, ManifestResult>(Object.entries((await readCacheFile(file, buildId))?.entries ?? {}));
  let dirty = false;
  return {
    get: (key) => entries.get(key),
    set(key, result) {
      entries.delete(key);
      entries.set(key, result);
      dirty = true;
    },
    async save() {
      if (!dirty) return;
      const kept = [...entries].slice(-MAX_ENTRIES);
      const body: CacheFile = { build_id: buildId, entries: Object.fromEntries(kept) };
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      try {
        await mkdir(path.dirname(file), { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== "EEXIST") throw e;
        });
        await writeFile(tmp, JSON.stringify(body), { mode: 0o600 });
        await rename(tmp, file);
      } catch {
        // Safe: an unwritable cache only means the next run validates again; the temporary file is removed.
        await rm(tmp, { force: true }).catch(() => undefined); // safe: best-effort removal of our own temporary file
      }
    },
  };
}

/** The cache file if it belongs to `buildId` and has the expected shape; anything else reads as no cache. */
async function readCacheFile(file: string, buildId: string): Promise<CacheFile | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<CacheFile> | null;
    if (parsed?.build_id !== buildId || typeof parsed.entries !== "object" || parsed.entries === null) return undefined;
    return { build_id: buildId, entries: parsed.entries };
  } catch {
    // Safe: a missing or corrupt cache is empty; every manifest is validated again and the cache rewritten.
    return undefined;
  }
}
