// `platformctl import compose` flags -> ImportArguments.
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { parseImportGroup, type ImportGroup } from "../../manifest/compose/import-compose.js";
import { collect, single } from "./repeated.js";

export interface ImportFlags {
  file?: string[];
  envFile?: string[];
  group?: string[];
  out?: string;
  force?: boolean;
  json?: boolean;
}

export interface ImportArguments {
  /** Compose files in `-f` order, as given (relative to the working directory or absolute). */
  files: string[];
  envFile: string | undefined;
  groups: ImportGroup[];
  out: string;
  /** The global --project when given on the command line (undefined: Compose's own project name). */
  project: string | undefined;
  force: boolean;
  json: boolean;
}

export function addImportComposeOptions(cmd: Command): Command {
  return cmd
    .requiredOption("-f, --file <file>", "a Compose file; repeat to merge several in order, like docker compose -f a -f b", collect, [])
    .option("--env-file <file>", "interpolation values, like Compose's .env (the environment wins over it)", collect, [])
    .option("--group <services=name>", "put these services (comma-separated) in one module called name (repeatable)", collect, [])
    .requiredOption("--out <dir>", "modules directory to write <module>/module.yaml into")
    .option("--force", "overwrite module files that exist already")
    .option("--json", "print the result as JSON");
}

export function parseImportArguments(flags: ImportFlags, project: string | undefined): ImportArguments {
  const groups = (flags.group ?? []).map((g) => {
    const parsed = parseImportGroup(g);
    if (!parsed)
      throw new UsageError("usage.import_group", `--group "${g}" is not of the form service1,service2=name`, {
        hint: "Example: --group minio,minio-console=storage",
      });
    return parsed;
  });
  return {
    files: flags.file ?? [],
    envFile: single("--env-file", flags.envFile),
    groups,
    out: flags.out as string,
    project,
    force: Boolean(flags.force),
    json: Boolean(flags.json),
  };
}
