// `plan --out PATH` on the real engine: writes only over nothing or a regular file; refuses FIFOs, symlinks, devices; `-` is stdout.
import { execFileSync } from "node:child_process";
import { lstat, mkdtemp, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { aCatalog, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function aPlanSetup(): Promise<{ dir: string; plan: (out: string) => ReturnType<typeof runCli> }> {
  const catalog = await aCatalog();
  const dir = await mkdtemp(path.join(tmpdir(), "platformctl-plan-out-"));
  cleanups.push(catalog.remove, () => rm(dir, { recursive: true, force: true }));
  await catalog.write(
    "web",
    manifest("web", { services: `    web:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100"]\n      restart: "no"\n` }),
  );
  const project = testProject("plan-out");
  return {
    dir,
    plan: (out) =>
      runCli(["plan", "--project", project, "--modules-dir", catalog.dir, "--out", out], { STATE_DIR: path.join(dir, "state") }),
  };
}

describe("plan --out", () => {
  it("writes the plan to a new path and over an existing regular file", async () => {
    const { dir, plan } = await aPlanSetup();
    const file = path.join(dir, "plan.json");
    await writeFile(file, "old");
    const r = await plan(file);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(await readFile(file, "utf8"))).toHaveProperty("fingerprint");
    expect((await lstat(file)).isFile()).toBe(true);
  });

  it("refuses a FIFO and leaves it a FIFO", async () => {
    const { dir, plan } = await aPlanSetup();
    const fifo = path.join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    const r = await plan(fifo);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toContain("it is a FIFO");
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it("refuses a symlink (here to /dev/null) and leaves the link in place", async () => {
    const { dir, plan } = await aPlanSetup();
    const link = path.join(dir, "link");
    await symlink("/dev/null", link);
    const r = await plan(link);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toContain("it is a symbolic link");
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe("/dev/null");
  });

  it("refuses a character device node made in a temporary directory and leaves it a device", async () => {
    // mknod of a null device (1,3) inside the test's own directory: nothing outside it can be damaged.
    const { dir, plan } = await aPlanSetup();
    const dev = path.join(dir, "null-device");
    execFileSync("mknod", [dev, "c", "1", "3"]);
    const r = await plan(dev);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toContain("it is a device node");
    expect((await lstat(dev)).isCharacterDevice()).toBe(true);
  });

  it("refuses an empty --out (an unset variable) with a usage error instead of saving nothing and exiting 0", async () => {
    const { plan } = await aPlanSetup();
    for (const out of ["", "  "]) {
      const r = await plan(out);
      expect(r.code, JSON.stringify(out)).toBe(1);
      expect(r.stderr).toContain("plan --out was given an empty path");
      expect(r.stdout).toBe("");
    }
  });

  it("prints only the saved plan to standard output with --out -", async () => {
    const { plan } = await aPlanSetup();
    const r = await plan("-");
    expect(r.code, r.stderr).toBe(0);
    const saved = JSON.parse(r.stdout) as { fingerprint: string; modules: { name: string }[] };
    expect(saved.fingerprint).toMatch(/\S/);
    expect(saved.modules.map((m) => m.name)).toEqual(["web"]);
  });
});
