// `platformctl smoke <module>` flags and PLATFORMCTL_SMOKE_REMOTE_MODE -> SmokeArguments.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";

export interface SmokeArguments {
  module: string;
  wait: boolean;
  json: boolean;
  /** `skip` reports remote probes (http/tcp to other hosts) as skipped instead of running them. */
  remoteMode: "run" | "skip";
}

export function addSmokeOptions(cmd: Command): Command {
  return cmd
    .argument("<module>", "module whose probes run")
    .option("--wait", "wait for starting healthchecks first, within the module's timeout_seconds")
    .option("--json", "print the result as JSON");
}

export function parseSmokeArguments(
  module: string,
  flags: { wait?: boolean; json?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): SmokeArguments {
  const mode = env.PLATFORMCTL_SMOKE_REMOTE_MODE ?? "";
  if (mode !== "" && mode !== "skip" && mode !== "run") {
    throw new UsageError("usage.smoke_remote_mode", `PLATFORMCTL_SMOKE_REMOTE_MODE=${mode.slice(0, 40)} is not one of skip, run`, {
      hint: "Set PLATFORMCTL_SMOKE_REMOTE_MODE=skip to report remote probes as skipped, or unset it to run them.",
    });
  }
  return { module, wait: Boolean(flags.wait), json: Boolean(flags.json), remoteMode: mode === "skip" ? "skip" : "run" };
}
