// `platformctl plan` flags -> PlanArguments.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { collect } from "./repeated.js";

export interface PlanFlags {
  module?: string[];
  json?: boolean;
  markdown?: boolean;
  out?: string;
  detailedExitcode?: boolean;
  prune?: boolean;
}

export interface PlanArguments {
  /** Modules to plan; empty means the whole catalog. */
  modules: string[];
  /** --json wins over --markdown. */
  view: "human" | "json" | "markdown";
  /** Where to save the plan for `apply --plan`; `-` prints it as the whole of stdout instead of the view. */
  out: string | undefined;
  detailedExitcode: boolean;
  prune: boolean;
}

export function addPlanOptions(cmd: Command): Command {
  return cmd
    .option("-m, --module <name>", "plan only this module (repeatable)", collect, [])
    .option("--json", "print the plan as JSON (schema/plan.schema.json)")
    .option("--markdown", "print a compact Markdown table (PR comments, step summaries)")
    .option("--out <file>", "save the plan (JSON with its fingerprint) for apply --plan; a new path or a regular file, or - for stdout")
    .option("--detailed-exitcode", "exit 2 when there is drift, 0 when there is none")
    .option("--prune", "plan removal of orphaned and duplicate containers");
}

export function parsePlanArguments(flags: PlanFlags): PlanArguments {
  // `--out "$PLAN"` with PLAN unset would otherwise save nothing and exit 0, and the apply --plan after it fails late.
  if (flags.out !== undefined && flags.out.trim() === "")
    throw new UsageError("usage.plan_out", "plan --out was given an empty path: nothing would be saved", {
      hint: "Pass the file to save the plan to (e.g. --out plan.json), or --out - for standard output.",
    });
  return {
    modules: flags.module ?? [],
    view: flags.json ? "json" : flags.markdown ? "markdown" : "human",
    out: flags.out,
    detailedExitcode: Boolean(flags.detailedExitcode),
    prune: Boolean(flags.prune),
  };
}
