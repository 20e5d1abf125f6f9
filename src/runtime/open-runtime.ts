// The one place that chooses the runtime implementation: add a runtime by adding its adapter to RUNTIMES.
import { connectEngine } from "../engine/connect.js";
import { dockerRuntime } from "../engine/docker-runtime.js";
import { UsageError } from "../errors.js";
import type { Runtime } from "./runtime.js";
import { runtimeNameOf, type RuntimeName } from "../manifest/runtime-ignored-fields.js";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The runtimes platformctl can drive, by the name PLATFORMCTL_RUNTIME selects (default `docker`). Each entry opens
 * its adapter from the environment (Docker: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH); opening connects
 * lazily, so call `ping()` to check. A new runtime is one more entry here and one adapter implementing
 * `Runtime`; no caller changes.
 */
const RUNTIMES: Readonly<Record<RuntimeName, (env: Env) => Runtime | Promise<Runtime>>> = {
  docker: (env) => dockerRuntime(connectEngine({ ...env })),
  /**
   * A Docker Swarm through its manager's engine (DOCKER_HOST), and its nodes' (PLATFORMCTL_SWARM_NODE_HOSTS): units are
   * Swarm services, one-shots replicated jobs. Loaded only when selected, so a Docker command never loads it.
   */
  swarm: async (env) => (await import("../engine/swarm/swarm-runtime.js")).swarmRuntime(connectEngine({ ...env }), env),
};

/** Opens the runtime the environment selects; an unknown PLATFORMCTL_RUNTIME is a usage error (nothing is touched). */
export async function openRuntime(env: Env): Promise<Runtime> {
  const name = env.PLATFORMCTL_RUNTIME || "docker";
  const known = runtimeNameOf(env);
  if (!known) {
    throw new UsageError("usage.runtime", `PLATFORMCTL_RUNTIME=${name.slice(0, 40)} is not a runtime platformctl knows`, {
      hint: `Unset it, or set one of: ${Object.keys(RUNTIMES).join(", ")}.`,
    });
  }
  return RUNTIMES[known](env);
}
