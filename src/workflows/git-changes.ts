// The thin git reader behind `platformctl changed`: the repository holding a directory, and the files changed since a base.
import { execFile } from "node:child_process";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { PlatformError, UsageError } from "../errors.js";

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git without a shell; never throws for a non-zero exit (the caller turns it into a clear error). */
function git(cwd: string, args: readonly string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      ["-C", cwd, ...args],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" } },
      (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code !== "number") {
          reject(new PlatformError("git.unavailable", "cannot run git", { hint: "Install git and make sure it is on PATH.", cause: err }));
          return;
        }
        resolve({ code: err ? ((err as { code: number }).code as number) : 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

const firstLine = (text: string): string => text.trim().split("\n")[0]?.slice(0, 300) ?? "";

/** A base ref as typed: refused when it could be read as an option or carries control characters. */
export function checkBaseRef(ref: string): void {
  if (ref === "" || ref.startsWith("-") || /[\u0000-\u0020\u007f]/.test(ref) || ref.length > 256) {
    throw new UsageError("changed.bad_ref", `invalid base ${JSON.stringify(ref.slice(0, 80))}`, {
      hint: "Pass a commit, branch or tag, e.g. --base origin/main or the pull request's base SHA.",
    });
  }
}

/** The repository that holds `dir` (its real top-level path) and `dir` relative to it, POSIX separators. */
export async function repositoryOf(dir: string): Promise<{ root: string; relative: string }> {
  const real = await realpath(dir).catch(() => {
    throw new UsageError("changed.modules_dir", `the modules directory ${dir} does not exist`, {
      hint: "Pass --modules-dir or set PLATFORMCTL_MODULES_DIR.",
    });
  });
  const top = await git(real, ["rev-parse", "--show-toplevel"]);
  if (top.code !== 0) {
    throw new UsageError("changed.not_a_repository", `the modules directory ${dir} is not inside a git repository`, {
      detail: firstLine(top.stderr),
      hint: "Run in a checkout (actions/checkout with fetch-depth: 0).",
    });
  }
  const root = await realpath(top.stdout.trim());
  const relative = path.relative(root, real).split(path.sep).join("/");
  return { root, relative };
}

/**
 * Files changed between the merge base of `ref` and HEAD (`git diff --name-only REF...HEAD`), renames listed as a
 * deletion and an addition so a module moved away is seen too. Paths are relative to the repository root.
 */
export async function changedFilesSince(root: string, ref: string): Promise<string[]> {
  checkBaseRef(ref);
  const resolved = await git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  if (resolved.code !== 0) {
    throw new UsageError("changed.bad_ref", `unknown base ${JSON.stringify(ref)}: not a commit in ${root}`, {
      hint: "Fetch it first (actions/checkout with fetch-depth: 0, or `git fetch origin <branch>`), or pass a commit, branch or tag that exists.",
    });
  }
  const sha = resolved.stdout.trim();
  const base = await git(root, ["merge-base", sha, "HEAD"]);
  if (base.code !== 0) {
    throw new UsageError("changed.no_merge_base", `${JSON.stringify(ref)} and HEAD have no common ancestor`, {
      detail: firstLine(base.stderr),
      hint: "A shallow clone hides it: check out with fetch-depth: 0.",
    });
  }
  const diff = await git(root, ["diff", "--name-only", "--no-renames", "-z", `${sha}...HEAD`, "--"]);
  if (diff.code !== 0)
    throw new PlatformError("changed.git_failed", `git diff against ${JSON.stringify(ref)} failed`, { detail: firstLine(diff.stderr) });
  return diff.stdout.split("\0").filter((f) => f !== "");
}
