// The manifest cache through the CLI: an unchanged catalog is not parsed again, a changed file always is, and the
// cached catalog plans exactly like a freshly validated one.
import { cp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST_CACHE_FILE } from "../../src/state/manifest-cache.js";
import { aManifest, tempDirs, writeCatalog } from "../manifest/a-manifest.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { REPO } from "../helpers/repo.js";

const temp = tempDirs();
afterAll(() => temp.cleanup());
beforeAll(() => assertFreshBuild());

const cacheEntries = async (stateDir: string) =>
  Object.keys((JSON.parse(await readFile(path.join(stateDir, MANIFEST_CACHE_FILE), "utf8")) as { entries: object }).entries);

describe("manifest cache through the CLI", () => {
  it("stores each validated manifest once and re-validates a manifest that changed since (a stale entry is never used)", async () => {
    const stateDir = await temp.make("cache-state");
    const root = await writeCatalog(await temp.make("cache-catalog"), { demo: aManifest(), other: aManifest({ name: "other" }) });
    const env = { STATE_DIR: stateDir };
    expect((await runCli(["validate", root], env)).code).toBe(0);
    expect(await cacheEntries(stateDir)).toHaveLength(2);
    expect((await runCli(["validate", root], env)).code).toBe(0);
    expect(await cacheEntries(stateDir)).toHaveLength(2);

    await writeFile(path.join(root, "demo", "module.yaml"), aManifest({ expectedState: "sleeping" }));
    const changed = await runCli(["validate", root], env);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain("spec.runtime.expected_state");
    expect(await cacheEntries(stateDir)).toHaveLength(3);

    await writeFile(path.join(root, "demo", "module.yaml"), aManifest());
    expect((await runCli(["validate", root], env)).code).toBe(0);
  });

  it("never serves a Compose-sourced module's stale result: an edited Compose file changes the result with a warm cache", async () => {
    const stateDir = await temp.make("cache-compose-state");
    const root = await temp.make("cache-compose");
    await cp(path.join(REPO, "test/fixtures/compose/platform"), root, { recursive: true });
    const env = { STATE_DIR: stateDir, PLATFORMCTL_ENV_FILE_DIRS: root };
    const modules = path.join(root, "modules");
    expect((await runCli(["validate", "--strict", modules], env)).code).toBe(0);
    expect((await runCli(["validate", "--strict", modules], env)).code).toBe(0);
    // The module files are unchanged; only the Compose file they name now has a field outside the supported subset.
    const prod = path.join(root, "compose/compose.prod.yaml");
    await writeFile(prod, (await readFile(prod, "utf8")).replace('    user: "1000:1000"', '    user: "1000:1000"\n    privileged: true'));
    const edited = await runCli(["validate", "--strict", modules], env);
    expect(edited.code, edited.stdout).toBe(1);
    expect(edited.stdout).toContain("privileged");
  });

  it("never trusts a cache written by another build, even one that holds this file's exact key", async () => {
    const stateDir = await temp.make("cache-foreign");
    const root = await writeCatalog(await temp.make("cache-foreign-catalog"), { demo: aManifest({ expectedState: "sleeping" }) });
    const env = { STATE_DIR: stateDir };
    expect((await runCli(["validate", root], env)).code).toBe(1);
    const file = path.join(stateDir, MANIFEST_CACHE_FILE);
    const stored = JSON.parse(await readFile(file, "utf8")) as { build_id: string; entries: Record<string, { problems: unknown[] }> };
    // The same entries, emptied of their problems, under another build's id: a cache that would wrongly pass the file.
    for (const e of Object.values(stored.entries)) e.problems = [];
    await writeFile(file, JSON.stringify({ ...stored, build_id: "0".repeat(32) }));
    expect((await runCli(["validate", root], env)).code).toBe(1);
    // And under this build's id the emptied entry would be used: the test above proves the build id is what refused it.
    await writeFile(file, JSON.stringify(stored));
    expect((await runCli(["validate", root], env)).code).toBe(0);
  });

  it("is not used with PLATFORMCTL_NO_CACHE=1, and a plan from cached manifests equals one from freshly validated ones", async () => {
    const stateDir = await temp.make("cache-plan");
    const root = await writeCatalog(await temp.make("cache-plan-catalog"), { demo: aManifest(), other: aManifest({ name: "other" }) });
    const args = ["plan", "--json", "--modules-dir", root, "--project", "cache-plan-nothing-here"];
    const cold = await runCli(args, { STATE_DIR: stateDir, PLATFORMCTL_NO_CACHE: "1" });
    expect(cold.code, cold.stderr).toBe(0);
    await expect(readFile(path.join(stateDir, MANIFEST_CACHE_FILE))).rejects.toMatchObject({ code: "ENOENT" });
    expect((await runCli(args, { STATE_DIR: stateDir })).code).toBe(0);
    const warm = await runCli(args, { STATE_DIR: stateDir });
    expect(warm.code, warm.stderr).toBe(0);
    const strip = (s: string) => {
      const plan = JSON.parse(s) as Record<string, unknown>;
      delete plan.observed_at;
      delete plan.generated_at;
      return plan;
    };
    expect(strip(warm.stdout)).toEqual(strip(cold.stdout));
  });
});
