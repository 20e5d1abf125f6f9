// The manifest cache (STATE_DIR/cache/manifests.json): validation results of unchanged manifest files, per build.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ManifestResult } from "../manifest/validate.js";
import { onlyOurs, onlyOursToWrite } from "./only-ours-to-write.js";
import { readRegularFile } from "./read-regular-file.js";

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
  /** What a Compose-sourced manifest's result also depends on, by the manifest's own key. */
  getCompose(key: string): ComposeInputs | undefined;
  setCompose(key: string, inputs: ComposeInputs): void;
  /**
   * This cache file's own random key (32 bytes, kept in the file): environment values a Compose-sourced result depends
   * on enter its key only as an HMAC under it, never as values.
   */
  digestKey: Uint8Array;
  /** Writes the cache back when something was added; never throws (a cache that cannot be written is only slower). */
  save(): Promise<void>;
}

/**
 * The inputs of a Compose-sourced manifest's result besides its own bytes, stored under the manifest's key; the
 * result itself is stored under a key over these inputs' current content (src/catalog/compose-result-key.ts). Holds
 * paths and variable names, never a value.
 */
export interface ComposeInputs {
  /** Every Compose file read for the module (`extends` targets included), as the catalog read them. */
  files: string[];
  /** `spec.compose.env_file` as written, when set. */
  envFile?: string;
  /** The variables the files' interpolated-when-read fields reference (nested ones included), sorted. */
  names: string[];
}

interface CacheFile {
  build_id: string;
  /** Hex of {@link ManifestCache.digestKey}. */
  key?: string;
  entries: Record<string, ManifestResult>;
  compose?: Record<string, ComposeInputs>;
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
  if (!onlyOurs(st) || !(await onlyOursToWrite([path.dirname(file), file]))) return undefined;
  const stored = await readCacheFile(file, buildId);
  const entries = new Map<string, ManifestResult>(Object.entries(stored?.entries ?? {}));
  const compose = new Map<string, ComposeInputs>(Object.entries(stored?.compose ?? {}));
  const storedKey = stored?.key && /^[0-9a-f]{64}$/.test(stored.key) ? Buffer.from(stored.key, "hex") : undefined;
  // A new key orphans every Compose-sourced entry keyed with the old one (they are only looked up under the new key).
  const digestKey = storedKey ?? randomBytes(32);
  let dirty = false;
  return {
    get: (key) => entries.get(key),
    set(key, result) {
      entries.delete(key);
      entries.set(key, result);
      dirty = true;
    },
    getCompose: (key) => compose.get(key),
    setCompose(key, inputs) {
      compose.delete(key);
      compose.set(key, inputs);
      dirty = true;
    },
    digestKey,
    async save() {
      if (!dirty) return;
      const body: CacheFile = {
        build_id: buildId,
        key: Buffer.from(digestKey).toString("hex"),
        entries: Object.fromEntries([...entries].slice(-MAX_ENTRIES)),
        compose: Object.fromEntries([...compose].slice(-MAX_ENTRIES)),
      };
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
    const parsed = JSON.parse((await readRegularFile(file)).toString("utf8")) as Partial<CacheFile> | null;
    if (parsed?.build_id !== buildId || typeof parsed.entries !== "object" || parsed.entries === null) return undefined;
    const compose = typeof parsed.compose === "object" && parsed.compose !== null ? parsed.compose : {};
    return { build_id: buildId, key: typeof parsed.key === "string" ? parsed.key : undefined, entries: parsed.entries, compose };
  } catch {
    // Safe: a missing, corrupt or special (FIFO) cache file is empty; every manifest is validated again and the cache rewritten.
    return undefined;
  }
}
