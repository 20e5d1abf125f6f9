// `platformctl audit` flags -> AuditArguments.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { collect } from "./repeated.js";

export interface AuditArguments {
  /** Only records about these modules; empty means all. */
  modules: string[];
  /** Show the last `limit` matching records (1..100000). */
  limit: number;
  json: boolean;
}

export function addAuditOptions(cmd: Command): Command {
  return cmd
    .option("-m, --module <name>", "only records about this module (repeatable)", collect, [])
    .option("--limit <n>", "show the last N records (default 20)")
    .option("--json", "print records as JSON");
}

export function parseAuditArguments(flags: { module?: string[]; limit?: string; json?: boolean }): AuditArguments {
  const limit = flags.limit === undefined ? 20 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
    throw new UsageError("usage.limit", "--limit must be a whole number from 1 to 100000", { hint: "e.g. --limit 50" });
  return { modules: flags.module ?? [], limit, json: Boolean(flags.json) };
}
