// `platformctl audit`: read the audit log (STATE_DIR/audit.jsonl), optionally only records about some modules.
import type { Command } from "commander";
import path from "node:path";
import { EXIT } from "../../errors.js";
import { addAuditOptions, parseAuditArguments, type AuditArguments } from "../arguments/audit-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerAuditCommand(program: Command, env: CommandEnv): void {
  addAuditOptions(program.command("audit").description("Read the audit log (STATE_DIR/audit.jsonl)")).action(
    async (flags: { module?: string[]; json?: boolean; limit?: string }) => {
      env.setExit(await runAudit(env, parseAuditArguments(flags)));
    },
  );
}

export async function runAudit(env: CommandEnv, args: AuditArguments): Promise<number> {
  const [{ AUDIT_FILE, readAudit }, { resolveStateDir }, { auditView }] = await Promise.all([
    import("../../state/audit.js"),
    import("../../state/state-dir.js"),
    import("../views/audit-view.js"),
  ]);
  const stateDir = resolveStateDir(env.io.env, env.io.cwd);
  const { records, skipped } = await readAudit(stateDir);
  const wanted = args.modules.length ? new Set(args.modules) : undefined;
  const intents = new Map(records.flatMap((r) => (r.type === "intent" ? [[r.id, r] as const] : [])));
  const matches = records.filter((r) => {
    if (!wanted) return true;
    if (r.type === "intent") return r.modules.some((m) => wanted.has(m));
    if (r.type === "result")
      return r.modules.some((m) => wanted.has(m.module)) || (intents.get(r.id)?.modules.some((m) => wanted.has(m)) ?? false);
    if (r.type === "rollback-intent" || r.type === "rollback-result" || r.type === "backup-intent" || r.type === "backup-result")
      return wanted.has(r.module);
    return false;
  });
  auditView(env.io, args.json).records(matches.slice(-args.limit), skipped, path.join(stateDir, AUDIT_FILE));
  return EXIT.ok;
}
