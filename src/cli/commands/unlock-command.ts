// `platformctl unlock --force`: remove a held apply lock (operators only; runbooks/held-lock.md), audited; a live holder's only with --pid.
import type { Command } from "commander";
import os from "node:os";
import { EXIT } from "../../errors.js";
import { addUnlockOptions, parseUnlockArguments, type UnlockArguments } from "../arguments/unlock-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerUnlockCommand(program: Command, env: CommandEnv): void {
  addUnlockOptions(program.command("unlock").description("Remove a held apply lock (operators only; see runbooks/held-lock.md)")).action(
    async (flags: { force?: boolean; pid?: string }) => {
      env.setExit(await runUnlock(env, parseUnlockArguments(flags)));
    },
  );
}

export async function runUnlock(env: CommandEnv, args: UnlockArguments): Promise<number> {
  const [{ forceUnlock }, { actorFrom, appendAudit, newAuditId }, { ensureStateDir, resolveStateDir }, { checkProject }, { unlockView }] =
    await Promise.all([
      import("../../state/lock.js"),
      import("../../state/audit.js"),
      import("../../state/state-dir.js"),
      import("../context.js"),
      import("../views/unlock-view.js"),
    ]);
  const { io } = env;
  const project = checkProject(env.globals().project);
  const stateDir = await ensureStateDir(resolveStateDir(io.env, io.cwd));
  const r = await forceUnlock(stateDir, project, { pid: args.pid });
  if (r.removed) {
    await appendAudit(stateDir, {
      type: "unlock",
      id: newAuditId(),
      time: new Date().toISOString(),
      actor: actorFrom(io.env, os.userInfo().username, os.hostname()),
      holder: r.holder,
    });
  }
  unlockView(io).result(project, r);
  return EXIT.ok;
}
