// Mount sanity against the real engine and real mounts: a shadowed nested mount made for real, two writers,
// a missing bind source, STATE_DIR inside a module's bind.
import Docker from "dockerode";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, createAsPlatformctl, manifest, TEST_IMAGE } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { runHealthCli } from "./run-health-cli.js";

const run = promisify(execFile);
const docker = new Docker();

interface Finding {
  code: string;
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
let mounted = false;

const bindModule = (name: string, volume: string) =>
  manifest(name, { services: `    ${name}:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100000"]\n      restart: "no"\n      volumes:\n        - ${volume}\n` });

async function mounts(project: string, modules: string[], env: Record<string, string> = {}): Promise<Finding[]> {
  const r = await runHealthCli(["--project", project, "--modules-dir", catalog.dir, "health", "--json", ...modules.flatMap((m) => ["-m", m])], env);
  if (!r.stdout) throw new Error(`health printed nothing: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { mounts: Finding[] }).mounts;
}

beforeAll(async () => {
  dataDir = await realpath(await mkdtemp(path.join(tmpdir(), "platformctl-shadow-")));
  await mkdir(path.join(dataDir, "sub"));
  sharedDir = await realpath(await mkdtemp(path.join(tmpdir(), "platformctl-shared-")));
  catalog = await aCatalog();
  await catalog.write("shadow", bindModule("shadow", `${dataDir}:/data`));
  await catalog.write("late", bindModule("late", `${dataDir}:/data:ro`));
  await catalog.write("w1", bindModule("w1", `${sharedDir}:/srv/shared`));
  await catalog.write("w2", bindModule("w2", `${sharedDir}:/var/lib/w2`));
  await catalog.write("lost", bindModule("lost", `${sharedDir}-does-not-exist:/data:ro`));
});

afterAll(async () => {
  if (mounted) await run("umount", ["-l", path.join(dataDir, "sub")]).catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
  await rm(sharedDir, { recursive: true, force: true });
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
    const exec = await shadow.exec({ Cmd: ["sh", "-c", "echo lost > /data/sub/written-by-container"], AttachStdout: true, AttachStderr: true });
    await new Promise<void>((resolve, reject) => exec.start({}, (e, stream) => (e ? reject(e) : stream?.on("end", () => resolve()).resume())));
    expect(await readdir(sub)).toEqual([]);

    const found = await mounts(p, ["shadow", "late"]);
    expect(found.map((f) => [f.code, f.module, f.path])).toEqual([["mount.shadowed", "shadow", sub]]);
    expect(found[0]?.message).toContain(`does not see it at /data/sub`);
    expect(found[0]?.message).toContain("tmpfs");
    expect(found[0]?.remedy).toContain(`docker restart ${p}_shadow_shadow`);
    expect(found[0]?.remedy).toContain("flat layout");
    expect((await late.inspect()).State.Running).toBe(true);

    // The remedy works: a restarted container binds the tree again, recursively, and sees the tmpfs.
    await shadow.restart({ t: 0 });
    expect(await mounts(p, ["shadow", "late"])).toEqual([]);
  });

  it("reports one host directory bound read-write into two modules as two writers", async () => {
    const found = await mounts(testProject("writers"), ["w1"]);
    const writers = found.filter((f) => f.code === "bind.two_writers");
    expect(writers).toHaveLength(1);
    expect(writers[0]).toMatchObject({ module: "w1", path: sharedDir });
    expect(writers[0]?.message).toBe(`${sharedDir} is bound read-write into w1/w1 (/srv/shared) and w2/w2 (/var/lib/w2): two modules write one tree`);
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
