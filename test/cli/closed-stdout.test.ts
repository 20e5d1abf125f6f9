// A reader that closes the pipe early (`platformctl … | head`) must not crash the command or change its exit code.
import { spawn } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertFreshBuild } from "../helpers/run-cli.js";
import { REPO } from "../helpers/repo.js";

beforeAll(() => assertFreshBuild());

/** Runs the CLI with its stdout a pipe whose reading end is closed before the CLI writes. */
function runWithClosedStdout(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(path.join(REPO, "bin/platformctl"), args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString("utf8");
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("a closed standard output", () => {
  it("lets validate --json finish with its own exit code and no stack trace when the reader has gone", async () => {
    const r = await runWithClosedStdout(["validate", "--json", "modules"]);
    expect(r.stderr).not.toContain("EPIPE");
    expect(r.stderr).not.toContain("    at ");
    expect(r.code).toBe(0);
  });

  it("keeps a failing validate's exit code 1 when the reader has gone", async () => {
    const r = await runWithClosedStdout(["validate", "--json", "test/fixtures/compose/missing-file/modules"]);
    expect(r.stderr).not.toContain("EPIPE");
    expect(r.code).toBe(1);
  });
});
