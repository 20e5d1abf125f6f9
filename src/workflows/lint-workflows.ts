// The workflow linter: pure rules over one parsed workflow file, each finding with its file:line and the fix.
import { type Alias, type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Scalar, type YAMLMap } from "yaml";
import { executedVariables, exposedMentions, gateFlags, type Invocation, platformctlInvocations } from "./shell-scan.js";
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
    fix: 'Pass the value through the step\'s env: (e.g. `MODULE: ${{ inputs.module }}`) and use "$MODULE" in the script.',
  },
  "secret.exposed": {
    meaning:
      "A secret is pasted into a script, put on a command line or printed: command lines are visible to every process on the runner, and output ends up in logs.",
    fix: "Bind it in env: and let the program read its environment (platformctl reads manifest variables from it); when a tool needs it, pipe it on stdin (`printf '%s' \"$X\" | tool --password-stdin`).",
  },
  "apply.trigger": {
    meaning:
      "A workflow that runs `platformctl apply` can be started by something other than an operator's workflow_dispatch (a push, a pull request, a schedule, a call).",
    fix: "Trigger apply workflows with `on: workflow_dispatch` only; keep checks for other events in a read-only workflow.",
  },
  "apply.no_gate": {
    meaning:
      "An apply step is not preceded, in its job, by a step running `platformctl scope --fail-on-blocked` with the same inputs, so a blocked dispatch is not stopped in its own visible step before apply starts.",
    fix: 'Add a step before it running `platformctl scope --module "$MODULE" --plan plan.json --fail-on-blocked` with the same gate flags and the same env: inputs as the apply step.',
  },
  "apply.gate_bypassed": {
    meaning:
      "The gate step cannot stop the apply: its failure is ignored (`|| true`, `continue-on-error`, a shell condition, `set +e`, an `if:` on the gate step) or the apply step also runs after a failure (`if: always()`).",
    fix: "Run scope as a plain command in an unconditional step, and give the apply step no `if:` that runs after a failure.",
  },
  "apply.no_concurrency": {
    meaning:
      "An apply workflow has no concurrency group, or cancels the run in progress: two dispatches race for the lock, and a cancelled apply can stop a one-shot half-way.",
    fix: "Add `concurrency: { group: platformctl-apply-${{ vars.PLATFORMCTL_PROJECT || 'platform' }}, cancel-in-progress: false }`.",
  },
  "apply.maintenance_unsafe": {
    meaning:
      "An apply step passes --maintenance (the maintenance lane for stateful modules) without a saved plan (--plan), or without a dispatch input asking for it bound in the step's env:, so every dispatch would take the maintenance lane.",
    fix: 'Bind `MAINTENANCE: ${{ inputs.maintenance }}` in env: and add the flag only when it is true (`if [ "$MAINTENANCE" = "true" ]; then gate+=(--maintenance); fi`), always with `--plan plan.json`, in the gate step and the apply step alike.',
  },
  "pr_target.checkout_head": {
    meaning:
      "A pull_request_target workflow checks out the pull request's head: it runs with the base repository's secrets and write token, and the checked-out code (scripts, build files, actions) is the pull request author's.",
    fix: "Use `on: pull_request` for anything that builds or runs the pull request's code; in pull_request_target check out only the base (no `ref:` from the pull request).",
  },
  "action.unpinned": {
    meaning:
      "An action or reusable workflow is referenced by a branch, or without a ref, so what runs can change without a commit in this repository.",
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

/** Raised when resolving aliases and merge keys would visit more nodes than a real workflow has (an alias bomb or a cycle). */
class AliasBudgetExceeded extends Error {}

/** Alias resolutions and merges one file may need; real workflows use a handful. */
const ALIAS_BUDGET = 10_000;

interface Ctx {
  file: string;
  text: string;
  lc: LineCounter;
  doc: Document;
  budget: { left: number };
  resolved: Map<Alias, unknown>;
}

/**
 * The node an alias stands for (the anchored node, so positions are where the value is written), bounded by the
 * file's alias budget.
 */
function deref(ctx: Ctx, node: unknown): unknown {
  let n = node;
  for (let hops = 0; isAlias(n); hops++) {
    if (--ctx.budget.left < 0 || hops > 64) throw new AliasBudgetExceeded();
    const alias = n as Alias;
    // resolve() searches the document; each alias node is resolved once
    if (!ctx.resolved.has(alias)) ctx.resolved.set(alias, alias.resolve(ctx.doc));
    n = ctx.resolved.get(alias);
  }
  return n;
}

/** A mapping's entries as the runner sees them: aliases resolved and `<<` merges expanded (own keys win). */
function entries(ctx: Ctx, map: unknown): { key: string; keyNode: unknown; value: unknown }[] {
  const m = deref(ctx, map);
  if (!isMap(m)) return [];
  const own: { key: string; keyNode: unknown; value: unknown }[] = [];
  const merged: { key: string; keyNode: unknown; value: unknown }[] = [];
  for (const p of (m as YAMLMap).items) {
    const key = scalarText(deref(ctx, p.key));
    if (key === undefined) continue;
    if (key === "<<" && !(isScalar(p.key) && (p.key as Scalar).type !== "PLAIN")) {
      const v = deref(ctx, p.value);
      const sources = isSeq(v) ? v.items : [v];
      for (const src of sources) {
        if (--ctx.budget.left < 0) throw new AliasBudgetExceeded();
        for (const e of entries(ctx, src)) if (!merged.some((x) => x.key === e.key)) merged.push(e);
      }
      continue;
    }
    own.push({ key, keyNode: p.key, value: deref(ctx, p.value) });
  }
  return [...own, ...merged.filter((e) => !own.some((o) => o.key === e.key))];
}

const entryOf = (ctx: Ctx, map: unknown, key: string) => entries(ctx, map).find((e) => e.key === key);
const valueAt = (ctx: Ctx, map: unknown, key: string): unknown => entryOf(ctx, map, key)?.value;
const itemsOf = (ctx: Ctx, seq: unknown): unknown[] => {
  const s = deref(ctx, seq);
  return isSeq(s) ? s.items.map((i) => deref(ctx, i)) : [];
};
const scalarText = (node: unknown): string | undefined =>
  isScalar(node) && node.value !== null && node.value !== undefined ? String(node.value) : undefined;

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

/** env: entries as name -> expression text (only those holding `${{ }}`), plus the names bound to a secret and to untrusted input. */
interface EnvBindings {
  expressions: Map<string, string>;
  secretNames: Set<string>;
  untrustedNames: Set<string>;
}

function envBindings(ctx: Ctx, node: unknown): EnvBindings {
  const out: EnvBindings = { expressions: new Map(), secretNames: new Set(), untrustedNames: new Set() };
  for (const e of entries(ctx, node)) {
    const value = scalarText(e.value);
    if (value === undefined) continue;
    const exprs = findExpressions(value);
    if (exprs.length === 0) continue;
    out.expressions.set(e.key, exprs.map((x) => x.inner.replace(/\s+/g, " ")).join(" "));
    const classes = exprs.flatMap((x) => contextPaths(x.inner).map(classifyPath));
    if (classes.includes("secret")) out.secretNames.add(e.key);
    if (classes.includes("untrusted")) out.untrustedNames.add(e.key);
  }
  return out;
}

const mergeEnv = (...bs: EnvBindings[]): EnvBindings => ({
  expressions: new Map(bs.flatMap((b) => [...b.expressions])),
  secretNames: new Set(bs.flatMap((b) => [...b.secretNames])),
  untrustedNames: new Set(bs.flatMap((b) => [...b.untrustedNames])),
});

/** Dispatch inputs a step binds in env: (name -> expression), the part of "the same inputs" that env carries. */
function inputBindings(expressions: Map<string, string>): string {
  const list = [...expressions].filter(([, e]) =>
    contextPaths(e).some((p) => p.startsWith("inputs.") || p.startsWith("github.event.inputs.")),
  );
  return JSON.stringify(list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isTruthy(node: unknown): boolean {
  const v = isScalar(node) ? node.value : undefined;
  if (v === true) return true;
  if (typeof v === "string") return v.trim() !== "" && v.trim() !== "false";
  return false;
}

/** One step as the rules see it (aliases resolved). */
interface StepInfo {
  index: number;
  name: string;
  node: YAMLMap;
  uses: Scalar | undefined;
  usesText: string | undefined;
  runNode: Scalar | undefined;
  script: string | undefined;
  invocations: Invocation[];
  env: EnvBindings;
  inputs: string;
  flags: string[];
  ifText: string | undefined;
  ifNode: unknown;
  continueOnError: unknown;
}

interface JobInfo {
  name: string;
  keyNode: unknown;
  node: YAMLMap;
  uses: unknown;
  env: EnvBindings;
  steps: StepInfo[];
}

/** One workflow file as the runner sees it: aliases and merge keys resolved, nodes kept for positions. */
interface Workflow {
  ctx: Ctx;
  root: YAMLMap;
  onKey: unknown;
  on: unknown;
  env: EnvBindings;
  jobs: JobInfo[];
  hasJobs: boolean;
}

function stepName(ctx: Ctx, step: YAMLMap, index: number): string {
  const name = scalarText(valueAt(ctx, step, "name"));
  if (name) return name;
  const uses = scalarText(valueAt(ctx, step, "uses"));
  if (uses) return uses;
  const run = scalarText(valueAt(ctx, step, "run"));
  return run ? run.split("\n")[0]!.slice(0, 60) : `step ${index + 1}`;
}

function readWorkflow(ctx: Ctx, root: YAMLMap): Workflow {
  const onEntry = entryOf(ctx, root, "on");
  const env = envBindings(ctx, valueAt(ctx, root, "env"));
  const jobsNode = valueAt(ctx, root, "jobs");
  const jobs: JobInfo[] = [];
  for (const j of entries(ctx, jobsNode)) {
    if (!isMap(j.value)) continue;
    const node = j.value as YAMLMap;
    const jobEnv = envBindings(ctx, valueAt(ctx, node, "env"));
    const steps: StepInfo[] = [];
    itemsOf(ctx, valueAt(ctx, node, "steps")).forEach((s, index) => {
      if (!isMap(s)) return;
      const step = s as YAMLMap;
      const stepEnv = envBindings(ctx, valueAt(ctx, step, "env"));
      const uses = valueAt(ctx, step, "uses");
      const run = valueAt(ctx, step, "run");
      const script = isScalar(run) ? String(run.value ?? "") : undefined;
      const ifNode = valueAt(ctx, step, "if");
      steps.push({
        index,
        name: stepName(ctx, step, index),
        node: step,
        uses: isScalar(uses) ? uses : undefined,
        usesText: scalarText(uses),
        runNode: isScalar(run) ? run : undefined,
        script,
        invocations: script === undefined ? [] : platformctlInvocations(script),
        env: mergeEnv(env, jobEnv, stepEnv),
        inputs: inputBindings(stepEnv.expressions),
        flags: script === undefined ? [] : gateFlags(script),
        ifText: scalarText(ifNode),
        ifNode,
        continueOnError: valueAt(ctx, step, "continue-on-error"),
      });
    });
    jobs.push({ name: j.key, keyNode: j.keyNode, node, uses: valueAt(ctx, node, "uses"), env: mergeEnv(env, jobEnv), steps });
  }
  return { ctx, root, onKey: onEntry?.keyNode, on: onEntry?.value, env, jobs, hasJobs: isMap(jobsNode) };
}

/** The events a workflow is triggered by, as written in `on:` (scalar, list or mapping). */
function events(w: Workflow): string[] {
  const on = w.on;
  if (isScalar(on)) return [String(on.value)];
  if (isSeq(on)) return itemsOf(w.ctx, on).map((i) => scalarText(i) ?? "?");
  if (isMap(on)) return entries(w.ctx, on).map((e) => e.key);
  return [];
}

type Where = { line: number; column: number };
type Finding = Omit<WorkflowFinding, "file" | "fix">;
const finding = (where: Where, rule: WorkflowRule, message: string, names: { job?: string; step?: string } = {}): Finding => ({
  ...where,
  rule,
  message,
  ...names,
});

/** One rule: reads the workflow, returns its findings. */
type Rule = (w: Workflow) => Finding[];

const applySteps = (job: JobInfo) =>
  job.steps.flatMap((step) => step.invocations.filter((i) => i.sub === "apply").map((invocation) => ({ step, invocation })));

/** Expressions in a value that is pasted into code (a script, an action's args, a working directory). */
function expressionFindings(w: Workflow, node: unknown, where: string, names: { job: string; step: string }): Finding[] {
  if (!isScalar(node)) return [];
  const out: Finding[] = [];
  for (const e of findExpressions(String(node.value))) {
    const paths = contextPaths(e.inner);
    const pos = within(w.ctx, node, e.start);
    if (paths.some((p) => classifyPath(p) === "secret"))
      out.push(finding(pos, "secret.exposed", `\`\${{ ${e.inner} }}\` pastes a secret into the ${where} of step "${names.step}"`, names));
    if (paths.some((p) => classifyPath(p) === "untrusted"))
      out.push(
        finding(
          pos,
          "script.injection",
          `untrusted \`\${{ ${e.inner} }}\` inside the ${where} of step "${names.step}" (script injection)`,
          names,
        ),
      );
  }
  return out;
}

const scriptExpressions: Rule = (w) =>
  w.jobs.flatMap((job) =>
    job.steps.flatMap((s) => {
      const names = { job: job.name, step: s.name };
      const withNode = valueAt(w.ctx, s.node, "with");
      return [
        ...expressionFindings(w, s.runNode, "run: script", names),
        ...(s.usesText && /github-script/.test(s.usesText)
          ? expressionFindings(w, valueAt(w.ctx, withNode, "script"), "github-script script", names)
          : []),
        ...expressionFindings(w, valueAt(w.ctx, withNode, "args"), "with: args", names),
        ...expressionFindings(w, valueAt(w.ctx, s.node, "working-directory"), "working-directory", names),
      ];
    }),
  );

const secretsInScripts: Rule = (w) =>
  w.jobs.flatMap((job) =>
    job.steps.flatMap((s) =>
      s.runNode && s.script !== undefined
        ? exposedMentions(s.script, s.env.secretNames).map((m) =>
            finding(
              within(w.ctx, s.runNode!, Math.max(0, m.offset)),
              "secret.exposed",
              `$${m.name} holds a secret and is put on a command line or printed in step "${s.name}"`,
              { job: job.name, step: s.name },
            ),
          )
        : [],
    ),
  );

const untrustedVariablesRunAsCode: Rule = (w) =>
  w.jobs.flatMap((job) =>
    job.steps.flatMap((s) =>
      s.runNode && s.script !== undefined
        ? executedVariables(s.script, s.env.untrustedNames).map((m) =>
            finding(
              within(w.ctx, s.runNode!, Math.max(0, m.offset)),
              "script.injection",
              `$${m.name} holds untrusted input (${s.env.expressions.get(m.name)}) and is run as code (eval, a shell's -c or its stdin, source) in step "${s.name}"`,
              {
                job: job.name,
                step: s.name,
              },
            ),
          )
        : [],
    ),
  );

const pinnedActions: Rule = (w) => [
  ...w.jobs.flatMap((job) => {
    const t = scalarText(job.uses);
    const why = t === undefined ? undefined : unpinnedReason(t);
    return why ? [finding(at(w.ctx, job.uses), "action.unpinned", `${why} (job ${job.name})`, { job: job.name })] : [];
  }),
  ...w.jobs.flatMap((job) =>
    job.steps.flatMap((s) => {
      const why = s.usesText === undefined ? undefined : unpinnedReason(s.usesText);
      return why ? [finding(at(w.ctx, s.uses), "action.unpinned", why, { job: job.name, step: s.name })] : [];
    }),
  ),
];

const HEAD_REF = /github\.event\.pull_request\.head\.(sha|ref|repo)|github\.head_ref|github\.event\.workflow_run\.head_/;

const prTargetCheckout: Rule = (w) => {
  if (!events(w).includes("pull_request_target")) return [];
  return w.jobs.flatMap((job) =>
    job.steps.flatMap((s) => {
      if (!s.usesText || !/(^|\/)checkout@/.test(s.usesText)) return [];
      const withNode = valueAt(w.ctx, s.node, "with");
      return ["ref", "repository"].flatMap((k) => {
        const v = valueAt(w.ctx, withNode, k);
        const text = scalarText(v);
        if (text === undefined || !findExpressions(text).some((e) => HEAD_REF.test(e.inner))) return [];
        return [
          finding(
            at(w.ctx, v),
            "pr_target.checkout_head",
            `step "${s.name}" checks out the pull request's head (\`${k}: ${text}\`) in a pull_request_target workflow`,
            { job: job.name, step: s.name },
          ),
        ];
      });
    }),
  );
};

/** Why a scope step's exit code would not stop the job, or undefined. */
function gateBypass(step: StepInfo, scope: Invocation): string | undefined {
  if (isTruthy(step.continueOnError)) return `the gate step "${step.name}" has continue-on-error`;
  if (step.ifText !== undefined && !/^\s*(\$\{\{\s*)?success\(\)(\s*\}\})?\s*$/.test(step.ifText))
    return `the gate step "${step.name}" only runs when \`${step.ifText}\``;
  if (scope.command.conditional) return `the scope command in "${step.name}" is a condition, so its exit code does not fail the step`;
  if (scope.command.next === "||") {
    const fallback = scope.following?.words.map((x) => x.value) ?? [];
    const failsAnyway = fallback[0] === "exit" && fallback[1] !== undefined && fallback[1] !== "0";
    if (!failsAnyway) return `the scope command in "${step.name}" is followed by \`|| ${fallback.join(" ")}\``;
  }
  const script = step.script ?? "";
  const setE = script.slice(0, Math.max(0, scope.offset)).match(/\bset\s+[+]e\b|\bset\s+\+o\s+errexit\b/);
  if (setE) return `"${step.name}" turns off errexit (\`${setE[0]}\`) before the scope command`;
  return undefined;
}

const applyWhere = (w: Workflow, step: StepInfo, inv: Invocation) =>
  step.runNode ? within(w.ctx, step.runNode, Math.max(0, inv.offset)) : at(w.ctx, step.node);

const applyGated: Rule = (w) =>
  w.jobs.flatMap((job) =>
    applySteps(job).flatMap(({ step, invocation }) => {
      const names = { job: job.name, step: step.name };
      const where = applyWhere(w, step, invocation);
      const gates = job.steps
        .filter((s) => s.index < step.index)
        .flatMap((s) =>
          s.invocations
            .filter((i) => i.sub === "scope" && (i.args.includes("--fail-on-blocked") || /--fail-on-blocked\b/.test(s.script ?? "")))
            .map((i) => ({ s, i })),
        );
      if (gates.length === 0)
        return [
          finding(
            where,
            "apply.no_gate",
            `step "${step.name}" runs platformctl apply, but no earlier step of job ${job.name} runs \`platformctl scope --fail-on-blocked\``,
            names,
          ),
        ];
      const same = gates.filter(({ s }) => s.inputs === step.inputs && JSON.stringify(s.flags) === JSON.stringify(step.flags));
      if (same.length === 0) {
        const g = gates[gates.length - 1]!.s;
        const diff = [
          JSON.stringify(g.flags) !== JSON.stringify(step.flags)
            ? `flags ${g.flags.join(" ") || "(none)"} vs ${step.flags.join(" ") || "(none)"}`
            : "",
          g.inputs !== step.inputs ? "different env: inputs" : "",
        ].filter(Boolean);
        return [
          finding(
            where,
            "apply.no_gate",
            `the gate step "${g.name}" does not pass the same inputs as "${step.name}" (${diff.join("; ")})`,
            names,
          ),
        ];
      }
      const bypasses = same.map(({ s, i }) => gateBypass(s, i));
      return bypasses.every((b) => b !== undefined) ? [finding(where, "apply.gate_bypassed", bypasses[0]!, names)] : [];
    }),
  );

const applyStepRunsAfterFailure: Rule = (w) =>
  w.jobs.flatMap((job) => {
    const steps = [...new Set(applySteps(job).map((a) => a.step))];
    return steps.flatMap((s) => {
      const names = { job: job.name, step: s.name };
      return [
        ...(s.ifText !== undefined && /\b(always|failure|cancelled)\s*\(/.test(s.ifText)
          ? [
              finding(
                at(w.ctx, s.ifNode),
                "apply.gate_bypassed",
                `step "${s.name}" runs platformctl apply with \`if: ${s.ifText}\`, also after the gate failed`,
                names,
              ),
            ]
          : []),
        ...(isTruthy(s.continueOnError)
          ? [
              finding(
                at(w.ctx, s.continueOnError),
                "apply.gate_bypassed",
                `step "${s.name}" has continue-on-error: a failed apply would not fail the run`,
                names,
              ),
            ]
          : []),
      ];
    });
  });

/** Concurrency: one finding per job that runs apply without a group; a bad workflow-level block is reported once. */
const applyConcurrency: Rule = (w) => {
  const applying = w.jobs.filter((j) => applySteps(j).length > 0);
  if (applying.length === 0) return [];
  const judge = (node: unknown, keyNode: unknown, whose: string, names: { job?: string }): Finding[] => {
    const where = at(w.ctx, keyNode);
    if (isScalar(node))
      return scalarText(node)?.trim() ? [] : [finding(where, "apply.no_concurrency", `${whose} has an empty concurrency group`, names)];
    if (!isMap(node)) return [finding(where, "apply.no_concurrency", `${whose} has no usable concurrency group`, names)];
    const out: Finding[] = [];
    const group = scalarText(valueAt(w.ctx, node, "group"));
    const cancel = valueAt(w.ctx, node, "cancel-in-progress");
    if (!group?.trim()) out.push(finding(where, "apply.no_concurrency", `${whose}: the concurrency block has no group`, names));
    if (cancel !== undefined && !(isScalar(cancel) && (cancel.value === false || cancel.value === "false"))) {
      out.push(
        finding(
          at(w.ctx, cancel),
          "apply.no_concurrency",
          `${whose}: cancel-in-progress must be false for an apply (it is \`${scalarText(cancel) ?? "not false"}\`)`,
          names,
        ),
      );
    }
    return out;
  };
  const top = entryOf(w.ctx, w.root, "concurrency");
  const out: Finding[] = [];
  let topJudged = false;
  for (const job of applying) {
    const own = entryOf(w.ctx, job.node, "concurrency");
    if (own && own.value !== null && !(isScalar(own.value) && own.value.value === null))
      out.push(...judge(own.value, own.keyNode, `job ${job.name}`, { job: job.name }));
    else if (top && !(isScalar(top.value) && top.value.value === null)) {
      if (!topJudged) out.push(...judge(top.value, top.keyNode, "the workflow", {}));
      topJudged = true;
    } else
      out.push(
        finding(at(w.ctx, job.keyNode), "apply.no_concurrency", `job ${job.name} runs platformctl apply without a concurrency group`, {
          job: job.name,
        }),
      );
  }
  return out;
};

const applyTrigger: Rule = (w) => {
  const first = w.jobs.flatMap((j) => applySteps(j).map((a) => ({ job: j, step: a.step })))[0];
  if (!first) return [];
  const evs = events(w);
  if (evs.length === 1 && evs[0] === "workflow_dispatch") return [];
  return [
    finding(
      at(w.ctx, w.onKey ?? w.root),
      "apply.trigger",
      `step "${first.step.name}" (job ${first.job.name}) runs platformctl apply, but the workflow is triggered by ${evs.length ? evs.join(", ") : "nothing"}, not only workflow_dispatch`,
      { job: first.job.name, step: first.step.name },
    ),
  ];
};

/** --maintenance only from a dispatch input bound in env:, and only with a saved plan (no fresh-plan maintenance). */
const applyMaintenance: Rule = (w) =>
  w.jobs.flatMap((job) =>
    [...new Set(applySteps(job).map((a) => a.step))].flatMap((step) => {
      if (!step.flags.includes("--maintenance")) return [];
      const names = { job: job.name, step: step.name };
      const bound = [...step.env.expressions.values()].some((e) =>
        contextPaths(e).some((p) => p === "inputs.maintenance" || p === "github.event.inputs.maintenance"),
      );
      const problems = [
        step.flags.includes("--plan") ? "" : "without --plan (the maintenance lane applies only a saved plan)",
        bound ? "" : "while no dispatch input `maintenance` is bound in its env:",
      ].filter(Boolean);
      return problems.length
        ? [
            finding(
              at(w.ctx, step.node),
              "apply.maintenance_unsafe",
              `step "${step.name}" passes --maintenance ${problems.join(" and ")}`,
              names,
            ),
          ]
        : [];
    }),
  );

/** Every rule, in no particular order: each reads the resolved workflow and returns its findings. */
const rules: Rule[] = [
  scriptExpressions,
  secretsInScripts,
  untrustedVariablesRunAsCode,
  pinnedActions,
  prTargetCheckout,
  applyGated,
  applyStepRunsAfterFailure,
  applyMaintenance,
  applyConcurrency,
  applyTrigger,
];

/** Lints one workflow file as the runner sees it (aliases and merge keys resolved). Pure: nothing is read or run. */
export function lintWorkflow(file: string, text: string): WorkflowFinding[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const ctx: Ctx = { file, text, lc, doc, budget: { left: ALIAS_BUDGET }, resolved: new Map() };
  const done = (fs: Finding[]): WorkflowFinding[] => {
    const seen = new Set<string>();
    return fs
      .map((f) => ({ file, ...f, fix: WORKFLOW_RULES[f.rule].fix }))
      .filter((f) => {
        const k = `${f.line}:${f.column}:${f.rule}:${f.message}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .sort((a, b) => a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
  };
  if (doc.errors.length) {
    return done(
      doc.errors.map((e) => {
        const p = lc.linePos(e.pos[0]);
        return finding({ line: p.line, column: p.col }, "yaml.invalid", e.message.split("\n")[0] ?? "invalid YAML");
      }),
    );
  }
  const root = doc.contents;
  if (!isMap(root)) return done([finding({ line: 1, column: 1 }, "yaml.invalid", "the document is not a mapping with `on:` and `jobs:`")]);
  try {
    const w = readWorkflow(ctx, root as YAMLMap);
    const out = rules.flatMap((r) => r(w));
    if (!w.hasJobs) out.push(finding({ line: 1, column: 1 }, "yaml.invalid", "the workflow has no `jobs:` mapping"));
    return done(out);
  } catch (e) {
    if (!(e instanceof AliasBudgetExceeded)) throw e;
    return done([
      finding(
        { line: 1, column: 1 },
        "yaml.invalid",
        `resolving aliases and merge keys needs more than ${ALIAS_BUDGET} steps (an alias bomb or a cycle); write the values out`,
      ),
    ]);
  }
}
