// Backup methods on the real engine: stop (services stopped around the copy, audited, restarted also on failure), archive (a live copy, also from an image without a shell) and exec (a dump streamed from the running service).
import Docker from "dockerode";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dumpStream, readBackupManifest, volumeTar } from "../../src/backup/archive-format.js";
import { eventually } from "../helpers/eventually.js";
import { aCatalog, createAsPlatformctl, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { runCli } from "../helpers/run-cli.js";
import { NOSHELL_IMAGE, TEST_IMAGE } from "../helpers/test-image.js";

const docker = new Docker();
/** The value the exec modules' containers hold (from `${DUMP_TOKEN}`); the CLI's environment does not have it. */
const SECRET = "tok-3f9a7c21e5";
let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let env: Record<string, string>;
const project = testProject("bkm");

const WRITER = `["sh", "-c", "echo v1 > /data/a && chmod 600 /data/a && mkdir -p /data/sub && echo deep > /data/sub/b && exec sleep 100000"]`;
const service = (name: string, image: string, command: string, volume: string) =>
  `    ${name}:\n      image: ${image}\n      command: ${command}\n      restart: "no"\n      stop_grace_period: 1s\n      volumes: ["${volume}:/data"]\n`;

/** A volume labelled for the project (as apply creates it), or foreign (no project label) when `owned` is false. */
async function volume(name: string, module: string, owned = true): Promise<void> {
  await docker.createVolume({
    Name: `${project}_${name}`,
    Labels: owned ? { "dev.platformctl.project": project, "dev.platformctl.module": module } : { "platformctl-test-run": project },
  });
}

async function entriesOf(stream: NodeJS.ReadableStream): Promise<Record<string, { type: string; mode: number; body: string }>> {
  const extract = tar.extract();
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  const out: Record<string, { type: string; mode: number; body: string }> = {};
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out[e.header.name] = { type: e.header.type, mode: e.header.mode & 0o7777, body: Buffer.concat(chunks).toString() };
  }
  return out;
}

const backup = (module: string, json = true) =>
  runCli(["backup", module, "--project", project, "--modules-dir", catalog.dir, ...(json ? ["--json"] : [])], env);
const backupFiles = async () => (await readdir(env.PLATFORMCTL_BACKUP_DIR as string)).sort();

beforeAll(async () => {
  catalog = await aCatalog();
  await catalog.write("keeper", manifest("keeper", { stateful: true, services: service("keeper", TEST_IMAGE, WRITER, "keeper-data") }));
  await catalog.write("live", manifest("live", { services: service("live", TEST_IMAGE, WRITER, "live-data") }));
  await catalog.write(
    "bare",
    manifest("bare", { services: service("bare", NOSHELL_IMAGE, `["/busybox", "sleep", "100000"]`, "bare-data") }),
  );
  const execBlock = (svc: string, command: string) =>
    `  backup:\n    method: exec\n    exec:\n      service: ${svc}\n      command: ${command}\n      restore_command: ["sh", "-c", "cat > /tmp/restored"]`;
  const execService = (name: string) =>
    `    ${name}:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100000"]\n      restart: "no"\n      stop_grace_period: 1s\n      environment:\n        DUMP_TOKEN: "\${DUMP_TOKEN}"\n`;
  await catalog.write(
    "dumper",
    manifest("dumper", {
      stateful: true,
      services: execService("dumper"),
      extra: execBlock("dumper", `["sh", "-c", "printf 'row\\\\000\\\\377\\\\n%.0s' $(seq 1 50000); echo progress >&2"]`),
    }),
  );
  await catalog.write(
    "failer",
    manifest("failer", {
      stateful: true,
      services: execService("failer"),
      extra: execBlock("failer", `["sh", "-c", "printf partial; echo \\"auth failed for token $DUMP_TOKEN\\" >&2; exit 3"]`),
    }),
  );
  // Runs once: a restart finds its marker in the volume and exits 1 at once, so it never comes back after a stop (it is
  // running for a moment after its start: a backup waits RUNNING_STABLE_MS before it counts a service as back).
  const ONCE = `["sh", "-c", "test -e /data/started && exit 1; touch /data/started; trap 'exit 0' TERM; sleep 100000 & wait"]`;
  await catalog.write("once", manifest("once", { stateful: true, services: service("once", TEST_IMAGE, ONCE, "once-data") }));
  await catalog.write("foreign", manifest("foreign", { stateful: true, services: service("foreign", TEST_IMAGE, WRITER, "foreign-data") }));
  root = await mkdtemp(path.join(tmpdir(), "platformctl-backup-methods-"));
  env = { STATE_DIR: path.join(root, "state"), PLATFORMCTL_BACKUP_DIR: path.join(root, "backups") };
  await mkdir(env.PLATFORMCTL_BACKUP_DIR as string);
  await volume("keeper-data", "keeper");
  await volume("live-data", "live");
  await volume("bare-data", "bare");
  await volume("foreign-data", "foreign", false);
  await volume("once-data", "once");
  await createAsPlatformctl(docker, { project, dir: catalog.dir, module: "once", start: true });
  for (const m of ["keeper", "live", "foreign"]) await createAsPlatformctl(docker, { project, dir: catalog.dir, module: m, start: true });
  for (const m of ["dumper", "failer"])
    await createAsPlatformctl(docker, { project, dir: catalog.dir, module: m, start: true, env: { DUMP_TOKEN: SECRET } });
  // The no-shell image cannot write its own data: a busybox container fills the volume first.
  const seed = await docker.createContainer({
    Image: TEST_IMAGE,
    Cmd: ["sh", "-c", "echo bare > /data/file"],
    Labels: { "dev.platformctl.project": project },
    HostConfig: { Mounts: [{ Type: "volume", Source: `${project}_bare-data`, Target: "/data" }] },
  });
  await seed.start();
  await seed.wait();
  await seed.remove();
  await createAsPlatformctl(docker, { project, dir: catalog.dir, module: "bare", start: false });
  // Each writer has written its files before it sleeps (the chmod comes after the write, the mkdir after the chmod).
  for (const m of ["keeper", "live", "foreign"]) {
    await eventually(async () => {
      const exec = await docker.getContainer(`${project}_${m}_${m}`).exec({ Cmd: ["test", "-f", "/data/sub/b"] });
      const stream = await exec.start({});
      stream.resume();
      await new Promise((r) => stream.on("end", r));
      expect((await exec.inspect()).ExitCode).toBe(0);
    });
  }
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await catalog.remove();
  const foreign = docker.getContainer(`${project}_foreign_foreign`);
  await foreign.remove({ force: true }).catch(() => undefined); // the suite teardown removes project containers too; the foreign volume is ours to remove
  await docker
    .getVolume(`${project}_foreign-data`)
    .remove()
    .catch(() => undefined); // safe: it is labelled with this run and swept by the teardown otherwise
});

describe("backup method stop on the real engine", () => {
  it("stops the service around the copy, starts it again, audits the stop first, and archives the volume entry by entry", async () => {
    const container = docker.getContainer(`${project}_keeper_keeper`);
    const before = await container.inspect();
    const r = await backup("keeper");
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; method: string; consistent: boolean; downtime_ms: number | null };
    expect(out).toMatchObject({ method: "stop", consistent: true });
    expect(typeof out.downtime_ms).toBe("number");
    expect((await stat(out.file)).mode & 0o777).toBe(0o600);
    expect(await readBackupManifest(out.file)).toMatchObject({
      format: 1,
      module: "keeper",
      method: "stop",
      consistent: true,
      volumes: ["keeper-data"],
      dump: null,
    });
    const entries = await entriesOf(volumeTar(out.file, "keeper-data"));
    expect(entries["./a"]).toEqual({ type: "file", mode: 0o600, body: "v1\n" });
    expect(entries["./sub/b"]).toMatchObject({ type: "file", body: "deep\n" });
    expect(entries["./"]?.type).toBe("directory");
    // The same container, started again after the copy.
    const after = await container.inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);
    const audit = (await readFile(path.join(env.STATE_DIR as string, "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; module?: string; outcome?: string; services?: string[] });
    const mine = audit.filter((a) => a.module === "keeper");
    expect(mine.map((a) => a.type)).toEqual(["backup-intent", "backup-result"]);
    expect(mine[0]?.services).toEqual(["keeper"]);
    expect(mine[1]?.outcome).toBe("done");
    const catalogLine = (await readFile(path.join(env.STATE_DIR as string, "backup-catalog.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.file === out.file);
    expect(catalogLine).toMatchObject({ module: "keeper", method: "stop", volumes: ["keeper-data"], consistent: true });
    expect(String(catalogLine?.spec_hash)).toMatch(/^v1:[0-9a-f]{64}$/);
  });

  it("starts the service again when the copy fails, leaves no file behind and says what failed", async () => {
    const container = docker.getContainer(`${project}_foreign_foreign`);
    const before = await backupFiles();
    const r = await backup("foreign", false);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("foreign-data");
    expect(r.stderr).not.toContain("sh and tar");
    expect(await backupFiles()).toEqual(before);
    expect((await container.inspect()).State.Running).toBe(true);
    const audit = (await readFile(path.join(env.STATE_DIR as string, "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; module?: string; outcome?: string });
    expect(audit.filter((a) => a.module === "foreign").map((a) => [a.type, a.outcome])).toEqual([
      ["backup-intent", undefined],
      ["backup-result", "failed"],
    ]);
  });
});

describe("backup method stop when a service does not come back", () => {
  it("keeps the finished archive, records it, and fails naming it and the service", async () => {
    await eventually(async () => expect((await docker.getContainer(`${project}_once_once`).inspect()).State.Running).toBe(true));
    const before = await backupFiles();
    const r = await backup("once", false);
    expect(r.code).toBe(1);
    const kept = (await backupFiles()).filter((f) => !before.includes(f));
    expect(kept).toHaveLength(1);
    const file = path.join(env.PLATFORMCTL_BACKUP_DIR as string, kept[0] as string);
    expect(r.stderr).toContain(`finished and is kept (${file}`);
    expect(r.stderr).toContain("did not come back: once:");
    expect(await readBackupManifest(file)).toMatchObject({ method: "stop", volumes: ["once-data"] });
    expect(await readFile(path.join(env.STATE_DIR as string, "backup-catalog.jsonl"), "utf8")).toContain(file);
    expect((await docker.getContainer(`${project}_once_once`).inspect()).State.Running).toBe(false);
  });
});

describe("backup method archive on the real engine", () => {
  it("copies live, leaves the service running untouched, and says the copy is not consistent for databases", async () => {
    const container = docker.getContainer(`${project}_live_live`);
    const before = await container.inspect();
    const r = await backup("live", false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("not consistent for databases");
    const file = r.stdout.trim();
    expect(await readBackupManifest(file)).toMatchObject({ method: "archive", consistent: false, volumes: ["live-data"] });
    expect((await entriesOf(volumeTar(file, "live-data")))["./a"]).toEqual({ type: "file", mode: 0o600, body: "v1\n" });
    expect((await container.inspect()).State.StartedAt).toBe(before.State.StartedAt);
  });

  it("backs up the volume of a module whose image has no shell, tar or gzip", async () => {
    const r = await backup("bare");
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; consistent: boolean };
    expect(out.consistent).toBe(false);
    expect((await entriesOf(volumeTar(out.file, "bare-data")))["./file"]).toMatchObject({ type: "file", body: "bare\n" });
  });
});

describe("backup method exec on the real engine", () => {
  it("streams the dump command's stdout into the archive byte for byte while the service keeps running", async () => {
    const container = docker.getContainer(`${project}_dumper_dumper`);
    const before = await container.inspect();
    const r = await backup("dumper");
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; method: string; consistent: boolean; downtime_ms: null; dump: string };
    expect(out).toMatchObject({ method: "exec", consistent: true, downtime_ms: null, dump: "dump/dumper.out" });
    expect((await stat(out.file)).mode & 0o777).toBe(0o600);
    expect(await readBackupManifest(out.file)).toMatchObject({
      method: "exec",
      consistent: true,
      volumes: [],
      dump: { service: "dumper", entry: "dump/dumper.out" },
    });
    const chunks: Buffer[] = [];
    for await (const c of dumpStream(out.file)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(Buffer.from("row\u0000\u00ff\n".repeat(50000), "latin1"))).toBe(true);
    const after = await container.inspect();
    expect([after.Id, after.State.StartedAt, after.State.Running]).toEqual([before.Id, before.State.StartedAt, true]);
    expect((await backupFiles()).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("fails a dump command that exits non-zero with its stderr tail masked, and keeps no archive or temporary file", async () => {
    const before = await backupFiles();
    const r = await backup("failer", false);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("exited 3");
    expect(r.stderr).toContain("auth failed for token ***");
    expect(r.stderr).not.toContain(SECRET);
    expect(await backupFiles()).toEqual(before);
  });

  it("refuses clearly when the exec service's container is not running, changing nothing", async () => {
    await docker.getContainer(`${project}_failer_failer`).stop({ t: 1 });
    const before = await backupFiles();
    const r = await backup("failer", false);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("(container ");
    expect(r.stderr).toContain("is exited: method exec runs its command in the running service");
    expect(await backupFiles()).toEqual(before);
  });
});

describe("restore of an exec dump on the real engine", () => {
  const restore = (args: string[]) =>
    runCli(["restore", "dumper", ...args, "--project", project, "--modules-dir", catalog.dir], { ...env, DUMP_TOKEN: SECRET });

  it("pipes the dump into restore_command inside the running service, and --verify does so in a scratch copy only", async () => {
    const made = await backup("dumper");
    expect(made.code, made.stderr).toBe(0);
    const { file } = JSON.parse(made.stdout) as { file: string };
    const container = docker.getContainer(`${project}_dumper_dumper`);
    const before = await container.inspect();

    const verified = await restore(["--from", file, "--verify", "--json"]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ outcome: "passed", left_behind: [] });
    // The scratch copy received it; the live service did not.
    const live = await docker.getContainer(`${project}_dumper_dumper`).exec({ Cmd: ["test", "-e", "/tmp/restored"] });
    (await live.start({})).resume();
    await eventually(async () => expect((await live.inspect()).ExitCode).toBe(1));

    const r = await restore(["--from", file, "--allow-stateful", "--confirm", "BACKUP_DONE_F3", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: "restored", downtime_ms: 0 });
    const size = await docker.getContainer(`${project}_dumper_dumper`).exec({ Cmd: ["wc", "-c", "/tmp/restored"], AttachStdout: true });
    const out: Buffer[] = [];
    const stream = await size.start({});
    stream.on("data", (c: Buffer) => out.push(c));
    await new Promise((done) => stream.on("end", done));
    expect(Buffer.concat(out).toString("latin1")).toContain(`${"row\u0000\u00ff\n".length * 50000} /tmp/restored`);
    const after = await container.inspect();
    expect([after.Id, after.State.StartedAt]).toEqual([before.Id, before.State.StartedAt]);
  });
});
