// `platformctl apply` flags -> ApplyArguments.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { parseDuration } from "./duration.js";
import { addGateOptions, parseGateArguments, type GateArguments, type GateFlags } from "./gate-arguments.js";
import { collect } from "./repeated.js";

export interface ApplyFlags extends GateFlags {
  module?: string[];
  plan?: string;
  timeout?: string;
  json?: boolean;
  lockWait?: string;
  prune?: boolean;
}

export interface ApplyArguments {
  /** At least one module; applied in depends_on order. */
  modules: string[];
  gate: GateArguments;
  /** A saved plan to execute instead of a fresh one. */
  planFile: string | undefined;
  /** Bound for each wait; undefined means each module's timeout_seconds. */
  timeoutMs: number | undefined;
  /** How long to wait for another apply's lock; 0 fails at once with exit 4. */
  lockWaitMs: number;
  prune: boolean;
  json: boolean;
}

export function addApplyOptions(cmd: Command): Command {
  cmd
    .option("-m, --module <name>", "module to apply (repeatable; applied in depends_on order)", collect, [])
    .option("--plan <file>", "execute this saved plan; refused (exit 5) when the live state moved on")
    .option("--timeout <duration>", "bound for each wait (default: the module's timeout_seconds), e.g. 300 or 5m");
  return addGateOptions(cmd)
    .option("--lock-wait <duration>", "wait this long for another apply's lock instead of failing with exit 4")
    .option("--prune", "also remove orphaned and duplicate containers")
    .option("--json", "print the result as JSON");
}

export function parseApplyArguments(flags: ApplyFlags): ApplyArguments {
  if (!flags.module || flags.module.length === 0)
    throw new UsageError("usage.module_required", "apply needs at least one --module", {
      hint: "e.g. platformctl apply --module minio-init",
    });
  return {
    modules: flags.module,
    gate: parseGateArguments(flags),
    planFile: flags.plan,
    timeoutMs:
      flags.timeout === undefined
        ? undefined
        : parseDuration("--timeout", flags.timeout, { minMs: 1000, maxMs: 86_400_000, example: "5m" }),
    lockWaitMs: flags.lockWait === undefined ? 0 : parseDuration("--lock-wait", flags.lockWait, { maxMs: 86_400_000, example: "5m" }),
    prune: Boolean(flags.prune),
    json: Boolean(flags.json),
  };
}
