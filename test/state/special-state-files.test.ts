// A FIFO where one of platformctl's own STATE_DIR files belongs: commands never block on it (a readFile would wait for a writer forever, and no signal ends it).
import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, manifest } from "../helpers/platform.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";
import { tempDirs } from "../manifest/a-manifest.js";
import { abandonedScratch } from "../../src/state/verify-scratch.js";

const temp = tempDirs();
let catalog: Awaited<ReturnType<typeof aCatalog>>;

beforeAll(async () => {
  assertFreshBuild();
  catalog = await aCatalog();
  await catalog.write("web", manifest("web", { services: `    web:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "600"]` }));
});
afterAll(async () => {
  await catalog.remove();
  await temp.cleanup();
});

/** A state directory whose `file` is a named pipe nobody writes to. */
async function stateWithFifo(file: string): Promise<string> {
  const dir = await temp.make("state");
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  execFileSync("mkfifo", [path.join(dir, file)]);
  return dir;
}

describe("a FIFO in place of a state file", () => {
  it("validates as if there were no manifest cache when cache/manifests.json is a FIFO", async () => {
    const state = await stateWithFifo("cache/manifests.json");
    const r = await runCli(["--modules-dir", catalog.dir, "validate"], { STATE_DIR: state });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("plans as if there were no digest key when digest.key is a FIFO", async () => {
    const state = await stateWithFifo("digest.key");
    const r = await runCli(["--modules-dir", catalog.dir, "--project", testProject("fifo-key"), "plan"], { STATE_DIR: state });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("web");
  });

  it("refuses to read an audit log that is a FIFO, naming it, with exit 1 and no stack trace", async () => {
    const state = await stateWithFifo("audit.jsonl");
    const r = await runCli(["audit"], { STATE_DIR: state });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(state, "audit.jsonl")} is not a regular file`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses to apply when the audit log is a FIFO, and creates nothing", async () => {
    const state = await stateWithFifo("audit.jsonl");
    const project = testProject("fifo-audit");
    const r = await runCli(["--modules-dir", catalog.dir, "--project", project, "apply", "-m", "web"], { STATE_DIR: state });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not a regular file");
    const names = execFileSync("docker", ["ps", "-aq", "--filter", `label=dev.platformctl.project=${project}`], { encoding: "utf8" });
    expect(names.trim()).toBe("");
  });

  it("leaves a restore --verify scratch record that is a FIFO alone when sweeping, without blocking on it", async () => {
    const state = await stateWithFifo("verify-scratch/0verify-1x0a-p");
    expect(await abandonedScratch(state)).toEqual([]);
  });

  it("lists no backups, and says why, when the backup catalog is a FIFO", async () => {
    const state = await stateWithFifo("backup-catalog.jsonl");
    const r = await runCli(["--modules-dir", catalog.dir, "backup", "list"], { STATE_DIR: state });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("backup-catalog.jsonl");
  });
});
