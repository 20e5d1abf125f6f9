// What bin/platformctl changes in Node's environment to start faster (NODE_EXTRA_CA_CERTS deferred, glibc's malloc
// asked for huge pages) is put back before the command runs: the processes it starts see the operator's environment.
import { spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFERRED_GLIBC_TUNABLES, restoreGlibcTunables } from "../../src/cli/launcher-env.js";
import { REPO } from "../helpers/repo.js";

const LAUNCHER = path.join(REPO, "bin/platformctl");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "platformctl-launcher-env-"));
  // A `git` that records the environment it was started with (the `changed` command runs git), then fails.
  await writeFile(path.join(dir, "git"), `#!/bin/sh\nenv > "${dir}/env.txt"\necho "not a git repository" >&2\nexit 128\n`);
  await chmod(path.join(dir, "git"), 0o755);
  await mkdir(path.join(dir, "modules"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The environment `changed` hands to git, run through the launcher with `env` set (undefined: unset). */
async function childEnv(env: Record<string, string | undefined>): Promise<Map<string, string>> {
  const base: Record<string, string | undefined> = { ...process.env, PATH: `${dir}:${process.env.PATH}`, ...env };
  const clean = Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
  await rm(path.join(dir, "env.txt"), { force: true });
  const r = spawnSync(LAUNCHER, ["changed", "--base", "main"], { cwd: dir, env: clean, encoding: "utf8" });
  expect(r.status, r.stderr).not.toBe(0);
  const text = await readFile(path.join(dir, "env.txt"), "utf8");
  return new Map(
    text
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

describe("the launcher's environment changes", () => {
  it("asks glibc for huge pages for Node's start only: a process the command starts sees GLIBC_TUNABLES as given", async () => {
    const trace = spawnSync("sh", ["-x", LAUNCHER, "--version"], { encoding: "utf8", env: { ...process.env, GLIBC_TUNABLES: "" } });
    expect(trace.stderr).toContain("export GLIBC_TUNABLES");
    expect(trace.stderr).toContain("GLIBC_TUNABLES=glibc.malloc.hugetlb=1");
    expect((await childEnv({ GLIBC_TUNABLES: undefined })).has("GLIBC_TUNABLES")).toBe(false);
    expect((await childEnv({ GLIBC_TUNABLES: "" })).get("GLIBC_TUNABLES")).toBe("");
    expect((await childEnv({ GLIBC_TUNABLES: "glibc.malloc.arena_max=2" })).get("GLIBC_TUNABLES")).toBe("glibc.malloc.arena_max=2");
    // The operator's own hugetlb choice is theirs: not changed, not even for Node's start.
    const own = spawnSync("sh", ["-x", LAUNCHER, "--version"], {
      encoding: "utf8",
      env: { ...process.env, GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" },
    });
    expect(own.stderr).not.toContain("export GLIBC_TUNABLES");
    expect((await childEnv({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" })).get("GLIBC_TUNABLES")).toBe("glibc.malloc.hugetlb=0");
  });

  it("hands NODE_EXTRA_CA_CERTS back, and leaves no hand-over variable behind", async () => {
    const seen = await childEnv({ NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt" });
    expect(seen.get("NODE_EXTRA_CA_CERTS")).toBe("/etc/ssl/certs/ca-certificates.crt");
    expect([...seen.keys()].filter((k) => k.startsWith("PLATFORMCTL_DEFERRED_"))).toEqual([]);
  });

  it("restores GLIBC_TUNABLES from its hand-over form: unset, empty or a value; nothing when nothing was handed over", () => {
    const cases: [Record<string, string>, string | undefined][] = [
      [{ [DEFERRED_GLIBC_TUNABLES]: "unset", GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" }, undefined],
      [{ [DEFERRED_GLIBC_TUNABLES]: "set:", GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" }, ""],
      [{ [DEFERRED_GLIBC_TUNABLES]: "set:a=1:b=2", GLIBC_TUNABLES: "a=1:b=2:glibc.malloc.hugetlb=1" }, "a=1:b=2"],
      [{ GLIBC_TUNABLES: "x=1" }, "x=1"],
    ];
    for (const [env, want] of cases) {
      restoreGlibcTunables(env);
      expect(env.GLIBC_TUNABLES).toBe(want);
      expect(env[DEFERRED_GLIBC_TUNABLES]).toBeUndefined();
    }
  });
});
