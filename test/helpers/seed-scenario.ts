// The seed's failure, arranged on the real engine: the stateful one-shot minio-init exited 1.
import type Docker from "dockerode";
import { expect } from "vitest";
import { eventually } from "./eventually.js";
import { createAsPlatformctl } from "./platform.js";

/** Where a copy of the quick-start catalog runs: its project, catalog directory and the environment it resolves from. */
export interface SeedPlatform {
  project: string;
  modulesDir: string;
  env: Record<string, string>;
}

/**
 * Makes minio-init exit 1 for real, the way the seed found it: with minio (already applied) stopped, minio-init is created
 * exactly as apply builds it and run to its exit; then minio is started again and is healthy. Checks each step happened.
 */
export async function failMinioInit(docker: Docker, seed: SeedPlatform): Promise<void> {
  const minio = docker.getContainer(`${seed.project}_minio_minio`);
  await minio.stop({ t: 1 });
  const init = await createAsPlatformctl(docker, {
    project: seed.project,
    dir: seed.modulesDir,
    module: "minio-init",
    env: seed.env,
    start: true,
  });
  await init.wait();
  expect((await init.inspect()).State.ExitCode).toBe(1);
  await minio.start();
  await eventually(async () => expect((await minio.inspect()).State.Health?.Status).toBe("healthy"));
}
