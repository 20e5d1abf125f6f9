// `${{ ... }}` expressions in workflow text: where they are, which contexts they read, and whether those can be trusted in a script.

/** One `${{ ... }}` occurrence: `inner` is the text between the braces; offsets are into the searched string. */
export interface Expression {
  inner: string;
  start: number;
  end: number;
}

/**
 * How far a value read by an expression can be trusted inside a `run:` script, where the runner pastes it into the
 * script text before the shell sees it:
 * - `safe`: set by the forge, with a fixed character set (run ids, commit SHAs, the repository name, runner paths);
 * - `secret`: a secret (pasted into the script file and onto command lines);
 * - `untrusted`: anything a dispatcher, a pull request author or another step can shape (inputs, event payloads,
 *   branch names, step outputs, env and vars values).
 */
export type Trust = "safe" | "secret" | "untrusted";

const CONTEXTS = new Set(["github", "env", "vars", "secrets", "inputs", "steps", "needs", "matrix", "runner", "job", "jobs", "strategy"]);

const SAFE_GITHUB = new Set([
  "sha",
  "run_id",
  "run_number",
  "run_attempt",
  "workspace",
  "repository",
  "repository_id",
  "repository_owner",
  "repository_owner_id",
  "server_url",
  "api_url",
  "graphql_url",
  "job",
  "event_name",
  "action",
  "actor",
  "actor_id",
  "triggering_actor",
  "workflow_sha",
  "retention_days",
]);

/** Finds every `${{ ... }}`; a `}}` inside a quoted string literal does not close it. An unclosed one runs to the end. */
export function findExpressions(text: string): Expression[] {
  const out: Expression[] = [];
  let i = text.indexOf("${{");
  while (i !== -1) {
    let j = i + 3;
    let quoted = false;
    let end = -1;
    while (j < text.length) {
      const ch = text[j];
      if (ch === "'") {
        if (quoted && text[j + 1] === "'") j += 1;
        else quoted = !quoted;
      } else if (!quoted && ch === "}" && text[j + 1] === "}") {
        end = j + 2;
        break;
      }
      j += 1;
    }
    if (end === -1) end = text.length;
    out.push({ inner: text.slice(i + 3, Math.max(i + 3, end - 2)).trim(), start: i, end });
    i = text.indexOf("${{", end);
  }
  return out;
}

/** The context paths an expression reads, e.g. `inputs.module`, `github.event.pull_request.title`; index access becomes `.*`. */
export function contextPaths(inner: string): string[] {
  const noStrings = inner.replace(/'(?:[^']|'')*'/g, "''");
  const paths: string[] = [];
  for (const m of noStrings.matchAll(/(?<![\w.-])([A-Za-z_][\w-]*)((?:\s*\.\s*[A-Za-z_*][\w-]*|\s*\[[^\]]*\])*)/g)) {
    const head = m[1] as string;
    if (!CONTEXTS.has(head)) continue;
    const tail = (m[2] ?? "").replace(/\s+/g, "").replace(/\[[^\]]*\]/g, ".*");
    paths.push(`${head}${tail}`);
  }
  return paths;
}

/** Trust of one context path (see `Trust`). */
export function classifyPath(p: string): Trust {
  const [head, second, third] = p.split(".");
  if (head === "secrets" || p === "github.token") return "secret";
  if (head === "runner" || head === "strategy") return "safe";
  if (head === "github") return second !== undefined && SAFE_GITHUB.has(second) && third === undefined ? "safe" : "untrusted";
  if (head === "job") return second === "status" || (second === "container" && third === "id") ? "safe" : "untrusted";
  if (head === "steps") return third === "outcome" || third === "conclusion" ? "safe" : "untrusted";
  if (head === "needs") return third === "result" ? "safe" : "untrusted";
  return "untrusted";
}
