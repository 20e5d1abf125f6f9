// Views of a Plan: human text and a compact Markdown table (JSON is the plan itself). Values shown are plan facts only.
import type { Drift, Facts, ModulePlan, Plan } from "../../plan/plan.js";

type Style = {
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
  bold: (s: string) => string;
  dim: (s: string) => string;
};
const plain: Style = { red: (s) => s, green: (s) => s, yellow: (s) => s, bold: (s) => s, dim: (s) => s };

function facts(f: Facts): string {
  return Object.entries(f)
    .filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`)
    .join(" ");
}

const SYMBOL: Record<string, string> = {
  "service.missing": "+",
  "container.orphaned": "-",
  "container.duplicate": "!",
};

export function driftLine(d: Drift): string {
  const details =
    d.kind === "config.changed"
      ? `fields: ${(d.detail.fields as string[]).join(", ")}`
      : d.kind === "service.missing"
        ? ""
        : facts(d.observed);
  const expected = d.kind === "image.changed" || d.kind === "image.updated" ? ` (expected ${facts(d.expected)})` : "";
  return `${SYMBOL[d.kind] ?? "~"} ${d.service}  ${d.kind}${details ? `  ${details}` : ""}${expected}`;
}

function moduleHeader(m: ModulePlan): string {
  const tags = [
    m.declared ? null : "not declared",
    m.stateful ? "stateful" : null,
    m.expected_state ? `expected ${m.expected_state}` : null,
  ].filter(Boolean);
  return `${m.name}${tags.length ? ` (${tags.join(", ")})` : ""}`;
}

/** Human-readable plan: per module its state, drift lines and planned actions, then a summary line. */
export function renderPlanText(plan: Plan, s: Style = plain): string {
  const lines: string[] = [
    `Plan for project "${plan.project}" (${plan.summary.modules} module${plan.summary.modules === 1 ? "" : "s"})`,
    "",
  ];
  for (const m of plan.modules) {
    if (m.in_sync) {
      const waits = m.actions.filter((a) => a.type === "wait");
      lines.push(
        `${s.green("✓")} ${moduleHeader(m)}: in sync${waits.length ? ` (waiting: ${waits.map((a) => `${a.service} ${a.cause}`).join(", ")})` : ""}`,
      );
    } else {
      lines.push(`${s.yellow("~")} ${s.bold(moduleHeader(m))}: ${m.drift.length} drift item${m.drift.length === 1 ? "" : "s"}`);
      for (const d of m.drift) lines.push(`    ${driftLine(d)}`);
      for (const a of m.actions) lines.push(`    ${s.dim("->")} ${a.type} ${a.container ?? a.service} ${s.dim(`(cause: ${a.cause})`)}`);
      if (m.actions.length === 0) lines.push(`    ${s.dim("-> no action planned (orphans and duplicates are removed only with --prune)")}`);
    }
    if (ratcheted(m)) lines.push(`    ${s.red("stateful:")} ${RATCHET_NOTE}`);
    for (const w of m.warnings) lines.push(`    ${s.yellow("warning:")} ${w}`);
  }
  lines.push("");
  const { modules, in_sync, drifted } = plan.summary;
  lines.push(
    `Summary: ${modules} module${modules === 1 ? "" : "s"}, ${in_sync} in sync, ${drifted} drifted. Fingerprint ${plan.fingerprint.slice(0, 19)}…`,
  );
  return `${lines.join("\n")}\n`;
}

const ratcheted = (m: ModulePlan) => m.drift.some((d) => d.kind === "module.stateful_removed");
const RATCHET_NOTE =
  "the manifest says stateful: false, but live resources are labelled dev.platformctl.stateful=true (module.stateful_removed): it is still gated as stateful, and applying it needs the maintenance lane (runbooks/upgrade-stateful-module.md).";

const cell = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A compact Markdown table for PR comments and $GITHUB_STEP_SUMMARY. */
export function renderPlanMarkdown(plan: Plan): string {
  const lines = [
    `### platformctl plan — project \`${plan.project}\``,
    "",
    `${plan.summary.modules} modules · ${plan.summary.in_sync} in sync · **${plan.summary.drifted} drifted** · fingerprint \`${plan.fingerprint.slice(0, 19)}…\``,
    "",
  ];
  // The ratchet goes first, above the table: a PR flipping `stateful: false` must not read as a harmless change.
  for (const m of plan.modules.filter(ratcheted)) lines.push(`> 🛑 **\`${cell(m.name)}\`: stateful flag removed** — ${RATCHET_NOTE}`, "");
  lines.push("| module | stateful | expected | drift | actions |", "|---|---|---|---|---|");
  for (const m of plan.modules) {
    const drift = m.in_sync ? "✅ in sync" : m.drift.map((d) => `\`${d.kind}\` ${d.service}`).join("<br>");
    const actions = m.actions.length ? m.actions.map((a) => `${a.type} ${a.container ?? a.service}`).join("<br>") : "—";
    lines.push(
      `| ${cell(m.name)}${m.declared ? "" : " (not declared)"} | ${ratcheted(m) ? "**yes (manifest says no)**" : m.stateful ? "yes" : "no"} | ${m.expected_state ?? "—"} | ${cell(drift)} | ${cell(actions)} |`,
    );
  }
  const warnings = plan.modules.flatMap((m) => m.warnings.map((w) => `${m.name}: ${w}`));
  if (warnings.length) lines.push("", ...warnings.map((w) => `> ⚠️ ${cell(w)}`));
  return `${lines.join("\n")}\n`;
}
