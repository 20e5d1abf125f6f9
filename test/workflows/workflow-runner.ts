// Runs a workflow file's job the way a runner does, on this machine: step by step, bash -e -o pipefail, env: evaluated.
// Only the expression forms the project's workflows use are understood; anything else fails the test loudly.
import { spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";

export interface Contexts {
  inputs?: Record<string, string | boolean>;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** The `github` context: run_id, repository, event payload … */
  github?: Record<string, unknown>;
}

export interface RunOptions extends Contexts {
  /** Working directory of every step (the checkout). */
  cwd: string;
  /** The runner's own environment (PATH, HOME, DOCKER_HOST …); the workflow's env: is laid over it. */
  runnerEnv: Record<string, string>;
  /**
   * Steps whose script is replaced, by step name: `expect` is the script the workflow must hold (checked), `run` what
   * runs instead. Used for the set-up step, which the suite has already done.
   */
  substitute?: Record<string, { expect: string; run: string }>;
  /** Job to run (default: the only job). */
  job?: string;
}

export interface StepResult {
  name: string;
  status: "ran" | "skipped";
  /** The shell's exit code for run: steps; 0 for uses: steps that passed their check. */
  code: number | undefined;
  stdout: string;
  stderr: string;
  uses?: string;
}

export interface WorkflowRun {
  conclusion: "success" | "failure" | "skipped";
  steps: StepResult[];
  /** What the steps appended to $GITHUB_STEP_SUMMARY. */
  summary: string;
  /** upload-artifact steps: each path (expressions evaluated) and whether it exists. */
  uploads: { name: string; files: { path: string; exists: boolean }[] }[];
}

type Value = string | number | boolean | null | undefined | Record<string, unknown>;

/**
 * Evaluates one expression of the forms the workflows use: a context path (`inputs.module`, `vars.X`, `secrets.X`,
 * `env.X`, `github.event.pull_request.base.sha`), a quoted string, `a || 'default'`, `a == b`, and the status
 * functions `always()`, `success()`, `failure()`, `cancelled()`. Throws for anything else.
 */
export function evaluate(expression: string, contexts: Record<string, unknown>, status: { failed: boolean } = { failed: false }): Value {
  const src = expression.trim();
  const tokens = src.match(/'(?:[^']|'')*'|\|\||==|!=|\(|\)|[A-Za-z_][\w.-]*|\S/g) ?? [];
  let i = 0;
  const primary = (): Value => {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`unsupported expression: ${src}`);
    if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
    if (t === "true" || t === "false") return t === "true";
    if (["always", "success", "failure", "cancelled"].includes(t) && tokens[i] === "(" && tokens[i + 1] === ")") {
      i += 2;
      return t === "always" ? true : t === "success" ? !status.failed : t === "failure" ? status.failed : false;
    }
    if (/^[A-Za-z_][\w.-]*$/.test(t) && t.split(".")[0]! in contexts) {
      let v: unknown = contexts;
      for (const part of t.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
      return v as Value;
    }
    throw new Error(`unsupported expression: ${src} (at ${t})`);
  };
  const comparison = (): Value => {
    const left = primary();
    if (tokens[i] === "==" || tokens[i] === "!=") {
      const op = tokens[i++];
      const right = primary();
      return op === "==" ? String(left ?? "") === String(right ?? "") : String(left ?? "") !== String(right ?? "");
    }
    return left;
  };
  let value = comparison();
  while (tokens[i] === "||") {
    i += 1;
    const right = comparison();
    value = value !== undefined && value !== null && value !== "" && value !== false ? value : right;
  }
  if (i !== tokens.length) throw new Error(`unsupported expression: ${src}`);
  return value;
}

/** Replaces every `${{ … }}` in a string with its value as text (missing values are empty, as on a runner). */
export function interpolate(text: string, contexts: Record<string, unknown>): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, e: string) => {
    const v = evaluate(e, contexts);
    return v === undefined || v === null ? "" : String(v);
  });
}

function condition(text: unknown, contexts: Record<string, unknown>, status: { failed: boolean }): boolean {
  if (text === undefined) return !status.failed;
  const e = String(text)
    .trim()
    .replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
  return Boolean(evaluate(e, contexts, status));
}

function evaluateEnv(env: unknown, contexts: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((env ?? {}) as Record<string, unknown>)) out[k] = interpolate(String(v), contexts);
  return out;
}

function runBash(
  script: string,
  env: Record<string, string>,
  cwd: string,
  dir: string,
  index: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return (async () => {
    const file = path.join(dir, `step-${index}.sh`);
    await writeFile(file, script);
    return new Promise((resolve, reject) => {
      const child = spawn("bash", ["--noprofile", "--norc", "-e", "-o", "pipefail", file], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code: code ?? 128 + (signal === "SIGKILL" ? 9 : 15), stdout, stderr }));
    });
  })();
}

/** Runs the job of a workflow file and reports every step. */
export async function runWorkflow(file: string, opts: RunOptions): Promise<WorkflowRun> {
  const wf = parse(await readFile(file, "utf8")) as Record<string, unknown>;
  const jobs = wf.jobs as Record<string, Record<string, unknown>>;
  const jobName = opts.job ?? (Object.keys(jobs).length === 1 ? Object.keys(jobs)[0] : undefined);
  if (!jobName || !jobs[jobName]) throw new Error(`${file}: name the job to run`);
  const job = jobs[jobName] as Record<string, unknown>;
  const shell = ((job.defaults as { run?: { shell?: string } })?.run?.shell ?? (wf.defaults as { run?: { shell?: string } })?.run?.shell) as
    | string
    | undefined;
  if (shell !== "bash") throw new Error(`${file}: the runner here only does \`shell: bash\` (found ${shell ?? "the platform default"})`);

  const dir = await mkdtemp(path.join(tmpdir(), "platformctl-runner-"));
  try {
    const summaryFile = path.join(dir, "step-summary.md");
    await writeFile(summaryFile, "");
    const runnerTemp = path.join(dir, "temp");
    await (await import("node:fs/promises")).mkdir(runnerTemp);
    const base: Record<string, unknown> = {
      inputs: opts.inputs ?? {},
      vars: opts.vars ?? {},
      secrets: opts.secrets ?? {},
      github: { run_id: "4242", repository: "ops/platform", ...(opts.github ?? {}) },
    };
    const status = { failed: false };
    if (job.if !== undefined && !condition(job.if, { ...base, env: {} }, status)) {
      return { conclusion: "skipped", steps: [], summary: "", uploads: [] };
    }
    const workflowEnv = evaluateEnv(wf.env, { ...base, env: {} });
    const jobEnv = evaluateEnv(job.env, { ...base, env: workflowEnv });
    const env = { ...workflowEnv, ...jobEnv };
    const contexts: Record<string, unknown> = { ...base, env };
    const steps: StepResult[] = [];
    const uploads: WorkflowRun["uploads"] = [];
    const list = (job.steps ?? []) as Record<string, unknown>[];
    for (const [index, step] of list.entries()) {
      const name = String(step.name ?? step.uses ?? `step ${index + 1}`);
      if (!condition(step.if, contexts, status)) {
        steps.push({ name, status: "skipped", code: undefined, stdout: "", stderr: "" });
        continue;
      }
      if (typeof step.uses === "string") {
        const uses = step.uses;
        if (/^actions\/checkout@/.test(uses)) {
          steps.push({ name, status: "ran", code: 0, stdout: "", stderr: "", uses });
        } else if (/^actions\/upload-artifact@/.test(uses)) {
          const w = (step.with ?? {}) as Record<string, unknown>;
          const files = interpolate(String(w.path ?? ""), contexts)
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean)
            .map((p) => ({ path: p, exists: existsSync(path.resolve(opts.cwd, p)) }));
          uploads.push({ name: interpolate(String(w.name ?? "artifact"), contexts), files });
          steps.push({ name, status: "ran", code: 0, stdout: "", stderr: "", uses });
        } else {
          throw new Error(`${file}: step "${name}" uses ${uses}, which this runner does not emulate`);
        }
        continue;
      }
      let script = String(step.run ?? "");
      if (/\$\{\{/.test(script)) throw new Error(`${file}: step "${name}" has an expression inside run:`);
      const sub = opts.substitute?.[name];
      if (sub) {
        if (script.trim() !== sub.expect)
          throw new Error(`${file}: step "${name}" runs ${JSON.stringify(script.trim())}, expected ${JSON.stringify(sub.expect)}`);
        script = sub.run;
      }
      const stepEnv = evaluateEnv(step.env, contexts);
      const r = await runBash(
        script,
        {
          ...opts.runnerEnv,
          CI: "true",
          GITHUB_ACTIONS: "true",
          GITHUB_WORKSPACE: opts.cwd,
          GITHUB_STEP_SUMMARY: summaryFile,
          GITHUB_RUN_ID: String((contexts.github as Record<string, unknown>).run_id),
          GITHUB_REPOSITORY: String((contexts.github as Record<string, unknown>).repository),
          RUNNER_TEMP: runnerTemp,
          ...env,
          ...stepEnv,
        },
        opts.cwd,
        dir,
        index,
      );
      steps.push({ name, status: "ran", ...r });
      if (r.code !== 0) status.failed = true;
    }
    return { conclusion: status.failed ? "failure" : "success", steps, summary: await readFile(summaryFile, "utf8"), uploads };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A directory holding an `npx` that runs `npx --no-install platformctl ARGS` as `<repo>/bin/platformctl ARGS` (the launcher npm links)
 * (what npx resolves that command to in this checkout, without npm's ~5 s of start-up) and hands anything else to the
 * real npx. Put it first on PATH.
 */
export async function npxShim(repo: string, realNpx: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "platformctl-npx-"));
  const file = path.join(dir, "npx");
  await writeFile(
    file,
    [
      "#!/usr/bin/env bash",
      `if [ "\${1:-}" = "--no-install" ] && [ "\${2:-}" = "platformctl" ]; then shift 2; exec ${JSON.stringify(path.join(repo, "bin/platformctl"))} "$@"; fi`,
      `exec ${JSON.stringify(realNpx)} "$@"`,
      "",
    ].join("\n"),
  );
  await chmod(file, 0o755);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
