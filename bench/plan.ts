// Benchmark: `platformctl plan --json` over N modules with N containers, beside `docker ps -a` + `docker inspect` of the same containers (the floor).
// Usage: npm run bench:plan [-- --n 200 --runs 7]
import Docker from "dockerode";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { buildContainer } from "../src/engine/container-body.js";
import { loadModules } from "../src/catalog/load-modules.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg("n", 200);
const RUNS = arg("runs", 7);
const IMAGE = "platformctl-test/busybox:1";
const project = `bench${process.pid}`;
const repo = path.resolve(import.meta.dirname, "..");
const docker = new Docker();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function main() {
  const root = await mkdtemp(path.join(tmpdir(), "platformctl-bench-"));
  const dir = path.join(root, "modules");
  try {
    for (let i = 0; i < N; i++) {
      const name = `m${String(i).padStart(3, "0")}`;
      await mkdir(path.join(dir, name), { recursive: true });
      await writeFile(
        path.join(dir, name, "module.yaml"),
        `apiVersion: platformctl/v1\nkind: Module\nmetadata:\n  name: ${name}\nspec:\n  runtime:\n    expected_state: exited-success\n  services:\n    job:\n      image: ${IMAGE}\n      command: ["true"]\n      environment:\n        N: "${i}"\n      restart: "no"\n`,
      );
    }
    const catalog = await loadModules(dir);
    if (!catalog.valid) throw new Error(`bench catalog invalid: ${catalog.problems[0]?.message}`);
    process.stderr.write(`creating ${N} containers for project ${project}…\n`);
    const ids: string[] = [];
    const queue = [...catalog.modules];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let m = queue.shift(); m; m = queue.shift()) {
          const built = buildContainer({ project, module: m, service: m.services[0]!, env: {}, digestKey: undefined });
          const c = await docker.createContainer({
            _query: { name: built.name },
            _body: built.body,
          } as unknown as Docker.ContainerCreateOptions);
          ids.push(c.id);
        }
      }),
    );

    const floorRun = () => {
      const out = execFileSync("docker", ["ps", "-a", "-q", "--no-trunc", "--filter", `label=dev.platformctl.project=${project}`], {
        encoding: "utf8",
      });
      execFileSync("docker", ["inspect", ...out.trim().split("\n")], {
        stdio: ["ignore", "ignore", "inherit"],
        maxBuffer: 64 * 1024 * 1024,
      });
    };
    const planRun = () => {
      const r = spawnSync(
        process.execPath,
        [path.join(repo, "bin/platformctl.js"), "plan", "--json", "--project", project, "--modules-dir", dir],
        { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      );
      if (r.status !== 0) throw new Error(`plan failed: ${r.stderr}`);
    };
    const nodeRun = () => {
      spawnSync(process.execPath, ["-e", "0"]);
    };
    floorRun();
    planRun();
    const floor: number[] = [];
    const plan: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      floor.push(time(floorRun));
      plan.push(time(planRun));
      bare.push(time(nodeRun));
    }
    const f = median(floor);
    const p = median(plan);
    console.log(`plan benchmark: ${N} modules, ${N} containers, ${RUNS} alternating runs (medians)`);
    console.log(`  docker ps -a + docker inspect (floor): ${f.toFixed(0)} ms`);
    console.log(`  platformctl plan --json (whole process): ${p.toFixed(0)} ms`);
    console.log(`  node -e 0 (process start only):         ${median(bare).toFixed(0)} ms`);
    console.log(`  ratio plan / floor: ${(p / f).toFixed(2)}x   (target <= 2x and < 1000 ms)`);
  } finally {
    if (process.argv.includes("--keep")) {
      console.log(`kept: project ${project}, catalog ${dir}`);
    } else {
      const left = await docker.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${project}`] } });
      await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      await rm(root, { recursive: true, force: true });
    }
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
