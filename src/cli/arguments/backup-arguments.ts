// `platformctl backup <module>` and `platformctl backup import <file>` flags -> BackupArguments, BackupImportArguments.
import type { Command } from "commander";

export interface BackupArguments {
  module: string;
  json: boolean;
}

export interface BackupImportArguments {
  /** The archive, relative to the working directory; it must lie inside PLATFORMCTL_BACKUP_DIR. */
  file: string;
  json: boolean;
}

export interface BackupListArguments {
  module: string | undefined;
  json: boolean;
}

export function addBackupListOptions(cmd: Command): Command {
  return cmd
    .option("-m, --module <name>", "only the backups of this module")
    .option("--json", "print {backups: [{file, module, method, size, age_seconds, consistent, verification, present, …}]}");
}

/** `parentJson`: `--json` after the subcommand is parsed by `backup`, which has the same option. */
export function parseBackupListArguments(flags: { module?: string; json?: boolean }, parentJson: boolean): BackupListArguments {
  return { module: flags.module, json: Boolean(flags.json) || parentJson };
}

export function addBackupOptions(cmd: Command): Command {
  return cmd.argument("<module>", "module to back up").option("--json", "print {file, size, sha256, volumes, binds}");
}

export function addBackupImportOptions(cmd: Command): Command {
  return cmd
    .argument("<file>", "archive inside PLATFORMCTL_BACKUP_DIR, named <module>-<YYYYMMDDTHHMMSSZ>.tar.gz")
    .option("--json", "print {file, module, size, sha256, volumes, recorded}");
}

export function parseBackupArguments(module: string, flags: { json?: boolean }): BackupArguments {
  return { module, json: Boolean(flags.json) };
}

/** `parentJson`: `--json` after the subcommand is parsed by `backup`, which has the same option. */
export function parseBackupImportArguments(file: string, flags: { json?: boolean }, parentJson: boolean): BackupImportArguments {
  return { file, json: Boolean(flags.json) || parentJson };
}
