// The one place that chooses the runtime: Docker by default, an unknown PLATFORMCTL_RUNTIME refused as bad input.
import { describe, expect, it } from "vitest";
import { openRuntime } from "../../src/runtime/open-runtime.js";

describe("openRuntime", () => {
  it("opens the Docker engine named by DOCKER_HOST when PLATFORMCTL_RUNTIME is unset or docker", async () => {
    expect(await openRuntime({ DOCKER_HOST: "unix:///tmp/some.sock" })).toMatchObject({ endpoint: "unix:///tmp/some.sock", local: true });
    expect(await openRuntime({ PLATFORMCTL_RUNTIME: "docker", DOCKER_HOST: "tcp://10.0.0.5:2375" })).toMatchObject({
      endpoint: "tcp://10.0.0.5:2375",
      local: false,
    });
  });

  it("opens the Swarm runtime through the manager named by DOCKER_HOST when PLATFORMCTL_RUNTIME is swarm", async () => {
    expect(await openRuntime({ PLATFORMCTL_RUNTIME: "swarm", DOCKER_HOST: "tcp://10.0.0.5:2375" })).toMatchObject({
      endpoint: "tcp://10.0.0.5:2375 (Swarm)",
      local: false,
    });
  });

  it("refuses a runtime it does not know with a usage error naming the known ones", async () => {
    for (const name of ["kubernetes", "toString"]) {
      await expect(openRuntime({ PLATFORMCTL_RUNTIME: name })).rejects.toThrow(
        expect.objectContaining({ code: "usage.runtime", hint: expect.stringContaining("docker, swarm") }),
      );
    }
  });
});
