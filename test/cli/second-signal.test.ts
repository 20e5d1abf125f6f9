// A second SIGINT/SIGTERM on a real process stuck in the filesystem (an append to a FIFO in STATE_DIR): it ends at once.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
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

/** A live-copy (archive) backup of one volume; the secret is in its environment, so no output path may print it. */
const VAULT = manifest("vault", {
  services: [
    "    vault:",
    `      image: ${TEST_IMAGE}`,
    '      command: ["sh", "-c", "echo data > /data/file; exec sleep 600"]',
    "      environment:",
    "        VAULT_PASSWORD: ${VAULT_PASSWORD:?set it}",
    '      volumes: ["vault-data:/data"]',
    "",
  ].join("\n"),
  extra: ["  backup:", "    method: archive"].join("\n"),
});

let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let env: Record<string, string>;
let project: string;

/**
 * True when one of the process's threads is blocked opening a FIFO with no reader (Linux `wait_for_partner`): the
 * libuv thread-pool call no signal handler can end. Read from /proc, so the test never opens the FIFO itself.
 */
async function stuckOnFifo(pid: number): Promise<boolean> {
  const tasks = await readdir(`/proc/${pid}/task`);
  const chans = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/wchan`, "utf8").catch(() => "")));
  return chans.some((c) => c.trim() === "wait_for_partner");
}

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("vault", VAULT);
  root = await mkdtemp(path.join(tmpdir(), "platformctl-second-signal-"));
  await run("mkdir", ["-p", path.join(root, "backups"), path.join(root, "state")]);
  project = testProject("second-signal");
  env = { STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"), VAULT_PASSWORD: SECRET, NO_COLOR: "1" };
  const boot = await runCli(["apply", "--module", "vault", "--project", project, "--modules-dir", catalog.dir], env);
  expect(boot.code, boot.stdout + boot.stderr).toBe(0);
  // The backup catalog the backup appends to at its end is a FIFO: that open() blocks until a reader comes, forever.
  await run("mkfifo", [path.join(root, "state", "backup-catalog.jsonl")]);
}, 120_000);

afterAll(async () => {
  await catalog.remove();
  await rm(root, { recursive: true, force: true });
});

describe("a second signal", () => {
  it("ends a command stuck in a filesystem call at once, dying of that signal (exit 143 in a shell), with one line saying it did not clean up", async () => {
    const p = spawnCli(["backup", "vault", "--project", project, "--modules-dir", catalog.dir], env);
    await eventually(async () => expect(await stuckOnFifo(p.pid)).toBe(true), { timeoutMs: 60_000, intervalMs: 100 });

    // The first signal starts the graceful stop, which cannot finish: the open() never returns.
    process.kill(p.pid, "SIGINT");
    await eventually(() => expect(p.output().stderr).toContain("send it again to stop at once"));
    expect(await stuckOnFifo(p.pid)).toBe(true);

    process.kill(p.pid, "SIGTERM");
    const r = await p.done;
    expect(r.signal).toBe("SIGTERM");
    expect(r.stderr).toContain("platformctl: second SIGTERM: stopped now without cleaning up (exit 143)");
    expect(r.stderr).toContain("apply lock");
    expect(r.stderr).toContain("platformctl unlock --force");
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  }, 120_000);
});
