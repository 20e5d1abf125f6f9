// Commander helpers for repeatable flags: collect every value, or refuse a flag given twice.
import { UsageError } from "../../errors.js";

/** Commander argParser for a repeatable flag (`-m a -m b` -> ["a", "b"]). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** One value for a flag that must be given at most once (`--backup-ref a --backup-ref b` is refused, not "last wins"). */
export function single(flag: string, values: readonly string[] | undefined): string | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length > 1)
    throw new UsageError("usage.repeated_flag", `${flag} was given ${values.length} times; give it once`, {
      hint: "Pass exactly one value.",
    });
  return values[0];
}
