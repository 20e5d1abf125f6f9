// The options every command shares (--modules-dir, --project, --runtime, --verbose): declared once, resolved flag > environment > default.
import { Option, type Command } from "commander";
import type { CliIO } from "../io.js";

export interface GlobalArguments {
  modulesDir: string;
  project: string;
  verbose: boolean;
}

export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(new Option("--modules-dir <dir>", "modules directory (env PLATFORMCTL_MODULES_DIR)").default(undefined, "./modules"))
    .addOption(
      new Option("--project <name>", "project label of the containers platformctl owns (env PLATFORMCTL_PROJECT)").default(
        undefined,
        "platform",
      ),
    )
    .addOption(
      new Option("--runtime <name>", "where modules run: docker, or swarm through its manager (env PLATFORMCTL_RUNTIME)").default(
        undefined,
        "docker",
      ),
    )
    .option("--verbose", "debug logs on stderr and stack traces for internal errors");
}

export function parseGlobalArguments(program: Command, io: CliIO): GlobalArguments {
  const o = program.opts<{ modulesDir?: string; project?: string; verbose?: boolean }>();
  return {
    modulesDir: o.modulesDir ?? io.env.PLATFORMCTL_MODULES_DIR ?? "modules",
    project: o.project ?? io.env.PLATFORMCTL_PROJECT ?? "platform",
    verbose: Boolean(o.verbose),
  };
}
