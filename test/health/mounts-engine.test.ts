// Mount sanity against the real engine and real mounts: a shadowed nested mount made for real, two writers,
// a missing bind source, STATE_DIR inside a module's bind.
import Docker from "dockerode";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, createAsPlatformctl, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const run = promisify(execFile);
const docker = new Docker();

interface Finding {
  code: string;
  severity?: string;
  module: string | null;
  service: string | null;
  path: string;
  message: string;
  remedy: string;
}

let catalog: Awaited<ReturnType<typeof aCatalog>>;
/** Bound into `shadow` (rw, started before the tmpfs) and `late` (ro, started after it). */
let dataDir: string;
/** Bound read-write into both `w1` and `w2`. */
let sharedDir: string;
/** Bound into `gone`, removed from the host while its container runs. */
let goneDir: string;
let mounted = false;

const bindModule = (name: string, volume: string) =>
  manifest(name, {
    services: `    ${name}:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100000"]\n      restart: "no"\n      volumes:\n        - ${volume}\n`,
  });

interface HealthRun {
  code: number;
  healthy: boolean;
  services: Record<string, { healthy: boolean; reason: string }>;
  mounts: Finding[];
}

async function healthRun(project: string, modules: string[], env: Record<string, string> = {}, extra: string[] = []): Promise<HealthRun> {
  const r = await runCli(
    ["--project", project, "--modules-dir", catalog.dir, "health", "--json", ...extra, ...modules.flatMap((m) => ["-m", m])],
    env,
  );
  if (!r.stdout) throw new Error(`health printed nothing: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as {
    healthy: boolean;
    modules: { name: string; services: { name: string; healthy: boolean; reason: string }[] }[];
    mounts: Finding[];
  };
  const services = Object.fromEntries(
    j.modules.flatMap((m) => m.services.map((s) => [`${m.name}/${s.name}`, { healthy: s.healthy, reason: s.reason }])),
  );
  return { code: r.code, healthy: j.healthy, services, mounts: j.mounts };
}

async function mounts(project: string, modules: string[], env: Record<string, string> = {}): Promise<Finding[]> {
  return (await healthRun(project, modules, env)).mounts;
}

beforeAll(async () => {
  dataDir = await realpath(await mkdtemp(path.join(tmpdir(), "platformctl-shadow-")));
  await mkdir(path.join(dataDir, "sub"));
  sharedDir = await realpath(await mkdtemp(path.join(tmpdir(), "platformctl-shared-")));
  goneDir = await realpath(await mkdtemp(path.join(tmpdir(), "platformctl-gone-")));
  catalog = await aCatalog();
  await catalog.write("shadow", bindModule("shadow", `${dataDir}:/data`));
  await catalog.write("late", bindModule("late", `${dataDir}:/data:ro`));
  await catalog.write("w1", bindModule("w1", `${sharedDir}:/srv/shared`));
  await catalog.write("w2", bindModule("w2", `${sharedDir}:/var/lib/w2`));
  await catalog.write("lost", bindModule("lost", `${sharedDir}-does-not-exist:/data:ro`));
  await catalog.write("gone", bindModule("gone", `${goneDir}:/data`));
  await catalog.write("v1", bindModule("v1", "shared-data:/srv/shared"));
  await catalog.write("v2", bindModule("v2", "shared-data:/var/lib/v2"));
});

afterAll(async () => {
  if (mounted) await run("umount", ["-l", path.join(dataDir, "sub")]).catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
  await rm(sharedDir, { recursive: true, force: true });
  await rm(goneDir, { recursive: true, force: true });
  await catalog.remove();
});

describe("mount sanity against the real engine", () => {
  it("reports a filesystem mounted inside a bind after the container started as a shadowed mount, until the service restarts", async () => {
    const p = testProject("shadow");
    const shadow = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "shadow", start: true });
    const sub = path.join(dataDir, "sub");
    // root in the test environment: mount a real tmpfs on the host, inside the directory the container binds
    await run("mount", ["-t", "tmpfs", "tmpfs", sub]);
    mounted = true;
    const late = await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "late", start: true });

    // The shadow write, for real: the container's file lands in the hidden directory, not on the tmpfs.
    const exec = await shadow.exec({
      Cmd: ["sh", "-c", "echo lost > /data/sub/written-by-container"],
      AttachStdout: true,
      AttachStderr: true,
    });
    await new Promise<void>((resolve, reject) =>
      exec.start({}, (e, stream) => (e ? reject(e) : stream?.on("end", () => resolve()).resume())),
    );
    expect(await readdir(sub)).toEqual([]);

    const before = await healthRun(p, ["shadow", "late"]);
    // A shadow write loses data: the service is unhealthy and health exits 1 (the ro `late` is not affected).
    expect(before.code).toBe(1);
    expect(before.services["shadow/shadow"]).toMatchObject({ healthy: false });
    expect(before.services["shadow/shadow"]?.reason).toContain(`mount.shadowed at ${sub}`);
    expect(before.services["late/late"]?.healthy).toBe(true);
    const found = before.mounts;
    expect(found.map((f) => [f.code, f.module, f.path])).toEqual([["mount.shadowed", "shadow", sub]]);
    expect(found[0]?.message).toContain(`does not see it at /data/sub`);
    expect(found[0]?.message).toContain("tmpfs");
    expect(found[0]?.remedy).toContain(`docker restart ${p}_shadow_shadow`);
    expect(found[0]?.remedy).toContain("flat layout");
    expect((await late.inspect()).State.Running).toBe(true);

    // The remedy works: a restarted container binds the tree again, recursively, and sees the tmpfs.
    await shadow.restart({ t: 0 });
    const after = await healthRun(p, ["shadow", "late"]);
    expect(after.mounts).toEqual([]);
    expect(after.code).toBe(0);
  });

  it("reports one host directory bound read-write into two modules as two writers", async () => {
    const found = await mounts(testProject("writers"), ["w1"]);
    const writers = found.filter((f) => f.code === "bind.two_writers");
    expect(writers).toHaveLength(1);
    expect(writers[0]).toMatchObject({ module: "w1", path: sharedDir });
    expect(writers[0]?.message).toBe(
      `${sharedDir} is bound read-write into w1/w1 (/srv/shared) and w2/w2 (/var/lib/w2): two modules write one tree`,
    );
  });

  it("keeps one named volume written by two running modules a warning (exit 0), and unhealthy with --strict (exit 1)", async () => {
    const p = testProject("vol-writers");
    // Created labelled first, so the suite's teardown (by project label) removes it; the engine would make it bare.
    await docker.createVolume({ Name: `${p}_shared-data`, Labels: { "dev.platformctl.project": p } });
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "v1", start: true });
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "v2", start: true });
    const relaxed = await healthRun(p, ["v1", "v2"]);
    expect(relaxed.code).toBe(0);
    const writers = relaxed.mounts.filter((f) => f.code === "volume.two_writers");
    expect(writers).toEqual([
      expect.objectContaining({
        severity: "warning",
        module: "v1",
        path: "shared-data",
        message: "volume shared-data is mounted read-write into v1/v1 (/srv/shared) and v2/v2 (/var/lib/v2): two modules write one volume",
      }),
    ]);
    const strict = await healthRun(p, ["v1", "v2"], {}, ["--strict"]);
    expect(strict.code).toBe(1);
    expect(strict.services["v1/v1"]?.reason).toContain("volume.two_writers");
  });

  it("makes a running service whose bind source vanished from the host unhealthy, exit 1", async () => {
    const p = testProject("gone");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "gone", start: true });
    expect((await healthRun(p, ["gone"])).code).toBe(0);
    await rm(goneDir, { recursive: true, force: true });
    const r = await healthRun(p, ["gone"]);
    expect(r.code).toBe(1);
    expect(r.services["gone/gone"]?.reason).toContain(`bind.source_missing at ${goneDir}`);
    expect(r.mounts.find((f) => f.code === "bind.source_missing")).toMatchObject({ severity: "unhealthy", path: goneDir });
  });

  it("keeps two running writers of one host directory a warning (exit 0), and unhealthy with --strict (exit 1)", async () => {
    const p = testProject("writers-strict");
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "w1", start: true });
    await createAsPlatformctl(docker, { project: p, dir: catalog.dir, module: "w2", start: true });
    const relaxed = await healthRun(p, ["w1", "w2"]);
    expect(relaxed.code).toBe(0);
    expect(relaxed.mounts.find((f) => f.code === "bind.two_writers")).toMatchObject({ severity: "warning" });
    const strict = await healthRun(p, ["w1", "w2"], {}, ["--strict"]);
    expect(strict.code).toBe(1);
    expect(strict.services["w1/w1"]?.reason).toContain("bind.two_writers");
    expect(strict.mounts.find((f) => f.code === "bind.two_writers")).toMatchObject({ severity: "unhealthy" });
  });

  it("reports a bind source missing on the host", async () => {
    const found = await mounts(testProject("lost"), ["lost"]);
    expect(found.filter((f) => f.code === "bind.source_missing").map((f) => f.path)).toEqual([`${sharedDir}-does-not-exist`]);
  });

  it("reports STATE_DIR nested inside a module's read-write bind", async () => {
    const found = await mounts(testProject("statedir"), ["w2"], { STATE_DIR: path.join(sharedDir, "state") });
    const f = found.find((x) => x.code === "state_dir.in_bind");
    expect(f).toMatchObject({ module: "w2", service: "w2", path: path.join(sharedDir, "state") });
    expect(f?.remedy).toContain("flat layout");
  });
});
