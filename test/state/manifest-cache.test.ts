// The manifest cache store: keyed per build, never trusted across builds, and never a reason for a command to fail.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MANIFEST_CACHE_FILE, manifestCacheKey, openManifestCache } from "../../src/state/manifest-cache.js";
import type { ManifestResult } from "../../src/manifest/validate.js";
import { tempDirs } from "../manifest/a-manifest.js";

const temp = tempDirs();
afterAll(() => temp.cleanup());

const result = (file: string): ManifestResult => ({ file, module: undefined, problems: [], warnings: [] });
const key = (over: Partial<Parameters<typeof manifestCacheKey>[0]> = {}) =>
  manifestCacheKey({ buildId: "b1", options: {}, file: "/c/m/module.yaml", dirName: "m", bytes: new Uint8Array([1, 2]), ...over });

describe("manifest cache", () => {
  it("keys a result on the build, the options, the path, the directory name and every byte", () => {
    const base = key();
    expect(key()).toBe(base);
    expect(
      new Set([
        base,
        key({ buildId: "b2" }),
        key({ options: { strict: true } }),
        key({ file: "/c/n/module.yaml" }),
        key({ dirName: "n" }),
        key({ bytes: new Uint8Array([1, 3]) }),
      ]).size,
    ).toBe(6);
  });

  it("has no cache without an existing state directory, and creates none", async () => {
    const dir = path.join(await temp.make("no-state"), "state");
    expect(await openManifestCache(dir, "b1")).toBeUndefined();
    await expect(readFile(dir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("keeps what was set for the same build, mode 0600, and forgets it for another build", async () => {
    const dir = await temp.make("state");
    const first = await openManifestCache(dir, "b1");
    first?.set(key(), result("/c/m/module.yaml"));
    await first?.save();
    expect((await openManifestCache(dir, "b1"))?.get(key())).toEqual(result("/c/m/module.yaml"));
    expect((await openManifestCache(dir, "b2"))?.get(key())).toBeUndefined();
    const { stat } = await import("node:fs/promises");
    expect((await stat(path.join(dir, MANIFEST_CACHE_FILE))).mode & 0o777).toBe(0o600);
  });

  it("reads a corrupt cache file as empty and replaces it on the next save", async () => {
    const dir = await temp.make("corrupt");
    await mkdir(path.join(dir, "cache"));
    await writeFile(path.join(dir, MANIFEST_CACHE_FILE), '{"build_id":"b1","entries":');
    const cache = await openManifestCache(dir, "b1");
    expect(cache?.get(key())).toBeUndefined();
    cache?.set(key(), result("/c/m/module.yaml"));
    await cache?.save();
    expect(JSON.parse(await readFile(path.join(dir, MANIFEST_CACHE_FILE), "utf8"))).toMatchObject({ build_id: "b1" });
  });

  it("does not fail when the cache cannot be written: the next run only validates again", async () => {
    const dir = await temp.make("readonly");
    await mkdir(path.join(dir, "cache"));
    await chmod(path.join(dir, "cache"), 0o500);
    const cache = await openManifestCache(dir, "b1");
    cache?.set(key(), result("/c/m/module.yaml"));
    if (process.getuid?.() === 0) {
      // root writes through 0500: make the target a directory instead, which rename cannot replace.
      await chmod(path.join(dir, "cache"), 0o700);
      await mkdir(path.join(dir, MANIFEST_CACHE_FILE));
    }
    await expect(cache?.save()).resolves.toBeUndefined();
    expect((await openManifestCache(dir, "b1"))?.get(key())).toBeUndefined();
  });
});

describe("a manifest cache others could have written", () => {
  // A cached result stands in for the manifest: a writable-by-others cache would let them choose what apply runs.
  it.each([
    ["the cache file is group- and other-writable", "file", 0o666],
    ["the cache directory is other-writable", "dir", 0o777],
    ["the state directory is group-writable", "state", 0o770],
  ] as const)("is not used when %s", async (_what, which, mode) => {
    const dir = await temp.make("shared");
    const first = await openManifestCache(dir, "b1");
    first?.set(key(), result("/c/m/module.yaml"));
    await first?.save();
    expect((await openManifestCache(dir, "b1"))?.get(key())).toEqual(result("/c/m/module.yaml"));
    const target = { file: path.join(dir, MANIFEST_CACHE_FILE), dir: path.join(dir, "cache"), state: dir }[which];
    await chmod(target, mode);
    expect(await openManifestCache(dir, "b1")).toBeUndefined();
  });
});
