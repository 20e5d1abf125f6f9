// Benchmark: `plan --json`, `validate` and `health` over N modules with N containers, beside `docker ps -a` +
// `docker inspect` of the same containers (the floor), at one or more sizes, cold (no manifest cache) and warm.
// With --adopted: `plan --json` over N Compose-created containers adopted by the modules `import compose` wrote.
// Usage: npm run bench:plan [-- --sizes 50,200,1000 --runs 7] [--adopted]
import Docker from "dockerode";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { loadModules } from "../src/catalog/load-modules.js";
import { buildContainer } from "../src/engine/container-body.js";

const argOf = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const SIZES = argOf("sizes", argOf("n", "200"))
  .split(",")
  .map((s) => Number(s));
const RUNS = Number(argOf("runs", "7"));
const ADOPTED = process.argv.includes("--adopted");
/** Compose files of the several-files variant (the N services spread evenly over them). */
const FILES = Number(argOf("files", "10"));
const IMAGE = "platformctl-test/busybox:1";
const repo = path.resolve(import.meta.dirname, "..");
const docker = new Docker();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** Runs the CLI; `ok` lists the exit codes that are results rather than failures (drift, an unhealthy module). */
function cli(args: string[], env: NodeJS.ProcessEnv, ok: number[] = [0]): void {
  // What users run (package.json "bin"): the launcher, which starts from the start-up snapshot.
  const r = spawnSync(path.join(repo, "bin/platformctl"), args, {
    encoding: "utf8",
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!ok.includes(r.status ?? -1)) throw new Error(`platformctl ${args[0]} exited ${r.status ?? r.signal}: ${r.stderr}`);
}

interface Row {
  n: number;
  floor: number;
  planCold: number;
  planWarm: number;
  validateCold: number;
  validateWarm: number;
  health: number;
  node: number;
}

async function measure(n: number): Promise<Row> {
  const project = `bench${process.pid}n${n}`;
  const root = await mkdtemp(path.join(tmpdir(), "platformctl-bench-"));
  const dir = path.join(root, "modules");
  const stateDir = path.join(root, "state");
  await mkdir(stateDir);
  try {
    for (let i = 0; i < n; i++) {
      const name = `m${String(i).padStart(4, "0")}`;
      await mkdir(path.join(dir, name), { recursive: true });
      await writeFile(
        path.join(dir, name, "module.yaml"),
        `apiVersion: platformctl/v1\nkind: Module\nmetadata:\n  name: ${name}\nspec:\n  runtime:\n    expected_state: exited-success\n  services:\n    job:\n      image: ${IMAGE}\n      command: ["true"]\n      environment:\n        N: "${i}"\n      restart: "no"\n`,
      );
    }
    const catalog = await loadModules(dir);
    if (!catalog.valid) throw new Error(`bench catalog invalid: ${catalog.problems[0]?.message}`);
    process.stderr.write(`creating ${n} containers for project ${project}…\n`);
    const queue = [...catalog.modules];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let m = queue.shift(); m; m = queue.shift()) {
          const built = buildContainer({ project, module: m, service: m.services[0]!, env: {}, digestKey: undefined });
          await docker.createContainer({ _query: { name: built.name }, _body: built.body } as unknown as Docker.ContainerCreateOptions);
        }
      }),
    );
    const cold = { ...process.env, STATE_DIR: stateDir, PLATFORMCTL_NO_CACHE: "1" };
    const warm = { ...process.env, STATE_DIR: stateDir };
    const common = ["--project", project, "--modules-dir", dir];
    const runs = {
      floor: () => {
        const out = execFileSync("docker", ["ps", "-a", "-q", "--no-trunc", "--filter", `label=dev.platformctl.project=${project}`], {
          encoding: "utf8",
        });
        execFileSync("docker", ["inspect", ...out.trim().split("\n")], {
          stdio: ["ignore", "ignore", "inherit"],
          maxBuffer: 64 * 1024 * 1024,
        });
      },
      planCold: () => cli([...common, "plan", "--json"], cold, [0, 2]),
      planWarm: () => cli([...common, "plan", "--json"], warm, [0, 2]),
      validateCold: () => cli(["validate", dir], cold),
      validateWarm: () => cli(["validate", dir], warm),
      // The containers were created and never started: every module is unhealthy (exit 1), which is the result.
      health: () => cli([...common, "health", "--json"], warm, [0, 1]),
      node: () => spawnSync(process.execPath, ["-e", "0"]),
    };
    for (const run of Object.values(runs)) run(); // warm-up: page cache, the manifest cache
    const samples = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as number[]])) as Record<keyof typeof runs, number[]>;
    for (let i = 0; i < RUNS; i++) for (const [k, run] of Object.entries(runs)) samples[k as keyof typeof runs].push(time(run));
    const m = (k: keyof typeof runs) => median(samples[k]);
    return {
      n,
      floor: m("floor"),
      planCold: m("planCold"),
      planWarm: m("planWarm"),
      validateCold: m("validateCold"),
      validateWarm: m("validateWarm"),
      health: m("health"),
      node: m("node"),
    };
  } finally {
    const left = await docker.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${project}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await rm(root, { recursive: true, force: true });
  }
}

interface AdoptedRow {
  n: number;
  floor: number;
  /** One N-service Compose file. */
  oneCold: number;
  oneWarm: number;
  /** The same services spread over FILES files, merged like `-f a -f b …`. */
  manyCold: number;
  manyWarm: number;
  node: number;
}

/** One Compose service; `${BENCH_TAG}` is interpolated from the command's environment, as a real platform's would be. */
const composeService = (i: number) =>
  `  s${String(i).padStart(4, "0")}:\n    image: ${IMAGE}\n    command: ["true"]\n    environment:\n      N: "\${BENCH_TAG:-none}-${i}"\n    restart: "no"\n`;

/**
 * N containers created as docker-compose 1.29.2 creates them (its name, labels and the service's config, never
 * started), adopted by the modules `platformctl import compose` writes from one N-service file, and by those it
 * writes from the same services spread over FILES files. The floor lists and inspects the same N containers.
 */
async function measureAdopted(n: number): Promise<AdoptedRow> {
  const project = `bench${process.pid}c${n}`;
  const root = await mkdtemp(path.join(tmpdir(), "platformctl-bench-"));
  const stateDir = path.join(root, "state");
  const tag = "t1";
  await mkdir(stateDir);
  await mkdir(path.join(root, "one"));
  await mkdir(path.join(root, "many"));
  try {
    const services = Array.from({ length: n }, (_, i) => composeService(i));
    await writeFile(path.join(root, "one", "compose.yaml"), `services:\n${services.join("")}`);
    const per = Math.ceil(n / FILES);
    const many: string[] = [];
    for (let f = 0; f * per < n; f++) {
      const name = `compose.${f}.yaml`;
      many.push("-f", name);
      await writeFile(path.join(root, "many", name), `services:\n${services.slice(f * per, (f + 1) * per).join("")}`);
    }
    const env = { ...process.env, STATE_DIR: stateDir, BENCH_TAG: tag };
    for (const [dir, files] of [
      ["one", ["-f", "compose.yaml"]],
      ["many", many],
    ] as const) {
      const r = spawnSync(path.join(repo, "bin/platformctl"), ["--project", project, "import", "compose", ...files, "--out", "modules"], {
        cwd: path.join(root, dir),
        encoding: "utf8",
        env,
      });
      if (r.status !== 0) throw new Error(`import compose (${dir}) exited ${r.status ?? r.signal}: ${r.stderr}${r.stdout}`);
    }
    process.stderr.write(`creating ${n} Compose-labelled containers for project ${project}…\n`);
    // Compose puts a service without `networks:` on `<project>_default`, under its service name as an alias.
    await docker.createNetwork({
      Name: `${project}_default`,
      Labels: { "com.docker.compose.project": project, "com.docker.compose.network": "default", "com.docker.compose.version": "1.29.2" },
    });
    const queue = Array.from({ length: n }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const service = `s${String(i).padStart(4, "0")}`;
          await docker.createContainer({
            name: `${project}_${service}_1`,
            Image: IMAGE,
            Cmd: ["true"],
            Env: [`N=${tag}-${i}`],
            Labels: {
              "com.docker.compose.project": project,
              "com.docker.compose.service": service,
              "com.docker.compose.container-number": "1",
              "com.docker.compose.oneoff": "False",
              "com.docker.compose.version": "1.29.2",
              "com.docker.compose.config-hash": "0".repeat(64),
            },
            HostConfig: { RestartPolicy: { Name: "no" }, NetworkMode: `${project}_default` },
            NetworkingConfig: { EndpointsConfig: { [`${project}_default`]: { Aliases: [service] } } },
          });
        }
      }),
    );
    const cold = { ...env, PLATFORMCTL_NO_CACHE: "1" };
    const plan = (dir: string, e: NodeJS.ProcessEnv) => () =>
      cli(["--project", project, "--modules-dir", path.join(root, dir, "modules"), "plan", "--json"], e, [0, 2]);
    const runs = {
      floor: () => {
        const out = execFileSync("docker", ["ps", "-a", "-q", "--no-trunc", "--filter", `label=com.docker.compose.project=${project}`], {
          encoding: "utf8",
        });
        execFileSync("docker", ["inspect", ...out.trim().split("\n")], {
          stdio: ["ignore", "ignore", "inherit"],
          maxBuffer: 64 * 1024 * 1024,
        });
      },
      oneCold: plan("one", cold),
      oneWarm: plan("one", env),
      manyCold: plan("many", cold),
      manyWarm: plan("many", env),
      node: () => spawnSync(process.execPath, ["-e", "0"]),
    };
    for (const run of Object.values(runs)) run();
    const samples = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as number[]])) as Record<keyof typeof runs, number[]>;
    for (let i = 0; i < RUNS; i++) for (const [k, run] of Object.entries(runs)) samples[k as keyof typeof runs].push(time(run));
    const m = (k: keyof typeof runs) => median(samples[k]);
    return {
      n,
      floor: m("floor"),
      oneCold: m("oneCold"),
      oneWarm: m("oneWarm"),
      manyCold: m("manyCold"),
      manyWarm: m("manyWarm"),
      node: m("node"),
    };
  } finally {
    // A few at a time: 200 removals at once have broken the engine's socket (EPIPE) on a loaded machine.
    const left = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } });
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let c = left.shift(); c; c = left.shift()) await docker.getContainer(c.Id).remove({ force: true });
      }),
    );
    const nets = await docker.listNetworks({ filters: { label: [`com.docker.compose.project=${project}`] } });
    await Promise.all(nets.map((x) => docker.getNetwork(x.Id).remove()));
    await rm(root, { recursive: true, force: true });
  }
}

async function mainAdopted() {
  const rows: AdoptedRow[] = [];
  for (const n of SIZES) rows.push(await measureAdopted(n));
  const ms = (x: number) => x.toFixed(0).padStart(7);
  const x = (a: number, b: number) => `${(a / b).toFixed(2).padStart(6)}x`;
  console.log(
    `adopted plan benchmark: N Compose-created containers, N modules from import compose, ${RUNS} alternating runs per size (medians, whole processes, ms)`,
  );
  console.log(
    `one = one N-service file; many = the same services over ${FILES} files; floor = docker ps -a + docker inspect of the N containers`,
  );
  console.log("      N   floor  one(cold) one(warm)  warm/floor  many(cold) many(warm)  warm/floor  node -e 0");
  for (const r of rows) {
    console.log(
      `${String(r.n).padStart(7)} ${ms(r.floor)}   ${ms(r.oneCold)}   ${ms(r.oneWarm)}    ${x(r.oneWarm, r.floor)}    ${ms(r.manyCold)}    ${ms(r.manyWarm)}    ${x(r.manyWarm, r.floor)}   ${ms(r.node)}`,
    );
  }
  console.log("target at 200 (issue 13, the plan benchmark's bound): plan (warm) <= 2x the floor and < 1000 ms");
}

async function main() {
  if (ADOPTED) return mainAdopted();
  const rows: Row[] = [];
  for (const n of SIZES) rows.push(await measure(n));
  const ms = (x: number) => x.toFixed(0).padStart(7);
  console.log(`plan benchmark: N modules with N containers, ${RUNS} alternating runs per size (medians, whole processes, ms)`);
  console.log("      N   floor  plan(cold) plan(warm)  warm/floor  warm/N  validate(cold) validate(warm)  health  health/floor  node -e 0");
  for (const r of rows) {
    console.log(
      `${String(r.n).padStart(7)} ${ms(r.floor)} ${ms(r.planCold)}    ${ms(r.planWarm)}     ${(r.planWarm / r.floor).toFixed(2).padStart(6)}x  ${(r.planWarm / r.n).toFixed(2).padStart(6)}  ${ms(r.validateCold)}        ${ms(r.validateWarm)}        ${ms(r.health)}  ${(r.health / r.floor).toFixed(2).padStart(8)}x   ${ms(r.node)}`,
    );
  }
  console.log("targets at 200: plan <= 2x the floor and < 1000 ms; validate <= 300 ms; health <= 2x the floor; warm/N flat as N grows");
  for (const r of rows)
    console.log(
      `  at ${r.n}: health / floor ${(r.health / r.floor).toFixed(2)}x (target <= 2x), plan (warm) / floor ${(r.planWarm / r.floor).toFixed(2)}x (target <= 2x)`,
    );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
