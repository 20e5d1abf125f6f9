// A second SIGINT/SIGTERM on a real process stuck in the filesystem (an open() waiting out a file lease): it ends at once.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { aCatalog, manifest } from "../helpers/platform.js";
import { runCli, spawnCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const run = promisify(execFile);
const SECRET = "second-signal-canary-Qm42";

/**
 * A live-copy (archive) backup of one volume and one bind mount (read by platformctl itself); the secret is in its
 * environment, so no output path may print it.
 */
const vault = (conf: string) =>
  manifest("vault", {
    services: [
      "    vault:",
      `      image: ${TEST_IMAGE}`,
      '      command: ["sh", "-c", "echo data > /data/file; exec sleep 600"]',
      "      environment:",
      "        VAULT_PASSWORD: ${VAULT_PASSWORD:?set it}",
      `      volumes: ["vault-data:/data", "${conf}:/conf"]`,
      "",
    ].join("\n"),
    extra: ["  backup:", "    method: archive"].join("\n"),
  });

let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let env: Record<string, string>;
let project: string;

/**
 * True when one of the process's threads is blocked in an open() that waits for a file lease to be broken (Linux
 * `__break_lease`): the libuv thread-pool call no signal handler can end. Read from /proc.
 */
async function stuckInOpen(pid: number): Promise<boolean> {
  const tasks = await readdir(`/proc/${pid}/task`);
  const chans = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/wchan`, "utf8").catch(() => "")));
  return chans.some((c) => c.trim() === "__break_lease");
}

/**
 * Holds a write lease on `file` (perl, always on Debian: Node cannot take a lease), ignoring the break signal: any
 * other open() of the file, non-blocking ones aside, then waits in the kernel until the holder lets go or
 * /proc/sys/fs/lease-break-time (45 s by default) passes. That is how a command gets stuck in a filesystem call on
 * demand, now that no FIFO blocks platformctl. Resolves once the lease is held.
 */
async function holdLease(file: string): Promise<ChildProcess> {
  const script =
    'use Fcntl; $| = 1; $SIG{IO} = "IGNORE"; open(my $f, "<", $ARGV[0]) or die "open: $!"; fcntl($f, 1024, F_WRLCK) or die "lease: $!"; print "leased\\n"; sleep 600;';
  const child = spawn("perl", ["-e", script, file], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (b: Buffer) => (b.toString().includes("leased") ? resolve() : undefined));
    child.on("exit", (code) => reject(new Error(`the lease holder exited (${code}) before it held the lease`)));
  });
  return child;
}

let holder: ChildProcess | undefined;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "platformctl-second-signal-"));
  await run("mkdir", ["-p", path.join(root, "backups"), path.join(root, "state"), path.join(root, "conf")]);
  await writeFile(path.join(root, "conf", "settings"), "x=1\n");
  catalog = await aCatalog();
  await catalog.write("vault", vault(path.join(root, "conf")));
  project = testProject("second-signal");
  env = { STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"), VAULT_PASSWORD: SECRET, NO_COLOR: "1" };
  const boot = await runCli(["apply", "--module", "vault", "--project", project, "--modules-dir", catalog.dir], env);
  expect(boot.code, boot.stdout + boot.stderr).toBe(0);
  // The backup reads the bind's files itself: its open() of conf/settings waits for the lease to be broken.
  holder = await holdLease(path.join(root, "conf", "settings"));
}, 120_000);

afterAll(async () => {
  holder?.kill("SIGKILL");
  await catalog.remove();
  await rm(root, { recursive: true, force: true });
});

describe("a second signal", () => {
  it("ends a command stuck in a filesystem call at once, dying of that signal (exit 143 in a shell), with one line saying it did not clean up", async () => {
    const p = spawnCli(["backup", "vault", "--project", project, "--modules-dir", catalog.dir], env);
    await eventually(async () => expect(await stuckInOpen(p.pid)).toBe(true), { timeoutMs: 40_000, intervalMs: 100 });

    // The first signal starts the graceful stop, which cannot finish: the open() never returns.
    process.kill(p.pid, "SIGINT");
    await eventually(() => expect(p.output().stderr).toContain("send it again to stop at once"));
    expect(await stuckInOpen(p.pid)).toBe(true);

    process.kill(p.pid, "SIGTERM");
    const r = await p.done;
    expect(r.signal).toBe("SIGTERM");
    expect(r.stderr).toContain("platformctl: second SIGTERM: stopped now without cleaning up (exit 143)");
    expect(r.stderr).toContain("apply lock");
    expect(r.stderr).toContain("platformctl unlock --force");
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  }, 120_000);
});
