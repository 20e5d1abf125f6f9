// `platformctl lint-workflows [paths...]`: check CI workflows against the project's rules; exit 1 on any finding.
import type { Command } from "commander";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { EXIT, UsageError } from "../../errors.js";
import {
  addLintWorkflowsOptions,
  DEFAULT_WORKFLOW_DIRS,
  parseLintWorkflowsArguments,
  type LintWorkflowsArguments,
} from "../arguments/lint-workflows-arguments.js";
import { readFailure, readRegularFile } from "../../state/read-regular-file.js";
import type { CliIO } from "../io.js";
import type { CommandEnv } from "./command-env.js";

const MAX_WORKFLOW_BYTES = 1024 * 1024;

export function registerLintWorkflowsCommand(program: Command, env: CommandEnv): void {
  addLintWorkflowsOptions(
    program
      .command("lint-workflows")
      .description("Check CI workflows: script injection, exposed secrets, gated and dispatch-only applies, concurrency, pinned actions"),
  ).action(async (paths: string[], flags: { json?: boolean }) => {
    env.setExit(await runLintWorkflows(env, parseLintWorkflowsArguments(paths, flags)));
  });
}

async function workflowFiles(io: CliIO, targets: readonly string[], explicit: boolean): Promise<string[]> {
  const files: string[] = [];
  for (const t of targets) {
    // A missing path is reported below when it was given; a missing default directory is simply absent.
    const st = await lstat(path.resolve(io.cwd, t)).catch(() => undefined);
    if (!st) {
      if (explicit)
        throw new UsageError("usage.path", `no such file or directory: ${t}`, {
          hint: "Pass workflow directories or files, e.g. platformctl lint-workflows .forgejo/workflows",
        });
      continue;
    }
    if (st.isDirectory()) {
      const names = (await readdir(path.resolve(io.cwd, t))).filter((n) => /\.ya?ml$/.test(n)).sort();
      files.push(...names.map((n) => path.join(t, n)));
    } else if (st.isFile()) files.push(t);
    else throw new UsageError("usage.path", `${t} is neither a file nor a directory`, { hint: "Pass workflow directories or files." });
  }
  return files;
}

export async function runLintWorkflows(env: CommandEnv, args: LintWorkflowsArguments): Promise<number> {
  const [{ lintWorkflow }, { lintWorkflowsView }] = await Promise.all([
    import("../../workflows/lint-workflows.js"),
    import("../views/lint-workflows-view.js"),
  ]);
  const { io } = env;
  const explicit = args.paths.length > 0;
  const files = await workflowFiles(io, explicit ? args.paths : DEFAULT_WORKFLOW_DIRS, explicit);
  if (files.length === 0) {
    throw new UsageError(
      "usage.no_workflows",
      explicit ? `no *.yml or *.yaml file in ${args.paths.join(", ")}` : `no workflow found in ${DEFAULT_WORKFLOW_DIRS.join(", ")}`,
      {
        hint: "Run from the repository root, or pass the workflow directory.",
      },
    );
  }
  const findings = [];
  for (const f of files) {
    // A FIFO in a workflow directory would otherwise block the open forever.
    const text = (
      await readRegularFile(path.resolve(io.cwd, f)).catch((e: unknown) => {
        throw new UsageError("usage.path", `${f} cannot be read (${readFailure(e)})`, { hint: "Pass workflow directories or files." });
      })
    ).toString("utf8");
    if (Buffer.byteLength(text) > MAX_WORKFLOW_BYTES)
      throw new UsageError("usage.file_too_large", `${f} is larger than 1 MiB`, { hint: "A workflow file is small; check the path." });
    findings.push(...lintWorkflow(f, text));
  }
  lintWorkflowsView(io, args.json).result(files, findings);
  return findings.length ? EXIT.error : EXIT.ok;
}
