// A FIFO where platformctl reads a TLS file or appends to the backup catalog: a clear 'not a regular file' error, exit 1, never a hang.
import { execFileSync } from "node:child_process";
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, manifest } from "../helpers/platform.js";
import { assertFreshBuild, type CliResult, spawnCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";
import { TEST_IMAGE } from "../helpers/test-image.js";
import { tempDirs } from "../manifest/a-manifest.js";

const temp = tempDirs();
let catalog: Awaited<ReturnType<typeof aCatalog>>;

/** A module with a named volume, backed up by a live copy (`archive`). */
const VAULT = manifest("vault", {
  services: [
    "    vault:",
    `      image: ${TEST_IMAGE}`,
    '      command: ["sh", "-c", "echo data > /data/file; exec sleep 600"]',
    '      restart: "no"',
    "      stop_grace_period: 1s",
    '      volumes: ["vault-data:/data"]',
    "",
  ].join("\n"),
  extra: ["  backup:", "    method: archive"].join("\n"),
});

beforeAll(async () => {
  assertFreshBuild();
  catalog = await aCatalog();
  await catalog.write("vault", VAULT);
});
afterAll(async () => {
  await catalog.remove();
  await temp.cleanup();
});

/**
 * Runs the CLI to its exit, killed after a generous bound so a hang fails the test instead of the run: the bound is
 * a guard, not a timing assertion (a blocked open() ignores SIGTERM, hence SIGKILL).
 */
async function runGuarded(args: string[], env: Record<string, string>): Promise<CliResult> {
  const p = spawnCli(args, env);
  const guard = setTimeout(() => process.kill(p.pid, "SIGKILL"), 60_000);
  try {
    const r = await p.done;
    expect(r.signal, "killed by the guard: the command hung").toBeNull();
    return r;
  } finally {
    clearTimeout(guard);
  }
}

describe("a FIFO where a TLS file belongs", () => {
  it("refuses a FIFO as DOCKER_CERT_PATH/ca.pem with engine.tls_config naming it as not a regular file, exit 1", async () => {
    const certs = await temp.make("certs");
    execFileSync("mkfifo", [path.join(certs, "ca.pem")]);
    await writeFile(path.join(certs, "cert.pem"), "");
    await writeFile(path.join(certs, "key.pem"), "");
    const state = await temp.make("state");
    const r = await runGuarded(["--modules-dir", catalog.dir, "--project", testProject("fifo-tls"), "plan"], {
      STATE_DIR: state,
      DOCKER_HOST: "tcp://127.0.0.1:9",
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: certs,
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`Cannot read the TLS file ${path.join(certs, "ca.pem")}`);
    expect(r.stderr).toContain("not a regular file");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("a FIFO where the backup catalog is appended to", () => {
  it("refuses to record a backup in a backup catalog that is a FIFO, naming it as not a regular file, exit 1, keeping the archive and saying how to record it", async () => {
    const root = await temp.make("backup-fifo");
    const state = path.join(root, "state");
    const backups = path.join(root, "backups");
    await mkdir(backups, { recursive: true });
    const project = testProject("fifo-catalog");
    const env = { STATE_DIR: state, PLATFORMCTL_BACKUP_DIR: backups };
    const boot = await runGuarded(["apply", "--module", "vault", "--project", project, "--modules-dir", catalog.dir], env);
    expect(boot.code, boot.stdout + boot.stderr).toBe(0);
    execFileSync("mkfifo", [path.join(state, "backup-catalog.jsonl")]);
    const r = await runGuarded(["backup", "vault", "--project", project, "--modules-dir", catalog.dir], env);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot append to the backup catalog ${path.join(state, "backup-catalog.jsonl")} (not a regular file)`);
    // The archive is kept and the hint says how to record it once the catalog is fixed.
    const archive = /platformctl backup import (\S+)/.exec(r.stderr)?.[1];
    expect(archive?.startsWith(backups)).toBe(true);
    expect((await stat(archive as string)).isFile()).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
