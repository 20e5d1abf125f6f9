// `platformctl health` flags -> HealthArguments.
import type { Command } from "commander";
import { collect } from "./repeated.js";

export interface HealthArguments {
  /** Modules to check; empty means the whole catalog. */
  modules: string[];
  wait: boolean;
  /** Layout warnings (two writers, STATE_DIR in a bind, unverifiable nested mount) make the service unhealthy too. */
  strict: boolean;
  json: boolean;
}

export function addHealthOptions(cmd: Command): Command {
  return cmd
    .option("-m, --module <name>", "check only this module (repeatable)", collect, [])
    .option("--wait", "wait for starting healthchecks and running one-shots, within each module's timeout_seconds")
    .option("--strict", "layout warnings (two writers, STATE_DIR in a bind, unverifiable nested mount) make the service unhealthy too")
    .option("--json", "print the report as JSON");
}

export function parseHealthArguments(flags: { module?: string[]; wait?: boolean; strict?: boolean; json?: boolean }): HealthArguments {
  return { modules: flags.module ?? [], wait: Boolean(flags.wait), strict: Boolean(flags.strict), json: Boolean(flags.json) };
}
