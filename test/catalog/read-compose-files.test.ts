// The catalog reads what a Compose-sourced module names (files, extends targets, env_file) and caches its result only under a key over them.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadModules } from "../../src/catalog/load-modules.js";
import type { ManifestCache } from "../../src/state/manifest-cache.js";
import type { ManifestResult } from "../../src/manifest/validate.js";
import { REPO } from "../helpers/repo.js";

const PLATFORM = path.join(REPO, "test/fixtures/compose/platform/modules");

/** An in-memory manifest cache that records what was stored. */
function aCache(): ManifestCache & { stored: string[] } {
  const entries = new Map<string, ManifestResult>();
  const stored: string[] = [];
  return {
    stored,
    get: (key) => entries.get(key),
    set: (key, result) => {
      entries.set(key, result);
      stored.push(result.file);
    },
    getCompose: () => undefined,
    setCompose: () => undefined,
    digestKey: new Uint8Array(32),
    save: async () => undefined,
  };
}

describe("loading Compose-sourced modules", () => {
  it("reads the files, the extends target in another file and the env_file, and yields both modules", async () => {
    const r = await loadModules(PLATFORM, { strict: true, env: {} });
    expect(r.problems).toEqual([]);
    expect(r.modules.map((m) => [m.name, m.services.map((s) => s.image)])).toEqual([
      ["minio", ["docker.io/minio/minio:RELEASE.2025-04-22T22-12-26Z"]],
      ["minio-init", ["minio/mc:RELEASE.2025-04-16T18-13-26Z"]],
    ]);
  });

  it("lets the command's environment win over the env_file, and stores each Compose-sourced result (keyed by its inputs, test/catalog/compose-cache.test.ts)", async () => {
    const cache = aCache();
    const r = await loadModules(PLATFORM, { env: { MINIO_PROD_TAG: "RELEASE.2099-01-01T00-00-00Z" } }, { cache, buildId: "test" });
    expect(r.modules[0]?.services[0]?.image).toBe("docker.io/minio/minio:RELEASE.2099-01-01T00-00-00Z");
    expect(cache.stored.map((f) => path.basename(path.dirname(f)))).toEqual(["minio", "minio-init"]);
  });

  it("names a missing Compose file", async () => {
    const r = await loadModules(path.join(REPO, "test/fixtures/compose/missing-file/modules"), { env: {} });
    expect(r.problems.map((p) => [path.relative(REPO, p.file), p.code, p.message])).toEqual([
      ["test/fixtures/compose/missing-file/compose/nope.yaml", "compose.file", "Compose file does not exist"],
    ]);
  });
});
