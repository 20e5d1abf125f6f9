// The health report: human (per module its services, then mount warnings and a verdict line) or JSON.
import type { HealthResult } from "../../health/check-health.js";
import type { ModuleVerdict, ServiceVerdict } from "../../health/judge-health.js";
import { mountSeverity, type MountFinding } from "../../health/mount-sanity.js";
import { styler, writeLine, type CliIO } from "../io.js";

export interface HealthView {
  report(result: HealthResult): void;
}

/** `strict` shows layout warnings as errors, as `health --strict` judges them. */
export function healthView(io: CliIO, json: boolean, strict: boolean): HealthView {
  if (json) {
    return {
      report: (r) =>
        io.stdout.write(
          `${JSON.stringify({ healthy: r.report.healthy, modules: r.report.modules.map(moduleJson), mounts: r.mounts.map((f) => findingJson(f, strict)) }, null, 2)}\n`,
        ),
    };
  }
  const s = styler(io);
  return {
    report(r) {
      for (const m of r.report.modules) writeModule(io, m, s);
      if (!r.report.modules.length) writeLine(io.stdout, "no modules in the catalog");
      for (const f of r.mounts) {
        const label = mountSeverity(f.code, strict) === "unhealthy" ? s.red("error:") : s.yellow("warning:");
        writeLine(io.stdout, `${label} ${f.code}: ${f.message}`);
        writeLine(io.stdout, `  ${s.dim("remedy:")} ${f.remedy}`);
      }
      writeLine(
        io.stdout,
        r.report.healthy
          ? s.green("all healthy")
          : s.red(
              `unhealthy: ${r.report.modules
                .filter((m) => !m.healthy)
                .map((m) => m.name)
                .join(", ")}`,
            ),
      );
    },
  };
}

export function serviceJson(v: ServiceVerdict) {
  return {
    name: v.name,
    expected_state: v.expectedState,
    state: v.state,
    exit_code: v.exitCode,
    health: v.health,
    healthy: v.healthy,
    reason: v.reason,
  };
}

function moduleJson(m: ModuleVerdict) {
  return { name: m.name, healthy: m.healthy, services: m.services.map(serviceJson) };
}

function findingJson(f: MountFinding, strict: boolean) {
  return {
    code: f.code,
    severity: mountSeverity(f.code, strict),
    module: f.module,
    service: f.service,
    path: f.path,
    message: f.message,
    remedy: f.remedy,
  };
}

/** One module's verdict as text lines; smoke shows it too. */
export function writeModule(io: CliIO, m: ModuleVerdict, s: ReturnType<typeof styler>): void {
  writeLine(io.stdout, `${s.bold(m.name)}  ${m.healthy ? s.green("healthy") : s.red("UNHEALTHY")}`);
  const width = Math.max(...m.services.map((v) => v.name.length));
  for (const v of m.services) {
    const mark = v.healthy ? s.green("ok  ") : s.red("FAIL");
    writeLine(io.stdout, `  ${mark} ${v.name.padEnd(width)}  ${v.state.padEnd(13)} ${v.healthy ? s.dim(v.reason) : v.reason}`);
  }
}
