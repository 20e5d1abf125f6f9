// Benchmark: `platformctl backup` (methods archive and stop) and `restore` of a busybox volume holding --mb MB (half
// random, half text), beside the plain docker CLI doing the same copy (`docker run --rm -v vol:/d busybox tar`, and
// `docker cp`), in MB/s of volume data, plus the stop method's downtime.
// Usage: npm run bench:backup [-- --runs 5 --mb 150]
import Docker from "dockerode";
import { spawnSync } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("runs", 5);
const MB = arg("mb", 150);
const IMAGE = "platformctl-test/busybox:1";
const project = `benchbackup${process.pid}`;
const repo = path.resolve(import.meta.dirname, "..");
/** What users run (package.json "bin"): the launcher, which starts from the start-up snapshot. */
const BIN = path.join(repo, "bin/platformctl");
const docker = new Docker();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Runs a command (stdout to `out` when given), fails loudly on a non-zero exit, returns its wall time in ms and stdout. */
function timed(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; out?: string; input?: string } = {}) {
  const fdOut = opts.out ? openSync(opts.out, "w", 0o600) : undefined;
  const fdIn = opts.input ? openSync(opts.input, "r") : undefined;
  const t = performance.now();
  const r = spawnSync(cmd, args, {
    cwd: repo,
    env: opts.env ?? process.env,
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    stdio: [fdIn ?? "ignore", fdOut ?? "pipe", "pipe"],
  });
  const ms = performance.now() - t;
  if (fdOut !== undefined) closeSync(fdOut);
  if (fdIn !== undefined) closeSync(fdIn);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr || r.stdout}`);
  return { ms, stdout: r.stdout ?? "" };
}

/** A module whose one service sleeps (and exits at once on SIGTERM) with volume `data` mounted at /d. */
const moduleYaml = (name: string, method: "archive" | "stop") =>
  [
    "apiVersion: platformctl/v1",
    "kind: Module",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    "  runtime:",
    "    expected_state: running",
    "  services:",
    `    ${name}:`,
    `      image: ${IMAGE}`,
    `      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]`,
    '      restart: "no"',
    "      stop_grace_period: 5s",
    `      volumes: ["${name}-data:/d"]`,
    "  backup:",
    `    method: ${method}`,
    "",
  ].join("\n");

/** Fills a volume with `mb` MB: half from /dev/urandom (incompressible), half repeated text (compresses well). */
async function fill(volume: string, mb: number): Promise<void> {
  const half = Math.max(1, Math.floor(mb / 2));
  const script = `for i in $(seq 1 ${half}); do head -c 1048576 /dev/urandom > /d/r$i; yes "row $i: some text a database might hold" | head -c 1048576 > /d/t$i; done`;
  const c = await docker.createContainer({
    Image: IMAGE,
    Cmd: ["sh", "-c", script],
    Labels: { "dev.platformctl.project": project },
    HostConfig: { Mounts: [{ Type: "volume", Source: volume, Target: "/d" }] },
  });
  await c.start();
  await c.wait();
  await c.remove();
}

async function main() {
  const root = await mkdtemp(path.join(tmpdir(), "platformctl-bench-backup-"));
  const modules = path.join(root, "modules");
  const backups = path.join(root, "backups");
  const env = { ...process.env, STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: backups, NO_COLOR: "1" };
  const cli = (...args: string[]) => [...args, "--project", project, "--modules-dir", modules];
  try {
    await mkdir(backups, { recursive: true });
    for (const [name, method] of [
      ["arch", "archive"],
      ["cold", "stop"],
    ] as const) {
      await mkdir(path.join(modules, name), { recursive: true });
      await writeFile(path.join(modules, name, "module.yaml"), moduleYaml(name, method));
      timed(BIN, cli("apply", "--module", name), { env });
      await fill(`${project}_${name}-data`, MB);
    }
    const mb = 2 * Math.max(1, Math.floor(MB / 2));
    const vol = `${project}_arch-data`;
    const out = (n: string) => path.join(root, n);
    const runs: Record<string, () => number> = {
      "platformctl backup (archive)": () => timed(BIN, cli("backup", "arch", "--json"), { env }).ms,
      "platformctl backup (stop)": () => {
        const r = timed(BIN, cli("backup", "cold", "--json"), { env });
        downtimes.push((JSON.parse(r.stdout) as { downtime_ms: number }).downtime_ms);
        lastStop = (JSON.parse(r.stdout) as { file: string }).file;
        return r.ms;
      },
      "docker run busybox tar -cz": () =>
        timed("docker", ["run", "--rm", "-v", `${vol}:/d:ro`, IMAGE, "tar", "-czf", "-", "-C", "/d", "."], { out: out("tar.tgz") }).ms,
      "docker cp (uncompressed tar)": () => timed("docker", ["cp", `${project}_arch_arch:/d/.`, "-"], { out: out("cp.tar") }).ms,
      "platformctl restore (stop)": () =>
        timed(BIN, cli("restore", "cold", "--from", lastStop, "--allow-stateful", "--confirm", "BACKUP_DONE_F3", "--json"), {
          env,
        }).ms,
      "docker run -i busybox tar -xz": () =>
        timed("docker", ["run", "--rm", "-i", "-v", `${project}_restore-floor:/d`, IMAGE, "tar", "-xzf", "-", "-C", "/d"], {
          input: out("tar.tgz"),
        }).ms,
    };
    const downtimes: number[] = [];
    let lastStop = "";
    // Warm-up: fills the page cache and creates the first archives the restores read.
    for (const run of Object.values(runs)) run();
    downtimes.length = 0;
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) for (const [name, run] of Object.entries(runs)) samples[name]?.push(run());

    const m = (name: string) => median(samples[name] ?? [NaN]);
    const sizes = {
      platformctl: (await stat(lastStop)).size,
      tar: (await stat(out("tar.tgz"))).size,
    };
    console.log(
      `backup benchmark: a ${mb} MB volume (half random, half text), ${RUNS} alternating runs (medians, whole processes), ${new Date().toISOString()}`,
    );
    console.log(`  ${"".padEnd(34)} ${"time".padStart(8)} ${"MB/s".padStart(7)}`);
    for (const name of Object.keys(runs))
      console.log(
        `  ${name.padEnd(34)} ${`${(m(name) / 1000).toFixed(2)} s`.padStart(8)} ${(mb / (m(name) / 1000)).toFixed(1).padStart(7)}`,
      );
    console.log(
      `  stop method downtime (median):     ${(median(downtimes) / 1000).toFixed(2)} s  (runs: ${downtimes.map((d) => (d / 1000).toFixed(2)).join(", ")})`,
    );
    console.log(
      `  ratio backup archive / docker tar: ${(m("platformctl backup (archive)") / m("docker run busybox tar -cz")).toFixed(2)}x`,
    );
    console.log(
      `  ratio restore / docker tar -x:     ${(m("platformctl restore (stop)") / m("docker run -i busybox tar -xz")).toFixed(2)}x`,
    );
    console.log(
      `  archive size: platformctl ${(sizes.platformctl / 1e6).toFixed(1)} MB, busybox tar -cz ${(sizes.tar / 1e6).toFixed(1)} MB`,
    );
  } finally {
    const left = await docker.listContainers({ all: true, filters: { label: [`dev.platformctl.project=${project}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    const vols = (await docker.listVolumes()).Volumes?.filter((v) => v.Name.startsWith(`${project}_`)) ?? [];
    await Promise.all(vols.map((v) => docker.getVolume(v.Name).remove()));
    const nets = await docker.listNetworks({ filters: { label: [`dev.platformctl.project=${project}`] } });
    await Promise.all(nets.map((n) => docker.getNetwork(n.Id).remove()));
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
