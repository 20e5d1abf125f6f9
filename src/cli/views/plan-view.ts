// The plan as human text, a Markdown table, or JSON (the plan itself, schema/plan.schema.json).
import type { Plan } from "../../plan/plan.js";
import { styler, type CliIO } from "../io.js";
import { renderPlanMarkdown, renderPlanText } from "./render-plan.js";

export interface PlanView {
  plan(plan: Plan): void;
}

export function planView(io: CliIO, kind: "human" | "json" | "markdown"): PlanView {
  if (kind === "json") return { plan: (p) => io.stdout.write(`${JSON.stringify(p, null, 2)}\n`) };
  if (kind === "markdown") return { plan: (p) => io.stdout.write(renderPlanMarkdown(p)) };
  return { plan: (p) => io.stdout.write(renderPlanText(p, styler(io))) };
}
