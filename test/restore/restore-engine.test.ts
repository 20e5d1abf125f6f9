// restore and restore --verify on the real engine with the busybox image: gated, locked, byte-for-byte, nothing live touched by --verify, nothing left behind.
import Docker from "dockerode";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, manifest } from "../helpers/platform.js";
import { aLockChild } from "../helpers/lock-processes.js";
import { testProject } from "../helpers/run-id.js";
import { runCli, spawnCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";
import { eventually } from "../helpers/eventually.js";
import { scratchOf } from "../../src/plan/unit-name.js";

const run = promisify(execFile);
const docker = new Docker();
const CONFIRM = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];
const SECRET = "restore-canary-Vb81xQ";

/**
 * httpd over its volume; healthy only while /data/marker is served (written on the volume's first start only). Its
 * backups must be verified before a live restore (`backup.verify: required`).
 */
const STORE = manifest("store", {
  stateful: true,
  expected: "healthy",
  services: [
    "    store:",
    `      image: ${TEST_IMAGE}`,
    '      entrypoint: ["/bin/sh", "-c"]',
    '      command: ["[ -e /data/.init ] || { echo one > /data/marker; touch /data/.init; }; exec httpd -f -p 8080 -h /data"]',
    "      restart: unless-stopped",
    "      environment:",
    "        STORE_PASSWORD: ${STORE_PASSWORD:?set it}",
    '      volumes: ["store-data:/data"]',
    "      healthcheck:",
    '        test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/marker"]',
    "        interval: 1s",
    "        timeout: 2s",
    "        retries: 2",
    "",
  ].join("\n"),
  extra: [
    // A live copy: the failed-verification case backs the store up while it cannot be healthy, which a stop backup
    // (the stateful default, waiting for health after the copy) rightly refuses.
    "  backup:",
    "    method: archive",
    "    verify: required",
    "  smoke:",
    "    - name: holds-the-marker",
    '      exec: {service: store, command: ["grep", "-q", "one", "/data/marker"]}',
    "      timeout_seconds: 10",
  ].join("\n"),
});

let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let env: Record<string, string>;
let project: string;
const container = () => `${project}_store_store`;
const volume = () => `${project}_store-data`;

const cli = (args: string[], extra: Record<string, string> = {}) =>
  runCli([...args, "--project", project, "--modules-dir", catalog.dir], { ...env, ...extra });

/** Every file of the live volume with its type, mode, owner and content digest, sorted: what "byte for byte" means here. */
async function volumeListing(): Promise<string> {
  const { stdout } = await run("docker", [
    "run",
    "--rm",
    "--network",
    "none",
    "-v",
    `${volume()}:/d:ro`,
    TEST_IMAGE,
    "sh",
    "-c",
    'cd /d && find . | sort | while read -r f; do if [ -f "$f" ] && [ ! -L "$f" ]; then s=$(md5sum < "$f"); else s=-; fi; echo "$f $(stat -c \'%F %a %u:%g\' "$f") $(readlink "$f") $s"; done',
  ]);
  return stdout;
}

const sh = (script: string) => run("docker", ["exec", container(), "sh", "-c", script]);

async function liveState(): Promise<{ id: string; status: string; startedAt: string }> {
  const i = await docker.getContainer(container()).inspect();
  return { id: i.Id, status: i.State.Status, startedAt: i.State.StartedAt };
}

/** What scratch projects left: all of this test project's, or only those of the verification run by process `pid`. */
async function scratchLeftovers(pid?: number): Promise<string[]> {
  const mine = (labels: Record<string, string> | null | undefined) => {
    const p = labels?.["dev.platformctl.project"] ?? "";
    return scratchOf(p) === project && (pid === undefined || p.startsWith(`0verify-${pid}x`));
  };
  const cs = (await docker.listContainers({ all: true, filters: { label: ["dev.platformctl.project"] } })).filter((c) => mine(c.Labels));
  const vs = ((await docker.listVolumes({ filters: { label: ["dev.platformctl.project"] } })).Volumes ?? []).filter((v) =>
    mine(v.Labels as Record<string, string>),
  );
  const ns = (await docker.listNetworks({ filters: { label: ["dev.platformctl.project"] } })).filter((n) => mine(n.Labels));
  return [...cs.map((c) => `container ${c.Names[0]}`), ...vs.map((v) => `volume ${v.Name}`), ...ns.map((n) => `network ${n.Name}`)];
}

let backup: string;
let original: string;

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("store", STORE);
  root = await mkdtemp(path.join(tmpdir(), "platformctl-restore-"));
  await run("mkdir", ["-p", path.join(root, "backups"), path.join(root, "state")]);
  project = testProject("restore");
  env = { STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"), STORE_PASSWORD: SECRET, NO_COLOR: "1" };
  const boot = await cli(["apply", "--module", "store", ...CONFIRM, "--bootstrap"]);
  expect(boot.code, boot.stdout + boot.stderr).toBe(0);
  // Content with modes, owners, a nested private directory and a symlink.
  await sh(
    "mkdir -p /data/sub && printf 'x%.0s' $(seq 1 5000) > /data/sub/big && chmod 0640 /data/sub/big && chown 123:456 /data/sub/big && chmod 0700 /data/sub && ln -s marker /data/link",
  );
  const b = await cli(["backup", "store"]);
  expect(b.code, b.stderr).toBe(0);
  backup = b.stdout.trim();
  original = await volumeListing();
  // Then the data changes: the marker loses its content, a file appears, another is deleted.
  await sh("echo two > /data/marker && echo junk > /data/junk && rm /data/sub/big");
}, 180_000);

afterAll(async () => {
  await catalog.remove();
  await rm(root, { recursive: true, force: true });
});

describe("restore", () => {
  it("refuses a live restore without the gate inputs or a verified backup with exit 3, the reasons, and no change", async () => {
    const before = { state: await liveState(), data: await volumeListing() };
    const r = await cli(["restore", "store", "--from", backup]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain("input.allow_stateful_missing");
    expect(r.stderr).toContain("input.confirm_missing");
    expect(r.stderr).toContain("backup.not_verified");
    const json = await cli(["restore", "store", "--from", backup, "--json"]);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout).reasons.map((x: { code: string }) => x.code)).toEqual([
      "backup.not_verified",
      "input.allow_stateful_missing",
      "input.confirm_missing",
    ]);
    expect({ state: await liveState(), data: await volumeListing() }).toEqual(before);
  });

  it("refuses a ref outside the backup root whose name is not a backup's, with exit 3", async () => {
    const r = await cli(["restore", "store", "--from", "/etc/hostname", ...CONFIRM, "--json"]);
    expect(r.code, r.stderr).toBe(3);
    const codes = JSON.parse(r.stdout).reasons.map((x: { code: string }) => x.code);
    expect(codes).toContain("backup.outside_root");
    expect(codes).toContain("backup.name_invalid");
  });

  it("exits 4 without changing anything while another apply holds the lock", async () => {
    const holder = aLockChild(["hold", env.STATE_DIR as string, project]);
    try {
      await holder.line("held");
      const before = await liveState();
      const r = await cli(["restore", "store", "--from", backup, ...CONFIRM]);
      expect(r.code, r.stderr).toBe(4);
      expect(await liveState()).toEqual(before);
    } finally {
      await holder.kill();
    }
  });

  it("verifies the backup in a throwaway project, touching nothing live and leaving nothing behind, and records it", async () => {
    const before = { state: await liveState(), data: await volumeListing() };
    const r = await cli(["restore", "store", "--from", backup, "--verify", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ module: "store", outcome: "passed", left_behind: [] });
    expect(result.scratch_project).toMatch(new RegExp(`^0verify-[0-9]+x[0-9a-f]{6}-${project}$`));
    expect(result.probes).toEqual([expect.objectContaining({ name: "holds-the-marker", status: "passed" })]);
    expect({ state: await liveState(), data: await volumeListing() }).toEqual(before);
    expect(await scratchLeftovers()).toEqual([]);
    const list = JSON.parse((await cli(["backup", "list", "--module", "store", "--json"])).stdout);
    expect(list.backups[0]).toMatchObject({ file: backup, verification: { outcome: "passed" } });
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  }, 120_000);

  it("records a failed verification, exits 1 and still leaves nothing behind", async () => {
    // A backup taken while the marker is gone: the module never becomes healthy from it.
    await sh("mv /data/marker /data/marker.off");
    const b = await cli(["backup", "store"]);
    await sh("mv /data/marker.off /data/marker");
    expect(b.code, b.stderr).toBe(0);
    const bad = b.stdout.trim();
    const r = await cli(["restore", "store", "--from", bad, "--verify", "--timeout", "6s"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain("verification failed");
    expect(await scratchLeftovers()).toEqual([]);
    const catalogText = await readFile(path.join(env.STATE_DIR as string, "backup-catalog.jsonl"), "utf8");
    expect(catalogText).toContain(`"file":${JSON.stringify(bad)}`);
    expect(catalogText).toMatch(/"outcome":"failed"/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  }, 120_000);

  it("removes everything it created when SIGINT ends a verification, and exits 130", async () => {
    const p = spawnCli(["restore", "store", "--from", backup, "--verify", "--project", project, "--modules-dir", catalog.dir], env);
    // Its own scratch resources, so nothing another test left can make it signal too early.
    await eventually(async () => expect((await scratchLeftovers(p.pid)).length).toBeGreaterThan(0), { timeoutMs: 60_000, intervalMs: 100 });
    process.kill(p.pid, "SIGINT");
    const r = await p.done;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(await scratchLeftovers(), r.stderr).toEqual([]);
  }, 120_000);

  it("sweeps the leftovers of a verification killed with SIGKILL on the next verification run", async () => {
    const p = spawnCli(["restore", "store", "--from", backup, "--verify", "--project", project, "--modules-dir", catalog.dir], env);
    await eventually(async () => expect((await scratchLeftovers(p.pid)).length).toBeGreaterThan(0), { timeoutMs: 60_000, intervalMs: 100 });
    process.kill(p.pid, "SIGKILL");
    await p.done;
    const killed = await scratchLeftovers(p.pid);
    expect(killed.length).toBeGreaterThan(0);
    const r = await cli(["restore", "store", "--from", backup, "--verify", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { outcome: string; swept: string[]; scratch_project: string };
    expect(result.outcome).toBe("passed");
    expect(result.swept).toHaveLength(1);
    expect(result.swept[0]).toMatch(new RegExp(`^0verify-${p.pid}x[0-9a-f]{6}-${project}$`));
    expect(await scratchLeftovers()).toEqual([]);
  }, 180_000);

  it("refuses with restore.volume_in_use, changing nothing, while another module's container mounts the volume", async () => {
    const reader = manifest("reader", {
      services: `    reader:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100000"]\n      restart: "no"\n      volumes: ["store-data:/data:ro"]\n`,
    });
    await catalog.write("reader", reader);
    try {
      const applied = await cli(["apply", "--module", "reader"]);
      expect(applied.code, applied.stdout + applied.stderr).toBe(0);
      const before = { state: await liveState(), data: await volumeListing() };
      const r = await cli(["restore", "store", "--from", backup, ...CONFIRM]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${project}_reader_reader (module reader)`);
      expect({ state: await liveState(), data: await volumeListing() }).toEqual(before);
    } finally {
      await docker
        .getContainer(`${project}_reader_reader`)
        .remove({ force: true })
        .catch(() => undefined); // absent when the apply failed
      await rm(path.join(catalog.dir, "reader"), { recursive: true, force: true });
    }
  }, 120_000);

  it("restores the volume byte for byte, modes and owners included, and the module is healthy and in sync", async () => {
    const before = await liveState();
    const r = await cli(["restore", "store", "--from", backup, ...CONFIRM]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("restored store");
    expect(await volumeListing()).toBe(original);
    const after = await liveState();
    expect(after.id).not.toBe(before.id);
    expect(after.status).toBe("running");
    await eventually(async () => expect((await docker.getContainer(container()).inspect()).State.Health?.Status).toBe("healthy"));
    // The recreated volume keeps the stateful mark (the ratchet): restoring never takes data out of the gate.
    expect((await docker.getVolume(volume()).inspect()).Labels?.["dev.platformctl.stateful"]).toBe("true");
    const plan = await cli(["plan", "--module", "store", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    const audit = await readFile(path.join(env.STATE_DIR as string, "audit.jsonl"), "utf8");
    const records = audit
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const intent = records.findLast((x) => x.type === "intent");
    expect(intent).toMatchObject({ modules: ["store"], decisions: [{ rule: "restore", eligible: true }] });
    expect(records.findLast((x) => x.type === "result")).toMatchObject({ id: intent.id, outcome: "applied" });
    expect(r.stdout + r.stderr + audit).not.toContain(SECRET);
  }, 120_000);
});
