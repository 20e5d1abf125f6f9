// The one loader of a saved plan (`plan --out FILE`), for `scope --plan` and `apply --plan`.
import { PlanSchema, type Plan } from "../plan/plan.js";
import { UsageError } from "../errors.js";
import { readFailure, readRegularFile } from "../state/read-regular-file.js";

const HINT = "Write one with `platformctl plan --out FILE`.";

/**
 * Reads and validates a saved plan. A file that cannot be read, is not JSON or is not a format-1 plan is refused
 * with a usage error naming the file; whether it still matches the live state is the caller's question.
 */
export async function loadSavedPlan(file: string): Promise<Plan> {
  const text = await readRegularFile(file).then(
    (b) => b.toString("utf8"),
    (e: unknown) => {
      throw new UsageError("usage.plan_file", `cannot read the plan file ${file} (${readFailure(e)})`, { hint: HINT });
    },
  );
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError("plan.invalid_file", `${file} is not JSON`, { hint: HINT });
  }
  const saved = PlanSchema.safeParse(raw);
  if (!saved.success) throw new UsageError("plan.invalid_file", `${file} is not a platformctl plan (format_version 1)`, { hint: HINT });
  return saved.data;
}
