// The one duration parser behind every duration flag (--timeout, --lock-wait, --backup-max-age).
import { UsageError } from "../../errors.js";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Bounds of one flag, in milliseconds (inclusive); `example` is shown in the hint. */
export interface DurationBounds {
  minMs?: number;
  maxMs?: number;
  example: string;
}

/**
 * `250ms`, `30s`, `5m`, `24h`, `7d`, or a bare number of seconds -> milliseconds.
 * Refuses anything else, and values outside the flag's bounds, with a usage error naming the flag.
 */
export function parseDuration(flag: string, text: string, bounds: DurationBounds): number {
  const m = /^([0-9]{1,7})(ms|s|m|h|d)?$/.exec(text);
  const hint = `Write a duration such as 30s, 5m, 24h or 7d (a bare number is seconds), e.g. ${flag} ${bounds.example}.`;
  if (!m) throw new UsageError("usage.duration", `invalid ${flag} "${text.slice(0, 40)}"`, { hint });
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? "s") as keyof typeof UNIT_MS];
  const { minMs = 0, maxMs = Number.MAX_SAFE_INTEGER } = bounds;
  if (ms < minMs || ms > maxMs) {
    throw new UsageError("usage.duration", `${flag} must be between ${describeMs(minMs)} and ${describeMs(maxMs)}`, { hint });
  }
  return ms;
}

function describeMs(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
