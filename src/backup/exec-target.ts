// The running unit method exec runs its dump and restore commands in, with the values to mask in what they print.
import type { Module } from "../manifest/module.js";
import { unitName } from "../plan/unit-name.js";
import type { Runtime } from "../runtime/runtime.js";
import { PlatformError } from "../errors.js";
import { envFileDirs, readEnvFiles } from "../secrets/env-files.js";
import { heldEnvNames, heldSecrets, readModuleSecrets } from "../secrets/module-secrets.js";
import { redact } from "../secrets/masker.js";

/** Where an exec command runs: the unit of `spec.backup.exec.service`, running, and the mask set of its output. */
export interface ExecTarget {
  service: string;
  /** The unit's id and name. */
  id: string;
  name: string;
  /** Everything the module's units get from the environment or env files, as configured now and as the unit holds them. */
  secrets: string[];
}

/** The lines of stderr an exec failure shows, at most: the command's last words, not its whole chatter. */
const TAIL_LINES = 20;

/**
 * Finds the running unit of the module's exec service. A module without method exec, a service with no unit or a
 * unit that is not running is a clear `backup.service_not_running` (nothing was touched): the command needs the
 * service up, since it talks to the live process (a dump of a database, a restore into it).
 */
export async function findExecTarget(
  runtime: Runtime,
  project: string,
  module: Module,
  env: Readonly<Record<string, string | undefined>>,
  signal?: AbortSignal,
): Promise<ExecTarget & { command: string[]; restoreCommand: string[] }> {
  const exec = module.backup.exec;
  if (!exec) throw new PlatformError("backup.service_not_running", `module ${module.name} declares no spec.backup.exec`);
  const name = unitName(project, module.name, exec.service);
  const unit = await runtime.inspectUnit(name, signal);
  if (!unit?.running) {
    const state = unit ? `is ${unit.status}` : "does not exist";
    throw new PlatformError(
      "backup.service_not_running",
      `service ${exec.service} of ${module.name} (container ${name}) ${state}: method exec runs its command in the running service`,
      {
        hint: `Start it first (platformctl apply --module ${module.name}, or platformctl health ${module.name} to see why it is down), then run the same command again.`,
      },
    );
  }
  const service = module.services.find((s) => s.name === exec.service);
  const secrets = new Set(await readModuleSecrets(module, env));
  const held = await runtime.heldValues(unit.id, signal);
  if (held && service)
    for (const v of heldSecrets(
      service,
      held,
      Object.keys(await readEnvFiles(module, service, envFileDirs(env)).catch(() => heldEnvNames(held))), // unreadable: mask every undeclared variable
    ))
      secrets.add(v);
  return {
    service: exec.service,
    id: unit.id,
    name,
    secrets: [...secrets],
    command: exec.command,
    restoreCommand: exec.restoreCommand,
  };
}

/** The last lines of a command's stderr, masked with the target's values: what a failure shows of it. */
export function maskedTail(target: Pick<ExecTarget, "secrets">, stderr: string): string {
  const lines = stderr.replace(/\n$/, "").split("\n");
  return redact(lines.slice(-TAIL_LINES).join("\n"), target.secrets);
}
