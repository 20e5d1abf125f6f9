// `platformctl changed --base REF`: the modules a change touches, dependents included (for PR checks).
import type { Command } from "commander";
import path from "node:path";
import { realpath } from "node:fs/promises";
import { EXIT } from "../../errors.js";
import { addChangedOptions, parseChangedArguments, type ChangedArguments } from "../arguments/changed-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerChangedCommand(program: Command, env: CommandEnv): void {
  addChangedOptions(
    program
      .command("changed")
      .description("List the modules changed since a base ref, dependents included (one name per line), for PR checks"),
  ).action(async (flags: { base: string; json?: boolean }) => {
    env.setExit(await runChanged(env, parseChangedArguments(flags)));
  });
}

export async function runChanged(env: CommandEnv, args: ChangedArguments): Promise<number> {
  const [{ repositoryOf, changedFilesSince, checkBaseRef }, { computeChangedModules }, { loadCatalogOrFail }, { changedView }] =
    await Promise.all([
      import("../../workflows/git-changes.js"),
      import("../../workflows/changed-modules.js"),
      import("../context.js"),
      import("../views/changed-view.js"),
    ]);
  const { io } = env;
  checkBaseRef(args.base);
  const modulesDir = path.resolve(io.cwd, env.globals().modulesDir);
  const repo = await repositoryOf(modulesDir);
  const files = await changedFilesSince(repo.root, args.base);
  const catalog = await loadCatalogOrFail(modulesDir, io.env);
  const entries = await Promise.all(
    catalog.map(async (m) => ({
      name: m.name,
      dir: path
        .relative(repo.root, await realpath(m.dir))
        .split(path.sep)
        .join("/"),
      dependsOn: m.dependsOn,
    })),
  );
  const result = computeChangedModules({ files, modulesDir: repo.relative, catalog: entries });
  changedView(io, args.json).result(result, { files: files.length, base: args.base, modulesDir: repo.relative });
  return EXIT.ok;
}
