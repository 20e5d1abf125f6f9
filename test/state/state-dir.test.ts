// STATE_DIR set-up: a directory that cannot be made fails at once with an error naming it (never a busy loop).
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ensureStateDir } from "../../src/state/state-dir.js";
import { runCli } from "../helpers/run-cli.js";

describe("ensureStateDir", () => {
  it("fails with state.unusable for a STATE_DIR under /proc instead of retrying forever", async () => {
    await expect(ensureStateDir("/proc/nope/state")).rejects.toMatchObject({
      code: "state.unusable",
      message: "STATE_DIR /proc/nope/state is not a writable directory",
      detail: "(ENOENT)",
    });
  });

  it("creates every missing level of a fresh STATE_DIR, private to its owner", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "platformctl-statedir-"));
    try {
      const dir = path.join(root, "a", "b", "state");
      expect(await ensureStateDir(dir)).toBe(dir);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("makes `unlock` with STATE_DIR=/proc/nope exit 1 with the clear error", async () => {
    const r = await runCli(["unlock", "--force", "--project", "p"], { STATE_DIR: "/proc/nope" });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("STATE_DIR /proc/nope is not a writable directory");
    expect(r.stderr).not.toContain("    at ");
  });

  it("makes `audit` with a mistyped STATE_DIR name the audit log it did not find, instead of a bare 'no audit records'", async () => {
    const r = await runCli(["audit"], { STATE_DIR: "/proc/nope" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("no audit records in /proc/nope/audit.jsonl");
  });
});
