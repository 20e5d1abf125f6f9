// `platformctl backup <module>` (archive a module's volumes, print the path to pass as --backup-ref) and
// `platformctl backup import <file>` (verify another tool's archive and record it in the backup catalog) and
// `platformctl backup list` (every recorded backup with its method, size, age and verification).
import type { Command } from "commander";
import path from "node:path";
import { EXIT, InterruptedError, PlatformError } from "../../errors.js";
import {
  addBackupImportOptions,
  addBackupListOptions,
  addBackupOptions,
  parseBackupArguments,
  parseBackupImportArguments,
  parseBackupListArguments,
  type BackupArguments,
  type BackupImportArguments,
  type BackupListArguments,
} from "../arguments/backup-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerBackupCommand(program: Command, env: CommandEnv): void {
  const backup = addBackupOptions(
    program
      .command("backup")
      .description("Archive a module's volumes into PLATFORMCTL_BACKUP_DIR and print the path to pass as --backup-ref"),
  ).action(async (module: string, flags: { json?: boolean; timeout?: string }) => {
    env.setExit(await runBackup(env, parseBackupArguments(module, flags)));
  });
  addBackupImportOptions(
    backup
      .command("import")
      .description(
        "Verify an archive another tool made (a complete gzip tar holding the module's volumes) and record it in the backup catalog",
      ),
  ).action(async (file: string, flags: { json?: boolean }, cmd: Command) => {
    env.setExit(await runBackupImport(env, parseBackupImportArguments(file, flags, Boolean(cmd.parent?.opts<{ json?: boolean }>().json))));
  });
  addBackupListOptions(
    backup.command("list").description("List the recorded backups: module, method, size, age, consistency and verification"),
  ).action(async (flags: { module?: string; json?: boolean }, cmd: Command) => {
    env.setExit(await runBackupList(env, parseBackupListArguments(flags, Boolean(cmd.parent?.opts<{ json?: boolean }>().json))));
  });
}

export async function runBackupList(env: CommandEnv, args: BackupListArguments): Promise<number> {
  const [{ listBackups }, { resolveStateDir }, { backupListView }] = await Promise.all([
    import("../../backup/list-backups.js"),
    import("../../state/state-dir.js"),
    import("../views/backup-list-view.js"),
  ]);
  const { io } = env;
  const rows = await listBackups(resolveStateDir(io.env, io.cwd), new Date(), args.module);
  backupListView(io, args.json).list(rows);
  return EXIT.ok;
}

export async function runBackup(env: CommandEnv, args: BackupArguments): Promise<number> {
  const [{ openRuntime }, { createBackup }, { resolveStateDir }, context, { backupView }, { interruptible }] = await Promise.all([
    import("../../runtime/open-runtime.js"),
    import("../../backup/create-backup.js"),
    import("../../state/state-dir.js"),
    import("../context.js"),
    import("../views/backup-view.js"),
    import("../interruptible.js"),
  ]);
  const { io } = env;
  const g = env.globals();
  const project = context.checkProject(g.project);
  const catalog = await context.loadCatalogOrFail(g.modulesDir, io.env);
  const [name] = context.selectModules(catalog, [args.module]);
  const module = catalog.find((m) => m.name === name)!;
  // An interrupt aborts the copy; the helper is removed and stopped services are started again before the exit (128+n).
  const { controller, signalNumber, dispose } = interruptible();
  try {
    const result = await createBackup({
      runtime: await openRuntime(io.env),
      project,
      module,
      env: io.env,
      stateDir: resolveStateDir(io.env, io.cwd),
      now: new Date(),
      command: `platformctl backup ${module.name}`,
      timeoutMs: args.timeoutMs,
      signal: controller.signal,
    });
    backupView(io, args.json).created(result);
    return EXIT.ok;
  } catch (e) {
    const n = signalNumber();
    if (n === undefined) throw e;
    throw new InterruptedError(n, `backup interrupted: ${e instanceof Error ? e.message : String(e)}`, {
      detail: e instanceof PlatformError ? e.detail : undefined,
      hint: `No archive was kept. Run platformctl health --module ${module.name} to check its services, then back up again.`,
    });
  } finally {
    dispose();
  }
}

export async function runBackupImport(env: CommandEnv, args: BackupImportArguments): Promise<number> {
  const [{ importBackup }, { resolveStateDir }, { loadCatalogOrFail }, { backupView }] = await Promise.all([
    import("../../backup/import-backup.js"),
    import("../../state/state-dir.js"),
    import("../context.js"),
    import("../views/backup-view.js"),
  ]);
  const { io } = env;
  const catalog = await loadCatalogOrFail(env.globals().modulesDir, io.env);
  const r = await importBackup({
    file: path.resolve(io.cwd, args.file),
    catalog,
    env: io.env,
    stateDir: resolveStateDir(io.env, io.cwd),
    now: new Date(),
  });
  backupView(io, args.json).imported(r);
  return EXIT.ok;
}
