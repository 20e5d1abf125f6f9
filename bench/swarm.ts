// Benchmark: `platformctl --runtime swarm apply` of a busybox `true` one-shot (a replicated job) on a real 3-node Swarm,
// beside `docker service create --mode replicated-job` + waiting for its completion, whole processes, same cluster.
// The docker CLI's own job waiter has no failure exit (a failing job hangs it, docker/cli#2979), so an operator
// creates with -d and polls `docker service ps` (every 250 ms here, platformctl's own poll interval); the attached
// `service create` (the CLI's waiter) is shown too. The bench brings its cluster up with scripts/swarm.sh on
// --slot (default 9) and always tears it down.
// Usage: npm run bench:swarm [-- --runs 5 --slot 9]
import { spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("runs", 5);
const SLOT = String(arg("slot", 9));
const IMAGE = "platformctl-test/busybox:1";
const repo = path.resolve(import.meta.dirname, "..");
const tag = `bsw${process.pid}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Runs a command, fails loudly on a non-zero exit, and returns its wall time in ms. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd: repo, env, encoding: "utf8", maxBuffer: 16 * 1024 * 1024, timeout: 300_000 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr || r.stdout}`);
  return ms;
}

function swarm(action: "up" | "down"): string {
  const r = spawnSync("bash", ["scripts/swarm.sh", action], {
    cwd: repo,
    env: { ...process.env, PLATFORMCTL_SWARM_SLOT: SLOT },
    encoding: "utf8",
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`swarm.sh ${action} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout.trim().split("\n").at(-1) ?? "";
}

/** Polls `docker service ps` until the job's task is Complete, as an operator's script would (fails on Failed/Rejected). */
const POLL = `until s=$(docker service ps "$1" --format '{{.CurrentState}}'); case "$s" in Complete*) true;; Failed*|Rejected*) echo "$s" >&2; exit 1;; *) false;; esac; do sleep 0.25; done`;

async function main() {
  const root = await mkdtemp(path.join(tmpdir(), "platformctl-bench-swarm-"));
  const modules = path.join(root, "modules");
  let up = false;
  try {
    await mkdir(path.join(modules, "job"), { recursive: true });
    await writeFile(
      path.join(modules, "job", "module.yaml"),
      `apiVersion: platformctl/v1\nkind: Module\nmetadata:\n  name: job\nspec:\n  runtime:\n    expected_state: exited-success\n  services:\n    job:\n      image: ${IMAGE}\n      command: ["true"]\n      restart: "no"\n`,
    );
    const dockerHost = swarm("up");
    up = true;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DOCKER_HOST: dockerHost,
      STATE_DIR: path.join(root, "state"),
      NO_COLOR: "1",
    };
    delete env.PLATFORMCTL_RUNTIME;
    let n = 0;
    const apply = (project: string, rerun: boolean) =>
      timed(
        "bin/platformctl",
        ["--runtime", "swarm", "apply", "--project", project, "--modules-dir", modules, "--module", "job", ...(rerun ? ["--rerun"] : [])],
        env,
      );
    const rmService = (name: string) => spawnSync("docker", ["service", "rm", name], { env, stdio: "ignore" });
    const kept = `${tag}kept`;
    const keptJob = `${tag}-keptjob`;
    const runs: Record<string, () => number> = {
      "platformctl apply (new job)": () => {
        const project = `${tag}p${n++}`;
        const ms = apply(project, false);
        rmService(`${project}_job_job`);
        return ms;
      },
      "docker service create -d + poll": () => {
        const name = `${tag}-d${n++}`;
        const ms = timed(
          "bash",
          [
            "-c",
            `docker service create -q -d --name "$1" --mode replicated-job --restart-condition none ${IMAGE} true >/dev/null && ${POLL}`,
            "_",
            name,
          ],
          env,
        );
        rmService(name);
        return ms;
      },
      "docker service create (attached)": () => {
        const name = `${tag}-a${n++}`;
        const ms = timed(
          "docker",
          ["service", "create", "-q", "--name", name, "--mode", "replicated-job", "--restart-condition", "none", IMAGE, "true"],
          env,
        );
        rmService(name);
        return ms;
      },
      "platformctl apply --rerun": () => apply(kept, true),
      "docker service update --force -d + poll": () =>
        timed(
          "bash",
          [
            "-c",
            `docker service update -q -d --force "$1" >/dev/null && until s=$(docker service ps "$1" --filter desired-state=complete --format '{{.CurrentState}}' | head -1); case "$s" in Complete*) true;; *) false;; esac; do sleep 0.25; done`,
            "_",
            keptJob,
          ],
          env,
        ),
      "node -e 0 (process start only)": () => timed(process.execPath, ["-e", "0"], env),
    };
    // Warm-up: the kept job of each side exists before --rerun / --force is measured; the page cache is filled.
    apply(kept, false);
    timed(
      "docker",
      ["service", "create", "-q", "--name", keptJob, "--mode", "replicated-job", "--restart-condition", "none", IMAGE, "true"],
      env,
    );
    for (const run of Object.values(runs)) run();

    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) for (const [name, run] of Object.entries(runs)) samples[name]?.push(run());

    const m = (name: string) => median(samples[name] ?? [Number.NaN]);
    console.log(
      `swarm benchmark: one busybox \`true\` replicated job on a 3-node Swarm (slot ${SLOT}), ${RUNS} alternating runs (medians, whole processes)`,
    );
    for (const name of Object.keys(runs)) console.log(`  ${name.padEnd(40)} ${m(name).toFixed(0).padStart(6)} ms`);
    const ratio = (a: string, b: string) => `${(m(a) / m(b)).toFixed(2)}x`;
    console.log(
      `  ratio apply (new job) / docker service create -d + poll:       ${ratio("platformctl apply (new job)", "docker service create -d + poll")}`,
    );
    console.log(
      `  ratio apply (new job) / docker service create (attached):      ${ratio("platformctl apply (new job)", "docker service create (attached)")}`,
    );
    console.log(
      `  ratio apply --rerun / docker service update --force -d + poll: ${ratio("platformctl apply --rerun", "docker service update --force -d + poll")}`,
    );
  } finally {
    if (up) swarm("down");
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
