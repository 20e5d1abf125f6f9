// `platformctl validate`: reports every manifest problem with its location; nothing is changed.
import type { Command } from "commander";
import { EXIT } from "../../errors.js";
import { addValidateOptions, parseValidateArguments, type ValidateArguments } from "../arguments/validate-arguments.js";
import type { CommandEnv } from "./command-env.js";

export function registerValidateCommand(program: Command, env: CommandEnv): void {
  addValidateOptions(
    program.command("validate").description("Validate module manifests and report every problem with its location"),
  ).action(async (paths: string[], flags: { strict?: boolean; json?: boolean }) => {
    env.setExit(await runValidate(env, parseValidateArguments(paths, flags, env.globals().modulesDir)));
  });
}

export async function runValidate(env: CommandEnv, args: ValidateArguments): Promise<number> {
  const [
    { loadModules },
    { catalogCache },
    { envFileDirs },
    { resolveStateDir },
    { validateView },
    { runtimeIgnoredFields, runtimeNameOf },
  ] = await Promise.all([
    import("../../catalog/load-modules.js"),
    import("../../catalog/catalog-cache.js"),
    import("../../secrets/env-files.js"),
    import("../../state/state-dir.js"),
    import("../views/validate-view.js"),
    import("../../manifest/runtime-ignored-fields.js"),
  ]);
  const cache = await catalogCache(resolveStateDir(env.io.env, env.io.cwd), env.io.env);
  const result = await loadModules(args.paths, { strict: args.strict, envFileDirs: envFileDirs(env.io.env), env: env.io.env }, cache);
  const runtime = runtimeNameOf(env.io.env);
  const ignored = runtime ? runtimeIgnoredFields(runtime, result.modules) : [];
  validateView(env.io, args.json).result(ignored.length ? { ...result, warnings: [...result.warnings, ...ignored] } : result, args.strict);
  return result.valid ? EXIT.ok : EXIT.error;
}
