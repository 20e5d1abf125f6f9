// Suite-wide setup: a per-run id for labels, an engine check that fails (never skips) without Docker, a sweep of what
// earlier runs that died left behind, and cleanup of every container, volume and network this run created.
import Docker from "dockerode";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { scratchOf } from "../src/plan/unit-name.js";

const runId = `t${randomBytes(3).toString("hex")}`;
/** Test projects are `<run id>-…` (test/helpers/run-id.ts): the run id is `t` and six hex digits. */
const TEST_PROJECT = /^(t[0-9a-f]{6})-/;
/** One file per live test run on this machine, holding the pid of its vitest process. */
const LIVE_RUNS = path.join(os.tmpdir(), "platformctl-test-runs");

function docker(): Docker {
  return new Docker();
}

export async function setup(): Promise<void> {
  process.env.PLATFORMCTL_TEST_RUN = runId;
  try {
    await docker().ping();
  } catch (e) {
    throw new Error(
      `No Docker engine answers (${process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"}): engine tests cannot run. ` +
        "Run `bash scripts/setup.sh` (installs and starts dockerd) and try again.",
      { cause: e },
    );
  }
  mkdirSync(LIVE_RUNS, { recursive: true });
  writeFileSync(path.join(LIVE_RUNS, runId), String(process.pid));
  await sweepDeadRuns();
}

/** Removes everything labelled with a project of this run (projects used by tests start with the run id). */
export async function teardown(): Promise<void> {
  await removeProjects((project) => project.startsWith(runId));
  rmSync(path.join(LIVE_RUNS, runId), { force: true });
}

/**
 * A run killed before its teardown (a cancelled CI job, a Ctrl-C) leaves its containers, volumes and networks on the
 * engine; enough leftover networks exhaust the engine's address pools and every later run fails to create one. So each
 * run first removes the test projects of runs that are not alive: no live-run file, or its pid is gone. Runs alive in
 * parallel (another checkout's suite) are left alone.
 */
async function sweepDeadRuns(): Promise<void> {
  const live = new Set([runId]);
  for (const name of readdirSync(LIVE_RUNS)) {
    const pid = Number(readFileSync(path.join(LIVE_RUNS, name), "utf8"));
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) live.add(name);
    else rmSync(path.join(LIVE_RUNS, name), { force: true });
  }
  const swept = await removeProjects((project) => {
    const m = TEST_PROJECT.exec(project);
    return m !== null && !live.has(m[1] as string);
  });
  if (swept > 0) console.log(`test setup: removed ${swept} containers, volumes and networks left behind by test runs that died`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes containers (with their anonymous volumes), then volumes, then networks of the projects `pick` selects. */
async function removeProjects(pickProject: (project: string) => boolean): Promise<number> {
  const d = docker();
  // A scratch project of restore --verify (`0verify-…-<project>`) belongs to the test project it was made for.
  const pick = (project: string) => pickProject(scratchOf(project) ?? project);
  // A test project's resources carry platformctl's project label, or Compose's when `docker-compose` made them.
  const mine = (labels: Record<string, string> | undefined | null) =>
    pick(labels?.["dev.platformctl.project"] ?? "") || pick(labels?.["com.docker.compose.project"] ?? "");
  // Removal failures are left for the next run's sweep: a resource already gone, or still in use by a container
  // another removal in this same pass has not finished with yet.
  const containers = (await d.listContainers({ all: true })).filter((c) => mine(c.Labels));
  await Promise.all(
    containers.map((c) =>
      d
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  // Volumes also by name: a named volume the engine created for a test's own container (not through platformctl)
  // carries no labels, and `<project>_<volume>` still says whose it is.
  const volumes = ((await d.listVolumes()).Volumes ?? []).filter(
    (v) => mine(v.Labels as Record<string, string> | null) || pick(v.Name.split("_")[0] ?? ""),
  );
  await Promise.all(
    volumes.map((v) =>
      d
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
  const networks = (await d.listNetworks()).filter((n) => mine(n.Labels));
  await Promise.all(
    networks.map((n) =>
      d
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  return containers.length + volumes.length + networks.length;
}
