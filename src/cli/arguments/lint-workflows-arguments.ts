// `platformctl lint-workflows [paths...]` flags -> LintWorkflowsArguments.
import type { Command } from "commander";

/** The directories `lint-workflows` reads when none is given: the project's own, and the forge's when present. */
export const DEFAULT_WORKFLOW_DIRS = ["workflows", ".forgejo/workflows", ".github/workflows"] as const;

export interface LintWorkflowsArguments {
  /** Given paths; empty means DEFAULT_WORKFLOW_DIRS, those missing skipped. */
  paths: string[];
  json: boolean;
}

export function addLintWorkflowsOptions(cmd: Command): Command {
  return cmd
    .argument("[paths...]", `workflow directories or files (default: ${DEFAULT_WORKFLOW_DIRS.join(", ")} when present)`)
    .option("--json", "print the findings as JSON");
}

export function parseLintWorkflowsArguments(paths: string[], flags: { json?: boolean }): LintWorkflowsArguments {
  return { paths, json: Boolean(flags.json) };
}
