// Scenario helpers for CLI tests: temporary catalogs and creating containers exactly as platformctl does.
import type Docker from "dockerode";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadModules } from "../../src/catalog/load-modules.js";
import { buildContainer } from "../../src/engine/container-body.js";

/** A temporary catalog directory: `write(name, yaml)` puts a module.yaml in place. */
export async function aCatalog(): Promise<{
  dir: string;
  write: (module: string, yaml: string) => Promise<void>;
  remove: () => Promise<void>;
}> {
  const root = await mkdtemp(path.join(tmpdir(), "platformctl-catalog-"));
  const dir = path.join(root, "modules");
  await mkdir(dir);
  return {
    dir,
    write: async (module, yaml) => {
      await mkdir(path.join(dir, module), { recursive: true });
      await writeFile(path.join(dir, module, "module.yaml"), yaml);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** A minimal valid manifest; `services` is YAML for the services map, indented by the caller's convention (6 spaces). */
export function manifest(
  name: string,
  opts: { expected?: string; stateful?: boolean; services: string; dependsOn?: string[]; extra?: string },
): string {
  return [
    "apiVersion: platformctl/v1",
    "kind: Module",
    "metadata:",
    `  name: ${name}`,
    `  description: test module ${name}`,
    "spec:",
    `  stateful: ${opts.stateful ? "true" : "false"}`,
    ...(opts.dependsOn ? [`  depends_on: [${opts.dependsOn.join(", ")}]`] : []),
    "  runtime:",
    `    expected_state: ${opts.expected ?? "running"}`,
    "    timeout_seconds: 30",
    "  services:",
    opts.services.replace(/\n$/, ""),
    ...(opts.extra ? [opts.extra] : []),
    "",
  ].join("\n");
}

/** Creates (and optionally starts) a service's container exactly as apply builds it, from the catalog at `dir`. */
export async function createAsPlatformctl(
  docker: Docker,
  opts: {
    project: string;
    dir: string;
    module: string;
    service?: string;
    env?: Record<string, string | undefined>;
    start?: boolean;
    name?: string;
  },
): Promise<Docker.Container> {
  const catalog = await loadModules(opts.dir);
  const m = catalog.modules.find((x) => x.name === opts.module);
  if (!m) throw new Error(`module ${opts.module} not in ${opts.dir}: ${catalog.problems.map((p) => p.message).join("; ")}`);
  const s = m.services.find((x) => x.name === (opts.service ?? opts.module)) ?? m.services[0];
  if (!s) throw new Error(`no service in ${opts.module}`);
  const built = buildContainer({ project: opts.project, module: m, service: s, env: opts.env ?? {}, digestKey: undefined });
  const c = await docker.createContainer({
    _query: { name: opts.name ?? built.name },
    _body: built.body,
  } as unknown as Docker.ContainerCreateOptions);
  if (opts.start) await c.start();
  return c;
}
