// Which manifest cache a command uses: this build's, under an existing STATE_DIR, unless PLATFORMCTL_NO_CACHE is set.
import { readFile } from "node:fs/promises";
import { openManifestCache } from "../state/manifest-cache.js";
import type { CacheUse } from "./load-modules.js";

/**
 * The manifest cache for a command, or undefined: when running from source (no dist/build-id.json, written after
 * `tsc`), when `stateDir` does not exist, or when PLATFORMCTL_NO_CACHE is set to anything but empty or `0`.
 */
export async function catalogCache(stateDir: string, env: Readonly<Record<string, string | undefined>>): Promise<CacheUse | undefined> {
  if (env.PLATFORMCTL_NO_CACHE && env.PLATFORMCTL_NO_CACHE !== "0") return undefined;
  builtId ??= readBuildId();
  const buildId = await builtId;
  if (buildId === undefined) return undefined;
  const cache = await openManifestCache(stateDir, buildId);
  return cache ? { cache, buildId } : undefined;
}

/**
 * Read once per process. The start-up snapshot keeps the value its warm-up read: it is built by the same `npm run build`
 * right after dist/build-id.json is written (a failed snapshot build leaves no snapshot), so they always agree.
 */
let builtId: Promise<string | undefined> | undefined;

/** This build's id (dist/build-id.json beside the compiled code); undefined when running from source. */
async function readBuildId(): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(new URL("../build-id.json", import.meta.url), "utf8")) as { build_id?: unknown };
    return typeof parsed.build_id === "string" && /^[0-9a-f]{32}$/.test(parsed.build_id) ? parsed.build_id : undefined;
  } catch {
    // Safe: without a build id the cache is not used and every manifest is validated.
    return undefined;
  }
}
