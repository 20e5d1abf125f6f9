// apply's deferred logger: the same pino lines, in order and with the time they were logged; nothing below the level.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { deferredLogger } from "../../src/cli/deferred-logger.js";
import type { CliIO } from "../../src/cli/io.js";

function captured(env: Record<string, string | undefined> = {}): { io: CliIO; lines: () => Record<string, unknown>[] } {
  let text = "";
  const stream = new Writable({
    write: (c, _e, done) => {
      text += String(c);
      done();
    },
  });
  const io: CliIO = { stdout: stream, stderr: stream, env, cwd: process.cwd() };
  const lines = () =>
    text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { io, lines };
}

describe("deferredLogger", () => {
  it("writes the warn and error lines of the default level in the order they were logged, and no info line", async () => {
    const { io, lines } = captured();
    const { log, settled } = await deferredLogger(io, false);
    log.info({ a: 1 }, "hidden");
    log.warn({ holder: "x" }, "first");
    log.error({ current: "y" }, "second");
    log.info({ a: 2 }, "hidden too");
    await settled();
    log.warn({ n: 3 }, "third, after pino loaded");
    await settled();
    expect(lines().map((l) => [l.level, l.msg])).toEqual([
      [40, "first"],
      [50, "second"],
      [40, "third, after pino loaded"],
    ]);
    expect(lines()[0]).toMatchObject({ holder: "x", pid: process.pid });
  });

  it("stamps a line logged before pino loaded with the time it was logged, not the time it was written", async () => {
    const { io, lines } = captured();
    const { log, settled } = await deferredLogger(io, false);
    const before = Date.now();
    log.warn({}, "early");
    const after = Date.now();
    await new Promise((r) => setTimeout(r, 30));
    await settled();
    const time = Date.parse(String(lines()[0]?.time));
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
  });

  it("writes info lines with --verbose and at PLATFORMCTL_LOG_LEVEL=info", async () => {
    for (const [env, verbose] of [[{}, true] as const, [{ PLATFORMCTL_LOG_LEVEL: "info" }, false] as const]) {
      const { io, lines } = captured(env);
      const { log, settled } = await deferredLogger(io, verbose);
      log.info({ action: "run-once" }, "action done");
      await settled();
      expect(lines().map((l) => l.msg)).toEqual(["action done"]);
    }
  });

  it("writes nothing at PLATFORMCTL_LOG_LEVEL=silent and settles without loading anything", async () => {
    const { io, lines } = captured({ PLATFORMCTL_LOG_LEVEL: "silent" });
    const { log, settled } = await deferredLogger(io, false);
    log.error({}, "not written");
    await settled();
    expect(lines()).toEqual([]);
  });

  it("rejects a level pino does not know, as pino itself does", async () => {
    const { io } = captured({ PLATFORMCTL_LOG_LEVEL: "bogus" });
    await expect(deferredLogger(io, false)).rejects.toThrow(/bogus/);
  });
});
