// The healthcheck platformctl gives a container, against the real engine: `$$` reaches the container as a literal `$`.
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, createAsPlatformctl, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { eventually } from "../helpers/eventually.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const docker = new Docker();
let catalog: Awaited<ReturnType<typeof aCatalog>>;

const HC = manifest("hc-dollar", {
  expected: "healthy",
  services: [
    "    hc-dollar:",
    `      image: ${TEST_IMAGE}`,
    '      command: ["sleep", "100000"]',
    '      restart: "no"',
    "      environment:",
    "        PW: literal-pw",
    "      healthcheck:",
    `        test: ["CMD-SHELL", "printf '%s' '$$HOME'; test \\"$$PW\\" = literal-pw"]`,
    "        interval: 1s",
    "        retries: 1",
  ].join("\n"),
});

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("hc-dollar", HC);
});

afterAll(() => catalog.remove());

describe("a healthcheck with $$ against the real engine", () => {
  it("hands the container's shell a literal $ (not the shell's PID) and the healthcheck passes", async () => {
    const c = await createAsPlatformctl(docker, { project: testProject("hc-dollar"), dir: catalog.dir, module: "hc-dollar", start: true });
    try {
      const inspected = await c.inspect();
      expect(inspected.Config.Healthcheck?.Test).toEqual(["CMD-SHELL", `printf '%s' '$HOME'; test "$PW" = literal-pw`]);
      const health = await eventually(async () => {
        const h = (await c.inspect()).State.Health;
        if (!h || h.Status === "starting" || h.Log.length === 0)
          throw new Error(`the healthcheck has not settled yet: ${JSON.stringify(h)}`);
        return h;
      });
      expect(health.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: "$HOME" });
      expect(health.Status).toBe("healthy");
    } finally {
      await c.remove({ force: true });
    }
  });
});
