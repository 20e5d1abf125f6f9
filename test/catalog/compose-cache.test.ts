// The manifest cache for Compose-sourced modules: served only while every input (files, env_file, interpolated values, build) is unchanged, and never holding a value.
import { createHash } from "node:crypto";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadModules } from "../../src/catalog/load-modules.js";
import { MANIFEST_CACHE_FILE, openManifestCache, type ManifestCache } from "../../src/state/manifest-cache.js";
import { tempDirs } from "../manifest/a-manifest.js";
import { REPO } from "../helpers/repo.js";

const temp = tempDirs();
afterAll(() => temp.cleanup());

/** A copy of the two-module Compose platform fixture (two merged files, an extends target, an env_file) and a state dir. */
async function aPlatform(): Promise<{ modules: string; compose: string; state: string }> {
  const root = await temp.make("compose-cache");
  await cp(path.join(REPO, "test/fixtures/compose/platform"), path.join(root, "platform"), { recursive: true });
  const state = path.join(root, "state");
  await mkdir(state);
  return { modules: path.join(root, "platform/modules"), compose: path.join(root, "platform/compose"), state };
}

/** Loads the catalog with the cache as stored on disk, counting the results it had to validate (and so stored). */
async function load(p: { modules: string; state: string }, env: Record<string, string>, buildId = "b1") {
  const cache = (await openManifestCache(p.state, buildId)) as ManifestCache;
  let validated = 0;
  const counting: ManifestCache = {
    ...cache,
    set: (key, result) => {
      validated++;
      cache.set(key, result);
    },
    save: () => cache.save(),
  };
  const result = await loadModules(p.modules, { env }, { cache: counting, buildId });
  return { result, validated, image: (m: string) => result.modules.find((x) => x.name === m)?.services[0]?.image };
}

const edit = async (file: string, from: string, to: string) => {
  const text = await readFile(file, "utf8");
  expect(text).toContain(from);
  await writeFile(file, text.replace(from, to));
};

describe("the manifest cache and Compose-sourced modules", () => {
  it("serves an unchanged Compose-sourced module from the cache, with the same result, problems and warnings", async () => {
    const p = await aPlatform();
    const first = await load(p, {});
    expect(first.validated).toBe(2);
    const second = await load(p, {});
    expect(second.validated).toBe(0);
    expect(second.result).toEqual(first.result);
  });

  it("validates again when a merged Compose file is edited", async () => {
    const p = await aPlatform();
    await load(p, {});
    await edit(
      path.join(p.compose, "compose.prod.yaml"),
      "${MINIO_PROD_TAG:-RELEASE.2025-04-22T22-12-26Z}",
      "RELEASE.2099-01-01T00-00-00Z",
    );
    const after = await load(p, {});
    expect(after.validated).toBe(2);
    expect(after.image("minio")).toBe("docker.io/minio/minio:RELEASE.2099-01-01T00-00-00Z");
  });

  it("validates again when the file an extends names is edited", async () => {
    const p = await aPlatform();
    await load(p, {});
    await edit(path.join(p.compose, "common.yaml"), "minio/mc:RELEASE.2025-04-16T18-13-26Z", "minio/mc:RELEASE.2099-02-02T00-00-00Z");
    const after = await load(p, {});
    expect(after.validated).toBe(2);
    expect(after.image("minio-init")).toBe("minio/mc:RELEASE.2099-02-02T00-00-00Z");
  });

  it("validates again when the env_file changes a value the files interpolate", async () => {
    const p = await aPlatform();
    await load(p, {});
    await writeFile(
      path.join(p.modules, "platform.env"),
      `${await readFile(path.join(p.modules, "platform.env"), "utf8")}MINIO_PROD_TAG=RELEASE.2099-03-03T00-00-00Z\n`,
    );
    const after = await load(p, {});
    expect(after.validated).toBe(2);
    expect(after.image("minio")).toBe("docker.io/minio/minio:RELEASE.2099-03-03T00-00-00Z");
  });

  it("validates again when the env_file becomes unreadable, and reports it", async () => {
    const p = await aPlatform();
    await load(p, {});
    await rm(path.join(p.modules, "platform.env"));
    const after = await load(p, {});
    expect(after.validated).toBe(2);
    expect(after.result.problems.map((x) => x.path)).toContain("spec.compose.env_file");
  });

  it("validates again when an interpolated variable of the command's environment changes, and not for an unrelated one", async () => {
    const p = await aPlatform();
    expect((await load(p, { MINIO_PROD_TAG: "RELEASE.2099-04-04T00-00-00Z" })).image("minio")).toBe(
      "docker.io/minio/minio:RELEASE.2099-04-04T00-00-00Z",
    );
    expect((await load(p, { MINIO_PROD_TAG: "RELEASE.2099-04-04T00-00-00Z", UNRELATED: "1" })).validated).toBe(0);
    const changed = await load(p, { MINIO_PROD_TAG: "RELEASE.2099-05-05T00-00-00Z" });
    expect(changed.validated).toBe(2);
    expect(changed.image("minio")).toBe("docker.io/minio/minio:RELEASE.2099-05-05T00-00-00Z");
    // Set to empty is not unset: `${X:-d}` reads both alike, `${X-d}` does not, so the key tells them apart.
    expect((await load(p, { MINIO_PROD_TAG: "" })).validated).toBe(2);
    expect((await load(p, {})).validated).toBe(2);
  });

  it("never serves another build's entry", async () => {
    const p = await aPlatform();
    await load(p, {}, "b1");
    expect((await load(p, {}, "b2")).validated).toBe(2);
  });

  it("validates again when the cache's digest key is lost or its inputs entry is corrupt", async () => {
    const p = await aPlatform();
    await load(p, {});
    const file = path.join(p.state, MANIFEST_CACHE_FILE);
    const stored = JSON.parse(await readFile(file, "utf8")) as { key?: string; compose: Record<string, unknown> };
    await writeFile(file, JSON.stringify({ ...stored, key: undefined }));
    expect((await load(p, {})).validated).toBe(2);
    const again = JSON.parse(await readFile(file, "utf8")) as { compose: Record<string, unknown> };
    await writeFile(
      file,
      JSON.stringify({ ...again, compose: Object.fromEntries(Object.keys(again.compose).map((k) => [k, { files: 1 }])) }),
    );
    expect((await load(p, {})).validated).toBe(2);
  });

  it("keeps no environment or env_file value in the cache file, not even as a plain digest", async () => {
    const p = await aPlatform();
    const values = {
      // Resolved when read, but overridden by compose.prod.yaml's image: in the key, never in the result.
      MINIO_TAG: "canary-tag-7f3a9c",
      // Environment values: kept as references in the module.
      MINIO_ROOT_PASSWORD: "canary-pw-5d2e81",
      MINIO_ROOT_USER: "canary-user-c4b7d0",
    };
    await load(p, values);
    await load(p, { ...values, MINIO_TAG: "canary-tag-2" });
    const text = await readFile(path.join(p.state, MANIFEST_CACHE_FILE), "utf8");
    const secrets = [...Object.values(values), "canary-tag-2", "fixture-not-a-secret"];
    for (const v of secrets) {
      expect(text).not.toContain(v);
      expect(text).not.toContain(createHash("sha256").update(v).digest("hex"));
      expect(text).not.toContain(createHash("sha256").update(`MINIO_TAG=${v}`).digest("hex"));
    }
    expect(text).toContain("${MINIO_ROOT_PASSWORD}");
  });
});
