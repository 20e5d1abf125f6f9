// The workflow linter: pure rules over one parsed workflow file, each finding with its file:line and the fix.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Pair, type Scalar, type YAMLMap } from "yaml";
import { exposedMentions, gateFlags, platformctlInvocations, type Invocation } from "./shell-scan.js";
import { classifyPath, contextPaths, findExpressions } from "./workflow-expressions.js";

/**
 * Every rule a finding can carry, with what it means and how to fix it. Codes are stable (CI matches on them);
 * views show `meaning` and `fix`.
 */
export const WORKFLOW_RULES = {
  "yaml.invalid": {
    meaning: "The file is not valid YAML, or not a workflow mapping.",
    fix: "Fix the syntax at the position shown.",
  },
  "script.injection": {
    meaning:
      "An expression that a dispatcher, a pull request author or an earlier step can shape is pasted into a run: script before the shell reads it, so crafted input runs as code.",
    fix: "Pass the value through the step's env: (e.g. `MODULE: ${{ inputs.module }}`) and use \"$MODULE\" in the script.",
  },
  "secret.exposed": {
    meaning:
      "A secret is pasted into a script, put on a command line or printed: command lines are visible to every process on the runner, and output ends up in logs.",
    fix: "Bind it in env: and let the program read its environment (platformctl reads manifest variables from it); when a tool needs it, pipe it on stdin (`printf '%s' \"$X\" | tool --password-stdin`).",
  },
  "apply.trigger": {
    meaning: "A workflow that runs `platformctl apply` can be started by something other than an operator's workflow_dispatch (a push, a pull request, a schedule, a call).",
    fix: "Trigger apply workflows with `on: workflow_dispatch` only; keep checks for other events in a read-only workflow.",
  },
  "apply.no_gate": {
    meaning:
      "An apply step is not preceded, in its job, by a step running `platformctl scope --fail-on-blocked` with the same inputs, so a blocked dispatch is not stopped in its own visible step before apply starts.",
    fix: "Add a step before it running `platformctl scope --module \"$MODULE\" --plan plan.json --fail-on-blocked` with the same gate flags and the same env: inputs as the apply step.",
  },
  "apply.gate_bypassed": {
    meaning:
      "The gate step cannot stop the apply: its failure is ignored (`|| true`, `continue-on-error`, a shell condition, `set +e`, an `if:` on the gate step) or the apply step also runs after a failure (`if: always()`).",
    fix: "Run scope as a plain command in an unconditional step, and give the apply step no `if:` that runs after a failure.",
  },
  "apply.no_concurrency": {
    meaning: "An apply workflow has no concurrency group, or cancels the run in progress: two dispatches race for the lock, and a cancelled apply can stop a one-shot half-way.",
    fix: "Add `concurrency: { group: platformctl-apply-${{ vars.PLATFORMCTL_PROJECT || 'platform' }}, cancel-in-progress: false }`.",
  },
  "action.unpinned": {
    meaning: "An action or reusable workflow is referenced by a branch, or without a ref, so what runs can change without a commit in this repository.",
    fix: "Pin it to a full 40-hex commit SHA (the version in a comment) or a release tag, e.g. `uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2`.",
  },
} as const;

export type WorkflowRule = keyof typeof WORKFLOW_RULES;

export interface WorkflowFinding {
  file: string;
  line: number;
  column: number;
  rule: WorkflowRule;
  message: string;
  fix: string;
  job?: string;
  step?: string;
}

/** `file:line:column rule: message` (the fix goes on its own line in views). */
export const formatFinding = (f: WorkflowFinding): string => `${f.file}:${f.line}:${f.column} ${f.rule}: ${f.message}`;

const VERSION_TAG = /^v?[0-9]+(?:\.[0-9]+){0,2}(?:[-+][0-9A-Za-z.-]+)?$/;
const FULL_SHA = /^[0-9a-f]{40}$/;

/** Why a `uses:` value is not pinned, or undefined when it is (local actions, a full SHA, a version tag, a digest). */
export function unpinnedReason(uses: string): string | undefined {
  const v = uses.trim();
  if (v.startsWith("./") || v.startsWith("../")) return undefined;
  if (v.includes("${{")) return `\`uses: ${v}\` is computed by an expression`;
  if (v.startsWith("docker://")) {
    if (/@sha256:[0-9a-f]{64}$/.test(v)) return undefined;
    const image = v.slice("docker://".length);
    const tag = image.lastIndexOf(":") > image.lastIndexOf("/") ? image.slice(image.lastIndexOf(":") + 1) : "";
    if (tag && tag !== "latest" && VERSION_TAG.test(tag)) return undefined;
    return `\`uses: ${v}\` names a container image without a digest or version tag`;
  }
  const at = v.lastIndexOf("@");
  if (at === -1) return `\`uses: ${v}\` has no ref: it runs whatever the default branch holds`;
  const ref = v.slice(at + 1);
  if (FULL_SHA.test(ref) || VERSION_TAG.test(ref)) return undefined;
  return `\`uses: ${v}\` is pinned to \`${ref}\`, a branch or moving ref`;
}

interface Ctx {
  file: string;
  text: string;
  lc: LineCounter;
  out: WorkflowFinding[];
}

function pairOf(map: unknown, key: string): Pair | undefined {
  if (!isMap(map)) return undefined;
  return (map as YAMLMap).items.find((p) => isScalar(p.key) && String((p.key as Scalar).value) === key) as Pair | undefined;
}

const valueAt = (map: unknown, key: string): unknown => pairOf(map, key)?.value;
const scalarText = (node: unknown): string | undefined => (isScalar(node) && node.value !== null && node.value !== undefined ? String(node.value) : undefined);

function at(ctx: Ctx, node: unknown): { line: number; column: number } {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (!range) return { line: 1, column: 1 };
  const p = ctx.lc.linePos(range[0]);
  return { line: p.line, column: p.col };
}

/** Position of an offset inside a scalar's decoded value, mapped back to the source (exact for literal blocks and single-line scalars). */
function within(ctx: Ctx, node: Scalar, offset: number): { line: number; column: number } {
  const value = String(node.value);
  const before = value.slice(0, offset);
  const k = before.split("\n").length - 1;
  const colInLine = offset - (before.lastIndexOf("\n") + 1);
  const start = at(ctx, node);
  if (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") {
    // the content starts on the line after the block header; a literal block keeps its lines one to one
    const line = start.line + 1 + k;
    const lines = ctx.text.split("\n");
    const raw = lines[line - 1] ?? "";
    const decoded = value.split("\n")[k] ?? "";
    const indent = Math.max(0, raw.length - decoded.length);
    return { line, column: indent + colInLine + 1 };
  }
  const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE" ? 1 : 0;
  return { line: start.line + k, column: k === 0 ? start.column + quoted + colInLine : colInLine + 1 };
}

function add(ctx: Ctx, where: { line: number; column: number }, rule: WorkflowRule, message: string, extra: { job?: string; step?: string } = {}): void {
  ctx.out.push({ file: ctx.file, line: where.line, column: where.column, rule, message, fix: WORKFLOW_RULES[rule].fix, ...extra });
}

/** env: entries as name -> expression text (only those holding `${{ }}`), plus every name bound to a secret. */
function envBindings(node: unknown): { expressions: Map<string, string>; secretNames: Set<string> } {
  const expressions = new Map<string, string>();
  const secretNames = new Set<string>();
  if (!isMap(node)) return { expressions, secretNames };
  for (const p of (node as YAMLMap).items) {
    const name = scalarText(p.key);
    const value = scalarText(p.value);
    if (!name || value === undefined) continue;
    const exprs = findExpressions(value);
    if (exprs.length === 0) continue;
    expressions.set(name, exprs.map((e) => e.inner.replace(/\s+/g, " ")).join(" "));
    if (exprs.some((e) => contextPaths(e.inner).some((p2) => classifyPath(p2) === "secret"))) secretNames.add(name);
  }
  return { expressions, secretNames };
}

/** Dispatch inputs a step binds in env: (name -> expression), the part of "the same inputs" that env carries. */
function inputBindings(expressions: Map<string, string>): string {
  const entries = [...expressions].filter(([, e]) => contextPaths(e).some((p) => p.startsWith("inputs.") || p.startsWith("github.event.inputs.")));
  return JSON.stringify(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function checkExpressionsInScript(ctx: Ctx, node: Scalar, where: string, names: { job: string; step: string }): void {
  for (const e of findExpressions(String(node.value))) {
    const paths = contextPaths(e.inner);
    const secret = paths.filter((p) => classifyPath(p) === "secret");
    const untrusted = paths.filter((p) => classifyPath(p) === "untrusted");
    const pos = within(ctx, node, e.start);
    if (secret.length) add(ctx, pos, "secret.exposed", `\`\${{ ${e.inner} }}\` pastes a secret into the ${where} script of step "${names.step}"`, names);
    if (untrusted.length) add(ctx, pos, "script.injection", `untrusted \`\${{ ${e.inner} }}\` inside the ${where} script of step "${names.step}" (script injection)`, names);
  }
}

function isTruthy(node: unknown): boolean {
  const v = isScalar(node) ? node.value : undefined;
  if (v === true) return true;
  if (typeof v === "string") return v.trim() !== "" && v.trim() !== "false";
  return false;
}

interface StepInfo {
  index: number;
  name: string;
  node: YAMLMap;
  script: string | undefined;
  runNode: Scalar | undefined;
  invocations: Invocation[];
  inputs: string;
  flags: string[];
  ifText: string | undefined;
  continueOnError: boolean;
}

function stepName(step: YAMLMap, index: number): string {
  const name = scalarText(valueAt(step, "name"));
  if (name) return name;
  const uses = scalarText(valueAt(step, "uses"));
  if (uses) return uses;
  const run = scalarText(valueAt(step, "run"));
  return run ? run.split("\n")[0]!.slice(0, 60) : `step ${index + 1}`;
}

/** Why a scope step's exit code would not stop the job, or undefined. */
function gateBypass(step: StepInfo, scope: Invocation): string | undefined {
  if (step.continueOnError) return `the gate step "${step.name}" has continue-on-error`;
  if (step.ifText !== undefined && !/^\s*(\$\{\{\s*)?success\(\)(\s*\}\})?\s*$/.test(step.ifText)) return `the gate step "${step.name}" only runs when \`${step.ifText}\``;
  if (scope.command.conditional) return `the scope command in "${step.name}" is a condition, so its exit code does not fail the step`;
  if (scope.command.next === "||") {
    const fallback = scope.following?.words.map((w) => w.value) ?? [];
    const failsAnyway = fallback[0] === "exit" && fallback[1] !== undefined && fallback[1] !== "0";
    if (!failsAnyway) return `the scope command in "${step.name}" is followed by \`|| ${fallback.join(" ")}\``;
  }
  const script = step.script ?? "";
  const setE = script.slice(0, Math.max(0, scope.offset)).match(/\bset\s+[+]e\b|\bset\s+\+o\s+errexit\b/);
  if (setE) return `"${step.name}" turns off errexit (\`${setE[0]}\`) before the scope command`;
  return undefined;
}

/** Lints one workflow file. Pure: `text` is the file's content; nothing is read or run. */
export function lintWorkflow(file: string, text: string): WorkflowFinding[] {
  const lc = new LineCounter();
  const ctx: Ctx = { file, text, lc, out: [] };
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const p = lc.linePos(e.pos[0]);
      add(ctx, { line: p.line, column: p.col }, "yaml.invalid", e.message.split("\n")[0] ?? "invalid YAML");
    }
    return ctx.out;
  }
  const root = doc.contents;
  if (!isMap(root)) {
    add(ctx, { line: 1, column: 1 }, "yaml.invalid", "the document is not a mapping with `on:` and `jobs:`");
    return ctx.out;
  }
  const workflowEnv = envBindings(valueAt(root, "env"));
  const onPair = pairOf(root, "on");
  const jobs = valueAt(root, "jobs");
  const applySteps: { job: string; jobNode: YAMLMap; step: StepInfo; invocation: Invocation }[] = [];

  if (isMap(jobs)) {
    for (const jobPair of (jobs as YAMLMap).items) {
      const job = scalarText(jobPair.key) ?? "job";
      const jobNode = jobPair.value;
      if (!isMap(jobNode)) continue;
      const jobUses = valueAt(jobNode, "uses");
      const jobUsesText = scalarText(jobUses);
      if (jobUsesText !== undefined) {
        const why = unpinnedReason(jobUsesText);
        if (why) add(ctx, at(ctx, jobUses), "action.unpinned", `${why} (job ${job})`, { job });
      }
      const jobEnv = envBindings(valueAt(jobNode, "env"));
      const steps = valueAt(jobNode, "steps");
      if (!isSeq(steps)) continue;
      const infos: StepInfo[] = [];
      steps.items.forEach((s, index) => {
        if (!isMap(s)) return;
        const step = s as YAMLMap;
        const name = stepName(step, index);
        const names = { job, step: name };
        const uses = valueAt(step, "uses");
        const usesText = scalarText(uses);
        if (usesText !== undefined) {
          const why = unpinnedReason(usesText);
          if (why) add(ctx, at(ctx, uses), "action.unpinned", why, names);
          const script = valueAt(valueAt(step, "with"), "script");
          if (/github-script/.test(usesText) && isScalar(script)) checkExpressionsInScript(ctx, script, "github-script", names);
        }
        const stepEnv = envBindings(valueAt(step, "env"));
        const runNode = valueAt(step, "run");
        let script: string | undefined;
        let invocations: Invocation[] = [];
        if (isScalar(runNode)) {
          script = String(runNode.value ?? "");
          checkExpressionsInScript(ctx, runNode, "run:", names);
          const secretNames = new Set([...workflowEnv.secretNames, ...jobEnv.secretNames, ...stepEnv.secretNames]);
          for (const m of exposedMentions(script, secretNames)) {
            add(ctx, within(ctx, runNode, Math.max(0, m.offset)), "secret.exposed", `$${m.name} holds a secret and is put on a command line or printed in step "${name}"`, names);
          }
          invocations = platformctlInvocations(script);
        }
        const info: StepInfo = {
          index,
          name,
          node: step,
          script,
          runNode: isScalar(runNode) ? runNode : undefined,
          invocations,
          inputs: inputBindings(stepEnv.expressions),
          flags: script === undefined ? [] : gateFlags(script),
          ifText: scalarText(valueAt(step, "if")),
          continueOnError: isTruthy(valueAt(step, "continue-on-error")),
        };
        infos.push(info);
        for (const inv of invocations) if (inv.sub === "apply") applySteps.push({ job, jobNode, step: info, invocation: inv });
      });

      for (const a of applySteps.filter((x) => x.job === job)) {
        const names = { job, step: a.step.name };
        const where = a.step.runNode ? within(ctx, a.step.runNode, Math.max(0, a.invocation.offset)) : at(ctx, a.step.node);
        const gates = infos
          .filter((s) => s.index < a.step.index)
          .flatMap((s) => s.invocations.filter((i) => i.sub === "scope" && (i.args.includes("--fail-on-blocked") || /--fail-on-blocked\b/.test(s.script ?? ""))).map((i) => ({ s, i })));
        if (gates.length === 0) {
          add(ctx, where, "apply.no_gate", `step "${a.step.name}" runs platformctl apply, but no earlier step of job ${job} runs \`platformctl scope --fail-on-blocked\``, names);
        } else {
          const same = gates.filter(({ s }) => s.inputs === a.step.inputs && JSON.stringify(s.flags) === JSON.stringify(a.step.flags));
          if (same.length === 0) {
            const g = gates[gates.length - 1]!.s;
            const diff = [
              JSON.stringify(g.flags) !== JSON.stringify(a.step.flags) ? `flags ${g.flags.join(" ") || "(none)"} vs ${a.step.flags.join(" ") || "(none)"}` : "",
              g.inputs !== a.step.inputs ? "different env: inputs" : "",
            ].filter(Boolean);
            add(ctx, where, "apply.no_gate", `the gate step "${g.name}" does not pass the same inputs as "${a.step.name}" (${diff.join("; ")})`, names);
          } else {
            const bypass = same.map(({ s, i }) => gateBypass(s, i)).find((b) => b !== undefined);
            if (bypass && same.every(({ s, i }) => gateBypass(s, i) !== undefined)) add(ctx, where, "apply.gate_bypassed", bypass, names);
          }
        }
        if (a.step.ifText !== undefined && /\b(always|failure|cancelled)\s*\(/.test(a.step.ifText)) {
          add(ctx, at(ctx, valueAt(a.step.node, "if")), "apply.gate_bypassed", `step "${a.step.name}" runs platformctl apply with \`if: ${a.step.ifText}\`, also after the gate failed`, names);
        }
        if (a.step.continueOnError) {
          add(ctx, at(ctx, valueAt(a.step.node, "continue-on-error")), "apply.gate_bypassed", `step "${a.step.name}" has continue-on-error: a failed apply would not fail the run`, names);
        }
        const concurrency = valueAt(jobNode, "concurrency") ?? valueAt(root, "concurrency");
        const concWhere = at(ctx, pairOf(jobNode, "concurrency")?.key ?? pairOf(root, "concurrency")?.key ?? jobPair.key);
        if (concurrency === undefined || concurrency === null) {
          add(ctx, at(ctx, jobPair.key), "apply.no_concurrency", `job ${job} runs platformctl apply without a concurrency group`, names);
        } else if (isScalar(concurrency)) {
          if (!scalarText(concurrency)?.trim()) add(ctx, concWhere, "apply.no_concurrency", `job ${job} has an empty concurrency group`, names);
        } else if (isMap(concurrency)) {
          const group = scalarText(valueAt(concurrency, "group"));
          const cancel = valueAt(concurrency, "cancel-in-progress");
          if (!group?.trim()) add(ctx, concWhere, "apply.no_concurrency", `job ${job}: the concurrency block has no group`, names);
          if (cancel !== undefined && !(isScalar(cancel) && (cancel.value === false || cancel.value === "false"))) {
            add(ctx, at(ctx, cancel), "apply.no_concurrency", `job ${job}: cancel-in-progress must be false for an apply (it is \`${scalarText(cancel) ?? "not false"}\`)`, names);
          }
        }
      }
    }
  } else {
    add(ctx, { line: 1, column: 1 }, "yaml.invalid", "the workflow has no `jobs:` mapping");
  }

  if (applySteps.length) {
    const on = onPair?.value;
    const only =
      (isScalar(on) && on.value === "workflow_dispatch") ||
      (isSeq(on) && on.items.length === 1 && isScalar(on.items[0]) && (on.items[0] as Scalar).value === "workflow_dispatch") ||
      (isMap(on) && (on as YAMLMap).items.length === 1 && isPair((on as YAMLMap).items[0]) && scalarText((on as YAMLMap).items[0]!.key) === "workflow_dispatch");
    if (!only) {
      const events = isScalar(on) ? String(on.value) : isSeq(on) ? on.items.map(scalarText).join(", ") : isMap(on) ? (on as YAMLMap).items.map((p) => scalarText(p.key)).join(", ") : "nothing";
      const first = applySteps[0]!;
      add(ctx, at(ctx, onPair?.key ?? root), "apply.trigger", `step "${first.step.name}" (job ${first.job}) runs platformctl apply, but the workflow is triggered by ${events}, not only workflow_dispatch`, { job: first.job, step: first.step.name });
    }
  }

  return ctx.out.sort((a, b) => a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
}
