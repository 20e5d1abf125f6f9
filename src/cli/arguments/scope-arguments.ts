// `platformctl scope` flags -> ScopeArguments.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { addGateOptions, parseGateArguments, type GateArguments, type GateFlags } from "./gate-arguments.js";
import { collect } from "./repeated.js";

export interface ScopeFlags extends GateFlags {
  module?: string[];
  plan?: string;
  failOnBlocked?: boolean;
  json?: boolean;
}

export interface ScopeArguments {
  modules: string[];
  gate: GateArguments;
  /** Judge this saved plan instead of a fresh one. */
  planFile: string | undefined;
  failOnBlocked: boolean;
  json: boolean;
}

export function addScopeOptions(cmd: Command): Command {
  return addGateOptions(cmd.option("-m, --module <name>", "module to judge (repeatable)", collect, []))
    .option("--plan <file>", "judge this saved plan instead of a fresh one")
    .option("--fail-on-blocked", "exit 3 when the decision is blocked")
    .option("--json", "print the decision as JSON");
}

export function parseScopeArguments(flags: ScopeFlags): ScopeArguments {
  if (!flags.module || flags.module.length === 0)
    throw new UsageError("usage.module_required", "scope needs --module", { hint: "e.g. platformctl scope --module minio-init" });
  return {
    modules: flags.module,
    gate: parseGateArguments(flags),
    planFile: flags.plan,
    failOnBlocked: Boolean(flags.failOnBlocked),
    json: Boolean(flags.json),
  };
}
