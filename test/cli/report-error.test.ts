// The CLI's one top-level error handler: text on stderr, the exit code from the error registry, stacks only with --verbose.
import { CommanderError } from "commander";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CliIO } from "../../src/cli/io.js";
import { reportError } from "../../src/cli/report-error.js";
import { EXIT, InternalError, InterruptedError, PlatformError, UsageError } from "../../src/errors.js";

function captured(): { io: CliIO; stdout: () => string; stderr: () => string } {
  const sink = () => {
    let text = "";
    return {
      stream: new Writable({
        write: (c, _e, done) => {
          text += String(c);
          done();
        },
      }),
      text: () => text,
    };
  };
  const out = sink();
  const err = sink();
  return { io: { stdout: out.stream, stderr: err.stream, env: { NO_COLOR: "1" }, cwd: "/" }, stdout: out.text, stderr: err.text };
}

function report(e: unknown, verbose = false) {
  const c = captured();
  const code = reportError(e, c.io, verbose);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

describe("reportError", () => {
  it("exits with the registered code of each error: 3 blocked, 4 lock held, 5 stale plan, 1 usage", () => {
    expect(report(new PlatformError("policy.blocked", "blocked")).code).toBe(EXIT.blocked);
    expect(report(new PlatformError("lock.held", "held")).code).toBe(EXIT.lockHeld);
    expect(report(new PlatformError("plan.stale", "stale")).code).toBe(EXIT.stalePlan);
    expect(report(new UsageError("usage.limit", "bad --limit")).code).toBe(EXIT.error);
  });

  it("exits 128+n for an interrupted command", () => {
    expect(report(new InterruptedError(2, "interrupted by SIGINT")).code).toBe(130);
    expect(report(new InterruptedError(15, "interrupted by SIGTERM")).code).toBe(143);
  });

  it("prints message, detail and hint on stderr only, and no stack without --verbose", () => {
    const r = report(new PlatformError("lock.held", "apply already running", { detail: "held by pid 1", hint: "Wait for it." }));
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("error: apply already running\nheld by pid 1\nhint: Wait for it.\n");
  });

  it("shows an InternalError as a bug with a request to report it, with the stack only under --verbose", () => {
    const quiet = report(new InternalError("plan names a service the module does not declare"));
    expect(quiet.code).toBe(EXIT.error);
    expect(quiet.stderr).toContain("internal error: plan names a service the module does not declare");
    expect(quiet.stderr).toContain("This is a bug in platformctl");
    expect(quiet.stderr).toContain("report it");
    expect(quiet.stderr).not.toContain("    at ");
    expect(report(new InternalError("bug"), true).stderr).toContain("    at ");
  });

  it("treats an error that is not a platformctl error as a bug too", () => {
    const r = report(new TypeError("x is undefined"));
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toContain("internal error: x is undefined");
    expect(r.stderr).toContain("This is a bug in platformctl");
  });

  it("exits 0 for help and version, 1 for a usage error commander already printed", () => {
    expect(report(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)")).code).toBe(EXIT.ok);
    expect(report(new CommanderError(1, "commander.unknownOption", "error: unknown option")).code).toBe(EXIT.error);
  });
});
