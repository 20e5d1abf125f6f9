// `platformctl apply`: converge modules through the locked, gated, audited executor; signals end it with 128+n.
import type { Command } from "commander";
import { addApplyOptions, parseApplyArguments, type ApplyFlags } from "../arguments/apply-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerApplyCommand(program: Command, env: CommandEnv): void {
  addApplyOptions(
    program.command("apply").description("Converge modules: execute their plan (policy-gated, locked, audited); one-shots must exit 0"),
  ).action(async (flags: ApplyFlags) => {
    const args = parseApplyArguments(flags);
    // One dynamic import: apply's code then comes in a few bundle chunks instead of one per module (each chunk costs a resolve, a read and a compile).
    env.setExit(await (await import("../run-apply.js")).runApply(env, args));
  });
}
