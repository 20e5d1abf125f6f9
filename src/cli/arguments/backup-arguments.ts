// `platformctl backup <module>` and `platformctl backup import <file>` flags -> BackupArguments, BackupImportArguments.
import type { Command } from "commander";
import { parseDuration } from "./duration.js";

export interface BackupArguments {
  module: string;
  json: boolean;
  /** Bound of method exec's dump command; undefined: the module's timeout_seconds. */
  timeoutMs: number | undefined;
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
  return cmd
    .argument("<module>", "module to back up")
    .option("--json", "print {file, size, sha256, method, consistent, volumes, binds, downtime_ms, dump}")
    .option("--timeout <duration>", "bound of method exec's dump command (default: the module's timeout_seconds), e.g. 300 or 1h");
}

export function addBackupImportOptions(cmd: Command): Command {
  return cmd
    .argument("<file>", "archive inside PLATFORMCTL_BACKUP_DIR, named <module>-<YYYYMMDDTHHMMSSZ>.tar.gz")
    .option("--json", "print {file, module, size, sha256, volumes, recorded}");
}

export function parseBackupArguments(module: string, flags: { json?: boolean; timeout?: string }): BackupArguments {
  return {
    module,
    json: Boolean(flags.json),
    timeoutMs:
      flags.timeout === undefined
        ? undefined
        : parseDuration("--timeout", flags.timeout, { minMs: 1000, maxMs: 86_400_000, example: "1h" }),
  };
}

/** `parentJson`: `--json` after the subcommand is parsed by `backup`, which has the same option. */
export function parseBackupImportArguments(file: string, flags: { json?: boolean }, parentJson: boolean): BackupImportArguments {
  return { file, json: Boolean(flags.json) || parentJson };
}
