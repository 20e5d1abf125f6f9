// Test helpers for the real engine: a client and labelled scenario containers made directly.
import Docker from "dockerode";
import { connectEngine, type Engine } from "../../src/engine/connect.js";
import { LABEL } from "../../src/engine/labels.js";
import { unitName } from "../../src/plan/unit-name.js";
import { TEST_IMAGE } from "./test-image.js";

/**
 * A dockerode client for the engine the tests run against: tests arrange and inspect scenarios through it,
 * independently of platformctl's own adapter.
 */
export function testDocker(engine?: Engine): Docker {
  // The same connection settings as `engine` (DOCKER_HOST, TLS), through dockerode's own client.
  return engine ? new Docker({ modem: engine.modem } as unknown as Docker.DockerOptions) : new Docker();
}

/** platformctl's engine connection for the environment the tests run in. */
export function testEngine(env: Record<string, string | undefined> = process.env): Engine {
  return connectEngine(env);
}

export interface ContainerScenario {
  project: string;
  module?: string;
  service?: string;
  /** Defaults to `${project}_${module}_${service}`. */
  name?: string;
  cmd: string[];
  /** Extra labels; `null` drops the platformctl labels entirely (an unmanaged container). */
  labels?: Record<string, string> | null;
  /** Docker restart policy name, e.g. `no`, `always`, `on-failure`. */
  restart?: "no" | "always" | "unless-stopped" | "on-failure";
  maxRetries?: number;
  /** Memory limit in bytes; swap is limited to the same value, so exceeding it OOM-kills. */
  memory?: number;
  /** `CMD-SHELL` healthcheck command with a fast interval. */
  health?: { shell: string; retries?: number; intervalMs?: number };
  image?: string;
  env?: string[];
  tty?: boolean;
  /** Start it after creating (default false). */
  start?: boolean;
}

/** Creates a container for a scenario directly through dockerode (independent of the code under test); returns its id. */
export async function aLabelledContainer(engine: Engine, s: ContainerScenario): Promise<string> {
  const module = s.module ?? "mod";
  const service = s.service ?? "svc";
  const labels =
    s.labels === null ? {} : { [LABEL.project]: s.project, [LABEL.module]: module, [LABEL.service]: service, ...(s.labels ?? {}) };
  const ms = 1_000_000;
  const body: Docker.ContainerCreateOptions = {
    name: s.name ?? unitName(s.project, module, service),
    Image: s.image ?? TEST_IMAGE,
    Cmd: s.cmd,
    Labels: labels,
    Tty: s.tty ?? false,
    ...(s.env ? { Env: s.env } : {}),
    ...(s.health
      ? {
          Healthcheck: {
            Test: ["CMD-SHELL", s.health.shell],
            Interval: (s.health.intervalMs ?? 200) * ms,
            Timeout: 2000 * ms,
            Retries: s.health.retries ?? 1,
            StartPeriod: 0,
          },
        }
      : {}),
    HostConfig: {
      RestartPolicy: { Name: s.restart ?? "no", ...(s.maxRetries !== undefined ? { MaximumRetryCount: s.maxRetries } : {}) },
      ...(s.memory !== undefined ? { Memory: s.memory, MemorySwap: s.memory } : {}),
    },
  };
  const c = await testDocker(engine).createContainer(body);
  if (s.start) await c.start();
  return c.id;
}

/** Removes a container if it exists (for containers the global teardown cannot find, e.g. unlabelled ones). */
export async function removeQuietly(engine: Engine, id: string): Promise<void> {
  await testDocker(engine)
    .getContainer(id)
    .remove({ force: true, v: true })
    .catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 404) throw e;
    });
}

/** Inspect through dockerode directly, for assertions that must not depend on the code under test. */
export function rawInspect(engine: Engine, id: string): Promise<Docker.ContainerInspectInfo> {
  return testDocker(engine).getContainer(id).inspect();
}
