// `platformctl plan`: observe the engine (read-only), compute drift, print it, optionally save it for apply.
import { lstat, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { openRuntime } from "../runtime/open-runtime.js";
import type { Plan } from "../plan/plan.js";
import type { Module } from "../manifest/module.js";
import type { ObservedState } from "../plan/observed-state.js";
import { readDigestKey, resolveStateDir } from "../state/state-dir.js";
import { EXIT, PlatformError, UsageError } from "../errors.js";
import { systemClock } from "../clock.js";
import { computeLivePlan } from "../live-plan/compute-live-plan.js";
import { checkProject, loadCatalogOrFail, makeLogger, selectModules } from "./context.js";
import { renderPlanMarkdown, renderPlanText } from "./render-plan.js";
import { styler, type CliIO } from "./io.js";
import type { GlobalFlags } from "./main.js";

export interface PlanFlags {
  module?: string[];
  json?: boolean;
  markdown?: boolean;
  out?: string;
  detailedExitcode?: boolean;
  prune?: boolean;
}

/** Observes and plans through the one live-plan path, so plan, scope and apply see the same plan for the same state. */
export async function makePlan(
  io: CliIO,
  g: GlobalFlags,
  requested: readonly string[],
  options: { prune?: boolean; rerun?: boolean } = {},
): Promise<{ plan: Plan; catalog: Module[]; observed: ObservedState }> {
  const project = checkProject(g.project);
  const catalog = await loadCatalogOrFail(g.modulesDir, io.env);
  const selected = selectModules(catalog, requested);
  const log = makeLogger(io, g.verbose);
  const started = Date.now();
  const { plan, observed } = await computeLivePlan({
    runtime: openRuntime(io.env),
    project,
    catalog,
    selected,
    env: io.env,
    cwd: io.cwd,
    digestKey: await readDigestKey(resolveStateDir(io.env, io.cwd)),
    prune: Boolean(options.prune),
    rerun: Boolean(options.rerun),
    clock: systemClock,
  });
  log.debug({ containers: observed.containers.length, ms: Date.now() - started }, "observed engine state and planned");
  return { plan, catalog, observed };
}

/**
 * Refuses a `--out` target that is neither absent nor a regular file: the rename that writes the plan would replace
 * a device node, FIFO, socket, directory or symlink (as root, `--out /dev/full` replaced the device). `-` is stdout.
 */
export async function checkPlanTarget(file: string): Promise<void> {
  if (file === "-") return;
  const st = await lstat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw new PlatformError("plan.write_failed", `cannot write the plan to ${file} (${e.code ?? "error"})`, { hint: "Check that the directory exists and is readable.", cause: e });
  });
  if (st === undefined || st.isFile()) return;
  const kind = st.isSymbolicLink() ? "a symbolic link" : st.isDirectory() ? "a directory" : st.isFIFO() ? "a FIFO" : st.isCharacterDevice() || st.isBlockDevice() ? "a device node" : st.isSocket() ? "a socket" : "not a regular file";
  throw new UsageError("plan.out_not_regular_file", `refusing to write the plan to ${file}: it is ${kind}, and saving replaces the file`, {
    hint: "Give --out a new path or an existing regular file, or --out - to print the plan to standard output.",
  });
}

/** Writes a plan file atomically (a new temp file renamed into place), only over nothing or a regular file; `-` prints it. */
export async function savePlan(file: string, plan: Plan, io?: CliIO): Promise<void> {
  const text = `${JSON.stringify(plan, null, 2)}\n`;
  if (file === "-") {
    if (!io) throw new PlatformError("internal", "savePlan to standard output needs the CLI's io");
    io.stdout.write(text);
    return;
  }
  await checkPlanTarget(file);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o644, flag: "wx" });
    await checkPlanTarget(file); // again, just before the rename: it may have changed while the plan was written
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    if (e instanceof PlatformError) throw e;
    throw new PlatformError("plan.write_failed", `cannot write the plan to ${file}`, { hint: "Check that the directory exists and is writable.", cause: e });
  }
}

export async function runPlan(io: CliIO, g: GlobalFlags, flags: PlanFlags): Promise<number> {
  if (flags.out) await checkPlanTarget(flags.out); // before observing: a refused target changes nothing
  const { plan } = await makePlan(io, g, flags.module ?? [], { prune: flags.prune });
  if (flags.out) await savePlan(flags.out, plan, io);
  // With `--out -` the saved plan is the whole of stdout (a second rendering would make it unreadable for apply --plan).
  if (flags.out === "-") return flags.detailedExitcode && plan.summary.drifted > 0 ? EXIT.drift : EXIT.ok;
  if (flags.json) io.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
  else if (flags.markdown) io.stdout.write(renderPlanMarkdown(plan));
  else io.stdout.write(renderPlanText(plan, styler(io)));
  if (flags.detailedExitcode && plan.summary.drifted > 0) return EXIT.drift;
  return EXIT.ok;
}
