// The catalog reads what a Compose-sourced module names (files, extends targets, env_file) and caches its result only under a key over them.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadModules } from "../../src/catalog/load-modules.js";
import { withComposeFiles } from "../../src/catalog/read-compose-files.js";
import type { Problem } from "../../src/manifest/problems.js";
import { validateManifest } from "../../src/manifest/validate.js";
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

  it("parses module.yaml once on a cache miss: the reader's parse travels with the source, and validation judges that parse", async () => {
    const file = path.join(PLATFORM, "minio-init", "module.yaml");
    const source = { file, dir: path.dirname(file), dirName: "minio-init", bytes: await readFile(file) };
    const read = await withComposeFiles(source, {}, []);
    expect(read.source.parsed?.ok).toBe(true);
    expect(read.source.compose?.read.size).toBeGreaterThan(0);
    expect(validateManifest(read.source, { strict: true }).problems).toEqual([]);
    // The bytes are not parsed again: a different parse attached to the same bytes is what validation reports on.
    const marker: Problem = { file, line: 1, column: 1, path: "", code: "yaml.syntax", message: "the attached parse", hint: "" };
    expect(validateManifest({ ...read.source, parsed: { ok: false, problems: [marker] } }).problems).toEqual([marker]);
  });

  it("names a missing Compose file", async () => {
    const r = await loadModules(path.join(REPO, "test/fixtures/compose/missing-file/modules"), { env: {} });
    expect(r.problems.map((p) => [path.relative(REPO, p.file), p.code, p.message])).toEqual([
      ["test/fixtures/compose/missing-file/compose/nope.yaml", "compose.file", "Compose file does not exist"],
    ]);
  });
});
