// Every runnable block of every runbook runs, in order and in one shell per runbook, against the real engine and the
// quick-start catalog, after the test has arranged the runbook's symptom — so the runbooks cannot rot.
import Docker from "dockerode";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failMinioInit } from "../helpers/seed-scenario.js";
import { TEST_IMAGE } from "../helpers/test-image.js";
import { aLabelledContainer, testEngine } from "../helpers/docker.js";
import { aWorkspace, PASSWORD, runnerEnv, type Workspace } from "./workspace.js";
import { formatBackupName } from "../../src/policy/parse-backup-name.js";
import { REPO } from "../helpers/repo.js";
import { runCli } from "../helpers/run-cli.js";

const RUNBOOKS = path.join(REPO, "runbooks");
const docker = new Docker();
const CONFIRM = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];

/** The runnable blocks of a runbook: fenced ```sh runnable blocks, with the line each starts on. */
function runnableBlocks(markdown: string): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```sh runnable\s*$/.test(lines[i] as string)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    out.push({ line: start + 1, code: lines.slice(start, end).join("\n") });
    i = end;
  }
  return out;
}

interface Scene {
  w: Workspace;
  /** The operator's working directory (plan.json and other files land here). */
  cwd: string;
  run: (args: string[], extraEnv?: Record<string, string>) => ReturnType<typeof runCli>;
}

async function bootstrap(s: Scene, modules: string[]): Promise<void> {
  const r = await s.run(["apply", ...modules.flatMap((m) => ["--module", m]), ...CONFIRM, "--bootstrap"]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/** For each runbook, how the test creates the situation it is for (and checks that it did). */
const SCENES: Record<string, (s: Scene) => Promise<void>> = {
  "backup-import.md": async (s) => {
    // Another tool's archive of minio's data, fresh, in its own layout (data/… rather than volumes/minio-data/…).
    const src = await mkdtemp(path.join(s.w.root, "other-tool-"));
    await mkdir(path.join(src, "data", ".minio.sys"), { recursive: true });
    await writeFile(path.join(src, "data", ".minio.sys", "format.json"), '{"version":"1"}\n');
    const name = formatBackupName("minio", new Date());
    const made = spawnSync("tar", ["-czf", path.join(s.w.env.PLATFORMCTL_BACKUP_DIR as string, name), "-C", src, "data"]);
    expect(made.status, String(made.stderr)).toBe(0);
    const r = await s.run([
      "scope",
      "--module",
      "minio-init",
      "--allow-stateful",
      "--backup-ref",
      path.join(s.w.env.PLATFORMCTL_BACKUP_DIR as string, name),
      "--confirm",
      "BACKUP_DONE_F3",
      "--json",
    ]);
    expect(JSON.parse(r.stdout).reasons.map((x: { code: string }) => x.code)).toContain("backup.unverified");
  },
  "rerun-failed-one-shot.md": async (s) => {
    await bootstrap(s, ["minio"]);
    await failMinioInit(docker, s.w);
    const r = await s.run(["scope", "--module", "minio-init", "--fail-on-blocked"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
  },
  "bootstrap-stateful-module.md": async (s) => {
    const r = await s.run(["scope", "--module", "minio", "--fail-on-blocked"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
  },
  "stateful-long-running.md": async (s) => {
    await bootstrap(s, ["minio"]);
    await docker.getContainer(`${s.w.project}_minio_minio`).stop({ t: 1 });
    const r = await s.run(["apply", "--module", "minio", ...CONFIRM, "--json"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("drift.not_allowed");
  },
  "upgrade-stateful-module.md": async (s) => {
    await bootstrap(s, ["minio"]);
    // The merged change: a new environment variable on the stateful minio (config.changed).
    const file = path.join(s.w.modulesDir, "minio", "module.yaml");
    const yaml = readFileSync(file, "utf8");
    const changed = yaml.replace("      environment:\n", '      environment:\n        MINIO_BROWSER: "off"\n');
    expect(changed).not.toBe(yaml);
    await writeFile(file, changed);
    const backup = (await s.run(["backup", "minio"])).stdout.trim();
    const r = await s.run(["apply", "--module", "minio", ...CONFIRM, "--backup-ref", backup, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toContain("drift.not_allowed");
  },
  "stale-plan.md": async (s) => {
    const applied = await s.run(["apply", "--module", "migrate", "--module", "web"]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect((await s.run(["plan", "--module", "web", "--out", "plan.json"])).code).toBe(0);
    await docker.getContainer(`${s.w.project}_web_web`).stop({ t: 1 });
    const r = await s.run(["apply", "--module", "web", "--plan", "plan.json"]);
    expect(r.code, r.stderr).toBe(5);
  },
  "held-lock.md": async (s) => {
    // An apply killed while its one-shot (migrate) hangs: the holder process is gone, the one-shot still runs.
    const dead = spawnSync("true").pid as number;
    const oneShot = await aLabelledContainer(testEngine(), {
      project: s.w.project,
      module: "migrate",
      service: "migrate",
      cmd: ["sh", "-c", "trap 'exit 143' TERM; sleep 600 & wait"],
      start: true,
    });
    await mkdir(s.w.stateDir, { recursive: true });
    const holder = {
      pid: dead,
      pid_start: "1",
      host: hostname(),
      user: "runner",
      command: "platformctl apply --module migrate",
      started_at: new Date(Date.now() - 3_600_000).toISOString(),
      ci_run_url: "https://forge.example.org/ops/platform/actions/runs/41",
      project: s.w.project,
      one_shot: oneShot,
    };
    await writeFile(path.join(s.w.stateDir, `apply-${s.w.project}.lock`), JSON.stringify(holder));
    const r = await s.run(["apply", "--module", "migrate"]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain("is still running");
  },
  "one-shot-timeout.md": async (s) => {
    await bootstrap(s, ["minio", "minio-init"]);
    const backup = (await s.run(["backup", "minio"])).stdout.trim();
    // A half-open network: "minio" on the platform network now answers with a peer that accepts connections and never
    // replies, while minio itself stays running and healthy (its healthcheck uses loopback), so the dependency check
    // passes and the re-run of minio-init waits on its request until the timeout. Undone before the runbook runs.
    const network = `${s.w.project}_platform`;
    const minio = `${s.w.project}_minio_minio`;
    await docker.getNetwork(network).disconnect({ Container: minio });
    const peer = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ["sh", "-c", "sleep 600 | nc -l -p 9000"],
      HostConfig: { NetworkMode: network },
      NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ["minio"] } } },
    });
    try {
      await peer.start();
      const r = await s.run(["apply", "--module", "minio-init", "--rerun", ...CONFIRM, "--backup-ref", backup, "--timeout", "3s"]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr).toContain("did not finish within 3s");
    } finally {
      await peer.remove({ force: true });
      await docker.getNetwork(network).connect({ Container: minio, EndpointConfig: { Aliases: ["minio"] } });
    }
  },
  "restore-stateful-module.md": async (s) => {
    // minio holds an object, is backed up, then the object is lost: the data is wrong while the module stays healthy.
    await bootstrap(s, ["minio"]);
    const minio = docker.getContainer(`${s.w.project}_minio_minio`);
    const exec = async (script: string) => {
      const e = await minio.exec({ Cmd: ["sh", "-c", script], AttachStdout: true, AttachStderr: true });
      const stream = await e.start({});
      await new Promise((resolve) => stream.on("end", resolve).resume());
      return (await e.inspect()).ExitCode;
    };
    expect(await exec("mkdir -p /data/buckets/data && echo report-v1 > /data/buckets/data/report.txt")).toBe(0);
    expect((await s.run(["backup", "minio"])).code).toBe(0);
    expect(await exec("rm /data/buckets/data/report.txt")).toBe(0);
    expect(await exec("cat /data/buckets/data/report.txt")).not.toBe(0);
  },
  "shadowed-nested-mount.md": async (s) => {
    await bootstrap(s, ["minio"]);
  },
  "rotate-secret.md": async (s) => {
    await bootstrap(s, ["minio", "minio-init"]);
  },
};

const files = readdirSync(RUNBOOKS)
  .filter((f) => f.endsWith(".md") && f !== "README.md")
  .sort();

/** Runs at most `n` scenes at once: each spends most of its time waiting on the engine (grace periods, healthchecks). */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => queue.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      queue.shift()?.();
    }
  };
}

const slot = limiter(3);
let shimDir: string;
const workspaces: Workspace[] = [];

beforeAll(async () => {
  // Operators have `platformctl` on PATH (npm link); here it is this checkout's bin.
  shimDir = await mkdtemp(path.join(tmpdir(), "platformctl-bin-"));
  await writeFile(
    path.join(shimDir, "platformctl"),
    `#!/usr/bin/env bash\nexec ${JSON.stringify(path.join(REPO, "bin/platformctl"))} "$@"\n`,
  );
  await chmod(path.join(shimDir, "platformctl"), 0o755);
});

afterAll(async () => {
  await rm(shimDir, { recursive: true, force: true });
  await Promise.all(workspaces.map((w) => w.remove()));
});

function bash(script: string, env: Record<string, string>, cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["--noprofile", "--norc", "-c", script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

describe("runbooks", () => {
  it("has an arranged scene for every runbook, and every runbook has Symptom, Commands, Verify and runnable blocks", () => {
    expect(Object.keys(SCENES).sort()).toEqual(files);
    for (const f of files) {
      const text = readFileSync(path.join(RUNBOOKS, f), "utf8");
      for (const heading of ["## Symptom", "## Commands", "## Verify"]) expect(text, `${f}: ${heading}`).toContain(heading);
      expect(runnableBlocks(text).length, f).toBeGreaterThan(0);
    }
  });

  it("lists every runbook in the index", () => {
    const index = readFileSync(path.join(RUNBOOKS, "README.md"), "utf8");
    for (const f of files) expect(index, f).toContain(`(${f})`);
  });

  for (const file of files) {
    it.concurrent(
      `runs every runnable block of runbooks/${file} in order against the engine, after arranging its symptom`,
      ({ expect }) =>
        slot(async () => {
          const w = await aWorkspace(`rb-${file.replace(/\.md$/, "").slice(0, 12)}`);
          workspaces.push(w);
          const cwd = path.join(w.root, "work");
          await mkdir(cwd);
          const scene: Scene = { w, cwd, run: (args, extra = {}) => runCli(args, { ...w.env, ...extra }, cwd) };
          await SCENES[file]!(scene);

          const blocks = runnableBlocks(readFileSync(path.join(RUNBOOKS, file), "utf8"));
          const script = [
            "set -euo pipefail",
            ...blocks.map((b, i) => `printf '\\n### block %d (runbooks/${file}:%d)\\n' ${i + 1} ${b.line} >&2\n${b.code}`),
          ].join("\n");
          const r = await bash(script, { ...runnerEnv(shimDir), ...w.env, NO_COLOR: "1" }, cwd);
          expect(r.code, r.output).toBe(0);
          expect(r.output).not.toContain(PASSWORD);
        }),
      300_000,
    );
  }
});
