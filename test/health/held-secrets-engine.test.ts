// health and smoke on the real engine mask what the container holds for ${VAR} references: variable unset, or rotated.
import { describe, expect, it } from "vitest";
import { CANARY, useScenarios } from "../apply/apply-scenario.js";
import { manifest } from "../helpers/platform.js";
import { startRecordingProxy } from "../helpers/recording-proxy.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const scenario = useScenarios();

/** A service whose start fails with an engine error naming its entrypoint, which holds the secret. */
const leaky = manifest("leaky", {
  services: `    leaky:\n      image: ${TEST_IMAGE}\n      entrypoint: ["/nonexistent-\${APPLY_CANARY}"]\n      environment:\n        PW: \${APPLY_CANARY}\n      restart: "no"\n      stop_grace_period: 1s\n`,
});

describe("health and smoke mask the values a container holds", () => {
  it("masks the container's own value when the variable is not set and after it was rotated", async () => {
    const s = await scenario("held", { leaky });
    const applied = await s.apply(["--module", "leaky"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(1);
    expect((await s.container("leaky")).State.Error, "the engine's error holds the value").toContain(CANARY);

    const base = ["--project", s.project, "--modules-dir", s.dir];
    const envs: [string, Record<string, string>][] = [
      ["unset", { STATE_DIR: s.stateDir }],
      ["rotated", { STATE_DIR: s.stateDir, APPLY_CANARY: "rotated-value-7Tq9Zk" }],
    ];
    const commands = [
      ["health", "--module", "leaky"],
      ["health", "--module", "leaky", "--json"],
      ["smoke", "leaky"],
      ["smoke", "leaky", "--json"],
    ];
    const runs = envs.flatMap(([label, env]) =>
      commands.map((args) => ({ label, args, run: runCli([...args.slice(0, 1), ...base, ...args.slice(1)], env) })),
    );
    for (const { label, args, run } of runs) {
      const r = await run;
      const out = r.stdout + r.stderr;
      expect(r.code, `${label} ${args.join(" ")}: ${out}`).toBe(1);
      expect(out, `${label} ${args.join(" ")}`).not.toContain(CANARY);
      // Positive control: the reason is still shown, with the value masked.
      expect(out, `${label} ${args.join(" ")}`).toMatch(/failed to start/);
      expect(out, `${label} ${args.join(" ")}`).toContain("***");
    }
  }, 180_000);

  it("reads each container once: the inspect that observes it also gives the values to mask", async () => {
    const s = await scenario("held-once", { leaky });
    const applied = await s.apply(["--module", "leaky"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(1);
    const id = (await s.container("leaky")).Id;
    const proxy = await startRecordingProxy();
    try {
      const r = await runCli(["health", "--project", s.project, "--modules-dir", s.dir, "--module", "leaky", "--json"], {
        STATE_DIR: s.stateDir,
        DOCKER_HOST: proxy.dockerHost,
      });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr).not.toContain(CANARY);
      expect(r.stdout).toMatch(/failed to start/);
      expect(r.stdout).toContain("***");
      // A start-failed container under restart "no" cannot loop: one observation, no second read for its values.
      expect(proxy.requests.filter((q) => q.url.split("?")[0] === `/v1.41/containers/${id}/json`)).toHaveLength(1);
      expect(proxy.requests.filter((q) => q.method !== "GET")).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 180_000);
});
