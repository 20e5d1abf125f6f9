// `platformctl changed` flags -> ChangedArguments.
import type { Command } from "commander";

export interface ChangedArguments {
  /** Compared as `git diff BASE...HEAD`; its syntax is checked by checkBaseRef before git sees it. */
  base: string;
  json: boolean;
}

export function addChangedOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--base <ref>", "compare HEAD with its merge base with this commit, branch or tag (git diff REF...HEAD)")
    .option("--json", "print a JSON list of module names");
}

export function parseChangedArguments(flags: { base: string; json?: boolean }): ChangedArguments {
  return { base: flags.base, json: Boolean(flags.json) };
}
