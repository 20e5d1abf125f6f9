// `platformctl backup` against the real engine: archives are private (0600) and two runs in the same second both succeed.
import Docker from "dockerode";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackup } from "../../src/backup/create-backup.js";
import { loadModules } from "../../src/catalog/load-modules.js";
import { openRuntime } from "../../src/runtime/open-runtime.js";
import { parseBackupName } from "../../src/policy/parse-backup-name.js";
import { verifyArchive } from "../../src/backup/verify-archive.js";
import { aCatalog, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const docker = new Docker();
let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let project: string;
let env: Record<string, string>;

const STORE = manifest("store", {
  stateful: true,
  services: `    store:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100000"]\n      restart: "no"\n      volumes: ["store-data:/data"]\n`,
});

/** A module whose image no engine has: the volume helper cannot be created for it. */
const GHOST_IMAGE = `platformctl-test/absent:${process.pid}`;
const GHOST = manifest("ghost", {
  stateful: true,
  services: `    ghost:\n      image: ${GHOST_IMAGE}\n      restart: "no"\n      volumes: ["ghost-data:/data"]\n`,
});

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("store", STORE);
  await catalog.write("ghost", GHOST);
  root = await mkdtemp(path.join(tmpdir(), "platformctl-backup-"));
  env = { STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: path.join(root, "backups") };
  await mkdir(env.PLATFORMCTL_BACKUP_DIR as string);
  project = testProject("backup");
  // The module's volume, labelled for this run (teardown removes it), with a file holding a credential-like secret.
  await docker.createVolume({
    Name: `${project}_store-data`,
    Labels: { "dev.platformctl.project": project, "dev.platformctl.module": "store" },
  });
  const seed = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: ["sh", "-c", "echo 'admin:$2y$hash' > /data/users"],
    Labels: { "dev.platformctl.project": project },
    HostConfig: { Mounts: [{ Type: "volume", Source: `${project}_store-data`, Target: "/data" }] },
  });
  await seed.start();
  await seed.wait();
  await seed.remove();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await catalog.remove();
});

const backup = () => runCli(["backup", "store", "--project", project, "--modules-dir", catalog.dir], env);

describe("backup against the real engine", () => {
  it("refuses a module whose image is not on the engine that creates the volume helper, before any copy, writing nothing", async () => {
    const r = await runCli(["backup", "ghost", "--project", project, "--modules-dir", catalog.dir], env);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`image ${GHOST_IMAGE} of ghost is not present on the engine`);
    expect(r.stdout).toBe("");
    expect((await readdir(env.PLATFORMCTL_BACKUP_DIR as string)).filter((f) => f.startsWith("ghost"))).toEqual([]);
  });

  it("writes the archive readable by its owner only (0600), with no temporary file left", async () => {
    const r = await backup();
    expect(r.code, r.stderr).toBe(0);
    const file = r.stdout.trim();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readdir(env.PLATFORMCTL_BACKUP_DIR as string)).filter((f) => f.endsWith(".partial"))).toEqual([]);
    // The helper's busybox tar output passes the structural verification the gate applies to uncatalogued backups.
    expect(await verifyArchive(file)).toMatchObject({ complete: true, problem: undefined, volumes: ["store-data"] });
  });

  it("gives two backups taken at the same second two names, both parseable, both complete, both in the catalog", async () => {
    const module = (await loadModules(catalog.dir)).modules.find((m) => m.name === "store");
    if (!module) throw new Error("store not loaded");
    // The same clock reading for both runs: the collision is certain, not left to timing.
    const now = new Date("2026-05-17T01:08:47.250Z");
    // A stop backup holds the apply lock: the second waits for the first instead of failing with lock.held.
    const run = async () =>
      createBackup({ runtime: await openRuntime(env), project, module, env, stateDir: env.STATE_DIR as string, now, lockWaitMs: 60_000 });
    const [a, b] = await Promise.all([run(), run()]);
    const files = [a.file, b.file];
    expect(files.map((f) => path.basename(f)).sort()).toEqual(["store-20260517T010847Z-1.tar.gz", "store-20260517T010847Z.tar.gz"]);
    expect(new Set(files).size).toBe(2);
    for (const f of files) {
      expect(parseBackupName(path.basename(f))?.module).toBe("store");
      expect((await stat(f)).size).toBeGreaterThan(0);
      expect((await stat(f)).mode & 0o777).toBe(0o600);
    }
    const catalogText = await readFile(path.join(env.STATE_DIR as string, "backup-catalog.jsonl"), "utf8");
    for (const f of files) expect(catalogText).toContain(JSON.stringify(f));
    expect((await readdir(env.PLATFORMCTL_BACKUP_DIR as string)).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });
});
