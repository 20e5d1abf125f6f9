// Scenario helpers for CLI tests: temporary catalogs, running the built CLI, and creating containers exactly as platformctl does.
import type Docker from "dockerode";
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadModules } from "../../src/catalog/load-modules.js";
import { buildContainer } from "../../src/engine/container-body.js";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(REPO, "bin/platformctl.js");
export const TEST_IMAGE = "platformctl-test/busybox:1";

/** A temporary catalog directory: `write(name, yaml)` puts a module.yaml in place. */
export async function aCatalog(): Promise<{ dir: string; write: (module: string, yaml: string) => Promise<void>; remove: () => Promise<void> }> {
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
export function manifest(name: string, opts: { expected?: string; stateful?: boolean; services: string; dependsOn?: string[]; extra?: string }): string {
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

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a separate process. */
export function cli(args: string[], env: Record<string, string | undefined> = {}, cwd = REPO): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code as number) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Creates (and optionally starts) a service's container exactly as apply builds it, from the catalog at `dir`. */
export async function createAsPlatformctl(
  docker: Docker,
  opts: { project: string; dir: string; module: string; service?: string; env?: Record<string, string | undefined>; start?: boolean; name?: string },
): Promise<Docker.Container> {
  const catalog = await loadModules(opts.dir);
  const m = catalog.modules.find((x) => x.name === opts.module);
  if (!m) throw new Error(`module ${opts.module} not in ${opts.dir}: ${catalog.problems.map((p) => p.message).join("; ")}`);
  const s = m.services.find((x) => x.name === (opts.service ?? opts.module)) ?? m.services[0];
  if (!s) throw new Error(`no service in ${opts.module}`);
  const built = buildContainer({ project: opts.project, module: m, service: s, env: opts.env ?? {}, digestKey: undefined });
  const c = await docker.createContainer({ _query: { name: opts.name ?? built.name }, _body: built.body } as unknown as Docker.ContainerCreateOptions);
  if (opts.start) await c.start();
  return c;
}

/** Polls `check` until it returns a truthy value or the time is up (the one polling helper of the suite). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
