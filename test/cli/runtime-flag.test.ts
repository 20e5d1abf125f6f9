// --runtime with a value platformctl does not know: refused as bad input naming the flag, never run on a default runtime.
import { describe, expect, it } from "vitest";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";

describe("the --runtime flag", () => {
  it("refuses an unknown or empty value with an error naming --runtime (not PLATFORMCTL_RUNTIME) and no stack trace", async () => {
    await assertFreshBuild();
    for (const value of ["bogus", "", "SWARM"]) {
      const run = await runCli(["--runtime", value, "validate", "examples/quickstart/modules"], { PLATFORMCTL_RUNTIME: undefined });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`--runtime ${JSON.stringify(value)} is not a runtime platformctl knows`);
      expect(run.stderr).not.toContain("PLATFORMCTL_RUNTIME=");
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).not.toContain("valid");
    }
  });
});
