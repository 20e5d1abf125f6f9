// The one duration parser behind --timeout, --lock-wait and --backup-max-age, on plain strings.
import { describe, expect, it } from "vitest";
import { parseDuration } from "../../../src/cli/arguments/duration.js";
import { UsageError } from "../../../src/errors.js";

const ANY = { example: "5m" };

describe("parseDuration", () => {
  it.each([
    ["250ms", 250],
    ["30s", 30_000],
    ["5m", 300_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["300", 300_000],
    ["0", 0],
  ])("reads %s as %i ms", (text, ms) => {
    expect(parseDuration("--timeout", text, ANY)).toBe(ms);
  });

  it.each(["", "5 m", "-1s", "1.5h", "5w", "10M", "12345678s", "1h30m", "5m "])("refuses %j with a usage error naming the flag", (text) => {
    let thrown: unknown;
    try {
      parseDuration("--lock-wait", text, ANY);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).code).toBe("usage.duration");
    expect((thrown as UsageError).message).toContain("--lock-wait");
    expect((thrown as UsageError).hint).toContain("--lock-wait 5m");
  });

  it("refuses values outside the flag's bounds and names them", () => {
    const bounds = { minMs: 1000, maxMs: 86_400_000, example: "5m" };
    expect(parseDuration("--timeout", "1s", bounds)).toBe(1000);
    expect(parseDuration("--timeout", "24h", bounds)).toBe(86_400_000);
    expect(() => parseDuration("--timeout", "999ms", bounds)).toThrow("--timeout must be between 1s and 1d");
    expect(() => parseDuration("--timeout", "25h", bounds)).toThrow("--timeout must be between 1s and 1d");
  });
});
