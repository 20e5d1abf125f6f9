// `platformctl health` and `platformctl smoke`: commander wiring, rendering (text and JSON) and exit codes.
// The health and runtime code is imported on demand, so registering the commands costs nothing at start-up.
import type { Command } from "commander";
import type { Runtime } from "../runtime/runtime.js";
import { EXIT, InternalError, UsageError } from "../errors.js";
import type { HealthResult } from "../health/check-health.js";
import type { ModuleVerdict, ServiceVerdict } from "../health/judge-health.js";
import { mountSeverity, type MountFinding } from "../health/mount-sanity.js";
import type { Module } from "../manifest/module.js";
import type { ProbeResult } from "../health/run-probes.js";
import { styler, writeLine, type CliIO } from "./io.js";
import type { GlobalFlags } from "./main.js";

export interface HealthFlags {
  module?: string[];
  wait?: boolean;
  strict?: boolean;
  json?: boolean;
}

export interface SmokeFlags {
  wait?: boolean;
  json?: boolean;
}

/** Adds `health` and `smoke` to the program; `setExit` receives each command's exit code. */
export function registerHealthCommands(program: Command, io: CliIO, setExit: (c: number) => void, globals: () => GlobalFlags): void {
  program
    .command("health")
    .description("Judge each module's health (running, healthy, one-shots exited 0, restart loops) and check its mounts")
    .option("-m, --module <name>", "check only this module (repeatable)", collect, [])
    .option("--wait", "wait for starting healthchecks and running one-shots, within each module's timeout_seconds")
    .option("--strict", "layout warnings (two writers, STATE_DIR in a bind, unverifiable nested mount) make the service unhealthy too")
    .option("--json", "print the report as JSON")
    .action(async (flags: HealthFlags) => {
      setExit(await runHealth(io, globals(), flags));
    });

  program
    .command("smoke")
    .description("Check a module's health, then run its smoke probes in order (exec, http, tcp, command)")
    .argument("<module>", "module whose probes run")
    .option("--wait", "wait for starting healthchecks first, within the module's timeout_seconds")
    .option("--json", "print the result as JSON")
    .action(async (module: string, flags: SmokeFlags) => {
      setExit(await runSmoke(io, globals(), module, flags));
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface Checked {
  result: HealthResult;
  catalog: Module[];
  project: string;
  runtime: Runtime;
}

async function healthOf(io: CliIO, g: GlobalFlags, requested: readonly string[], opts: { wait: boolean; mounts: boolean; strict?: boolean }): Promise<Checked> {
  const [{ checkProject, loadCatalogOrFail, selectModules }, { openRuntime }, { checkHealth }] = await Promise.all([
    import("./context.js"),
    import("../runtime/open-runtime.js"),
    import("../health/check-health.js"),
  ]);
  const project = checkProject(g.project);
  const catalog = await loadCatalogOrFail(g.modulesDir, io.env);
  const selected = requested.length ? selectModules(catalog, requested) : catalog.map((m) => m.name);
  const runtime = openRuntime(io.env);
  const result = await checkHealth({ runtime, project, catalog, selected, wait: opts.wait, mounts: opts.mounts, strict: opts.strict, env: io.env, cwd: io.cwd });
  return { result, catalog, project, runtime };
}

export async function runHealth(io: CliIO, g: GlobalFlags, flags: HealthFlags): Promise<number> {
  const strict = Boolean(flags.strict);
  const { result: r } = await healthOf(io, g, flags.module ?? [], { wait: Boolean(flags.wait), mounts: true, strict });
  if (flags.json) {
    const json = { healthy: r.report.healthy, modules: r.report.modules.map(moduleJson), mounts: r.mounts.map((f) => findingJson(f, strict)) };
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    const s = styler(io);
    for (const m of r.report.modules) renderModule(io, m, s);
    if (!r.report.modules.length) writeLine(io.stdout, "no modules in the catalog");
    renderMounts(io, r.mounts, s, strict);
    writeLine(io.stdout, r.report.healthy ? s.green("all healthy") : s.red(`unhealthy: ${r.report.modules.filter((m) => !m.healthy).map((m) => m.name).join(", ")}`));
  }
  return r.report.healthy ? EXIT.ok : EXIT.error;
}

export async function runSmoke(io: CliIO, g: GlobalFlags, module: string, flags: SmokeFlags): Promise<number> {
  const mode = io.env.PLATFORMCTL_SMOKE_REMOTE_MODE ?? "";
  if (mode !== "" && mode !== "skip" && mode !== "run") {
    throw new UsageError("usage.smoke_remote_mode", `PLATFORMCTL_SMOKE_REMOTE_MODE=${mode.slice(0, 40)} is not one of skip, run`, {
      hint: "Set PLATFORMCTL_SMOKE_REMOTE_MODE=skip to report remote probes as skipped, or unset it to run them.",
    });
  }
  const { result: r, catalog, project, runtime } = await healthOf(io, g, [module], { wait: Boolean(flags.wait), mounts: false });
  const verdict = r.report.modules[0];
  const m = catalog.find((x) => x.name === module);
  if (!verdict || !m) throw new InternalError(`module ${module} was selected but not judged`);
  const { runProbes } = await import("../health/run-probes.js");
  const probes = await runProbes({
    runtime,
    project,
    module: m,
    containers: r.observed.containers,
    env: io.env,
    cwd: io.cwd,
    secrets: r.secrets,
    remoteMode: mode === "skip" ? "skip" : "run",
  });
  const passed = verdict.healthy && probes.every((p) => p.status !== "failed");
  if (flags.json) {
    const json = { module: verdict.name, healthy: verdict.healthy, services: verdict.services.map(serviceJson), probes: probes.map(probeJson), passed };
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    const s = styler(io);
    renderModule(io, verdict, s);
    for (const p of probes) renderProbe(io, p, s);
    if (!probes.length) writeLine(io.stdout, s.dim("  (no smoke probes declared)"));
    const failed = probes.filter((p) => p.status === "failed").length;
    const skipped = probes.filter((p) => p.status === "skipped").length;
    const summary = `${probes.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped${verdict.healthy ? "" : "; module unhealthy"}`;
    writeLine(io.stdout, passed ? s.green(`smoke passed: ${summary}`) : s.red(`smoke failed: ${summary}`));
  }
  return passed ? EXIT.ok : EXIT.error;
}

function serviceJson(v: ServiceVerdict) {
  return { name: v.name, expected_state: v.expectedState, state: v.state, exit_code: v.exitCode, health: v.health, healthy: v.healthy, reason: v.reason };
}

function moduleJson(m: ModuleVerdict) {
  return { name: m.name, healthy: m.healthy, services: m.services.map(serviceJson) };
}

function findingJson(f: MountFinding, strict: boolean) {
  return { code: f.code, severity: mountSeverity(f.code, strict), module: f.module, service: f.service, path: f.path, message: f.message, remedy: f.remedy };
}

function probeJson(p: ProbeResult) {
  return { name: p.name, kind: p.kind, status: p.status, duration_ms: p.durationMs, reason: p.reason, output: p.output };
}

type Styler = ReturnType<typeof styler>;

function renderModule(io: CliIO, m: ModuleVerdict, s: Styler): void {
  writeLine(io.stdout, `${s.bold(m.name)}  ${m.healthy ? s.green("healthy") : s.red("UNHEALTHY")}`);
  const width = Math.max(...m.services.map((v) => v.name.length));
  for (const v of m.services) {
    const mark = v.healthy ? s.green("ok  ") : s.red("FAIL");
    writeLine(io.stdout, `  ${mark} ${v.name.padEnd(width)}  ${v.state.padEnd(13)} ${v.healthy ? s.dim(v.reason) : v.reason}`);
  }
}

function renderMounts(io: CliIO, findings: readonly MountFinding[], s: Styler, strict: boolean): void {
  for (const f of findings) {
    const label = mountSeverity(f.code, strict) === "unhealthy" ? s.red("error:") : s.yellow("warning:");
    writeLine(io.stdout, `${label} ${f.code}: ${f.message}`);
    writeLine(io.stdout, `  ${s.dim("remedy:")} ${f.remedy}`);
  }
}

function renderProbe(io: CliIO, p: ProbeResult, s: Styler): void {
  const mark = p.status === "passed" ? s.green("passed ") : p.status === "skipped" ? s.yellow("skipped") : s.red("FAILED ");
  writeLine(io.stdout, `  probe ${mark} ${p.name} (${p.kind}, ${p.durationMs} ms)${p.reason ? `: ${p.reason}` : ""}`);
  if (p.output) for (const line of p.output.split("\n")) writeLine(io.stdout, `      ${s.dim("|")} ${line}`);
}
