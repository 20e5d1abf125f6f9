// Benchmark: `platformctl apply --rerun` of a busybox `true` one-shot, end to end (process start to exit), beside
// `docker start -a` of an equivalent container (the engine floor) and `docker-compose up` of the same service.
// Usage: npm run bench:apply [-- --runs 9]
import Docker from "dockerode";
import { spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("runs", 9);
const IMAGE = "platformctl-test/busybox:1";
const project = `benchapply${process.pid}`;
const composeProject = `benchcompose${process.pid}`;
const repo = path.resolve(import.meta.dirname, "..");
/** What users run (package.json "bin"): the launcher, which starts from the start-up snapshot. */
const BIN = path.join(repo, "bin/platformctl");
const docker = new Docker();

/** `env` without NODE_EXTRA_CA_CERTS. */
function withoutExtraCa(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _dropped, ...rest } = env;
  return rest;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Runs a command, fails loudly on a non-zero exit, and returns its wall time in ms. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = repo): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr || r.stdout}`);
  return ms;
}

function hasCompose(): boolean {
  return spawnSync("docker-compose", ["version"], { encoding: "utf8" }).status === 0;
}

async function main() {
  const root = await mkdtemp(path.join(tmpdir(), "platformctl-bench-apply-"));
  const modules = path.join(root, "modules");
  const env = { ...process.env, STATE_DIR: path.join(root, "state"), NO_COLOR: "1" };
  const cli = ["apply", "--project", project, "--modules-dir", modules, "--module", "job", "--rerun"];
  const compose = hasCompose();
  const extraCa = (process.env.NODE_EXTRA_CA_CERTS ?? "") !== "";
  let floorId: string | undefined;
  try {
    await mkdir(path.join(modules, "job"), { recursive: true });
    await writeFile(
      path.join(modules, "job", "module.yaml"),
      `apiVersion: platformctl/v1\nkind: Module\nmetadata:\n  name: job\nspec:\n  runtime:\n    expected_state: exited-success\n  services:\n    job:\n      image: ${IMAGE}\n      command: ["true"]\n      restart: "no"\n`,
    );
    await writeFile(
      path.join(root, "docker-compose.yml"),
      `version: "2.4"\nservices:\n  job:\n    image: ${IMAGE}\n    command: ["true"]\n    restart: "no"\n`,
    );
    const floor = await docker.createContainer({
      Image: IMAGE,
      Cmd: ["true"],
      Labels: { "dev.platformctl.bench": project },
      HostConfig: { RestartPolicy: { Name: "no" } },
    });
    floorId = floor.id;

    const runs: Record<string, () => number> = {
      "platformctl apply --rerun": () => timed(BIN, cli, env),
      "docker start -a (floor)": () => timed("docker", ["start", "-a", floor.id]),
      ...(compose
        ? {
            "docker-compose up": () =>
              timed(
                "docker-compose",
                ["-p", composeProject, "-f", path.join(root, "docker-compose.yml"), "up", "--no-color"],
                process.env,
                root,
              ),
          }
        : {}),
      "node -e 0 (process start only)": () => timed(process.execPath, ["-e", "0"]),
      // Node reads NODE_EXTRA_CA_CERTS at every start, before any code runs (~50 ms for a system bundle on this machine
      // kind); bin/platformctl keeps it from doing so (src/cli/extra-ca-certs.ts). Shown for what it costs a plain node.
      ...(extraCa
        ? { "node -e 0, NODE_EXTRA_CA_CERTS unset": () => timed(process.execPath, ["-e", "0"], withoutExtraCa(process.env)) }
        : {}),
    };
    // Warm-up: creates the platformctl container and the compose project, and fills the page cache.
    timed(
      BIN,
      cli.filter((a) => a !== "--rerun"),
      env,
    );
    for (const run of Object.values(runs)) run();

    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) for (const [name, run] of Object.entries(runs)) samples[name]?.push(run());

    const m = (name: string) => median(samples[name] ?? [NaN]);
    const apply = m("platformctl apply --rerun");
    const floorMs = m("docker start -a (floor)");
    console.log(`apply benchmark: one busybox \`true\` one-shot, ${RUNS} alternating runs (medians, whole processes)`);
    for (const name of Object.keys(runs)) console.log(`  ${name.padEnd(40)} ${m(name).toFixed(0).padStart(6)} ms`);
    console.log(`  ratio apply / floor:          ${(apply / floorMs).toFixed(2)}x   (target <= 1.25x)`);
    if (compose) console.log(`  ratio apply / docker-compose: ${(apply / m("docker-compose up")).toFixed(2)}x   (target <= 0.5x)`);
    else console.log("  docker-compose: not installed, skipped (install it with: sudo apt-get install docker-compose)");
  } finally {
    const left = await docker.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${project}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    if (floorId)
      await docker
        .getContainer(floorId)
        .remove({ force: true })
        .catch(() => undefined);
    if (compose)
      spawnSync("docker-compose", ["-p", composeProject, "-f", path.join(root, "docker-compose.yml"), "down", "--remove-orphans"], {
        cwd: root,
        stdio: "ignore",
      });
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
