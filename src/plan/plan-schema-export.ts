// Derives schema/plan.schema.json from the zod plan definition (the committed file is checked against it).
import { z } from "zod";
import { PlanSchema } from "./plan.js";

export function planJsonSchema(): Record<string, unknown> {
  const { $schema: _drop, ...generated } = z.toJSONSchema(PlanSchema, { target: "draft-2020-12" }) as Record<string, unknown>;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://platformctl.dev/schema/plan.schema.json",
    title: "platformctl plan, format_version 1",
    ...generated,
  };
}
