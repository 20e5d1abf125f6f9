// `platformctl validate [paths...]` flags -> ValidateArguments.
import type { Command } from "commander";

export interface ValidateArguments {
  /** Modules directories, module directories or module.yaml files; never empty (defaults to --modules-dir). */
  paths: string[];
  strict: boolean;
  json: boolean;
}

export function addValidateOptions(cmd: Command): Command {
  return cmd
    .argument("[paths...]", "modules directory, module directory or module.yaml (default: the modules directory)")
    .option("--strict", "also apply the strict rules used in CI")
    .option("--json", "print a JSON report");
}

export function parseValidateArguments(
  paths: string[],
  flags: { strict?: boolean; json?: boolean },
  modulesDir: string,
): ValidateArguments {
  return { paths: paths.length ? paths : [modulesDir], strict: Boolean(flags.strict), json: Boolean(flags.json) };
}
