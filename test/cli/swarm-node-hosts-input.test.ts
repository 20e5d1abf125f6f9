// A malformed PLATFORMCTL_SWARM_NODE_HOSTS is bad input for every Swarm command, refused before the engine is asked.
import { describe, expect, it } from "vitest";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";

describe("PLATFORMCTL_SWARM_NODE_HOSTS on plan and apply", () => {
  it("refuses a malformed value naming the variable, before any engine call and without a stack trace", async () => {
    await assertFreshBuild();
    for (const args of [["plan"], ["apply", "--module", "migrate"]]) {
      const run = await runCli(args, {
        PLATFORMCTL_MODULES_DIR: "examples/quickstart/modules",
        PLATFORMCTL_RUNTIME: "swarm",
        PLATFORMCTL_SWARM_NODE_HOSTS: "garbage",
        // Nothing listens here: reaching the engine would fail with engine.unreachable instead of naming the variable.
        DOCKER_HOST: "tcp://127.0.0.1:9",
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('PLATFORMCTL_SWARM_NODE_HOSTS entry 1 ("garbage")');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
