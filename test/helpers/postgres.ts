// PostgreSQL test helpers: a stateful `pg` module on the test image, SQL through psql inside its container, a client that
// keeps inserting rows while a test runs, and a check that a server started without crash recovery.
import type Docker from "dockerode";
import { PassThrough } from "node:stream";
import { demuxFrames } from "../../src/engine/demux.js";
import { LABEL } from "../../src/engine/labels.js";
import { resourceName } from "../../src/plan/unit-name.js";
import { PG_IMAGE } from "./test-image.js";

/** The role and database the module's entrypoint creates (trust auth: no password). */
export const PG_USER = "app";
export const PG_DB = "app";
/** Where the image keeps its cluster; the module mounts its named volume here. */
export const PGDATA = "/var/lib/postgresql/data";

export interface PgModuleOptions {
  /** Module (and service) name, default `pg`. */
  name?: string;
  /** Named volume at PGDATA, default `pgdata`. */
  volume?: string;
  /** Network the service joins (its alias is the service name), default `db`. */
  network?: string;
  /** `stop_signal` of the service, default `SIGINT` (PostgreSQL's fast shutdown); `null` leaves the field out. */
  stopSignal?: string | null;
  /** `spec.stateful`, default true. */
  stateful?: boolean;
  /** `stop_grace_period`, default `30s`. */
  stopGrace?: string;
  /** Extra environment entries (YAML values as written). */
  environment?: Record<string, string>;
  image?: string;
  /** YAML appended under `spec:` (e.g. a `backup:` block), indented by 2 spaces. */
  spec?: string;
}

/**
 * The manifest text of a stateful `healthy` PostgreSQL module: a `pg_isready` healthcheck over TCP (so the temporary
 * server initdb runs without TCP never counts as ready), a named volume at PGDATA and `stop_signal: SIGINT`.
 */
export function pgModule(opts: PgModuleOptions = {}): string {
  const name = opts.name ?? "pg";
  const env = { POSTGRES_USER: PG_USER, POSTGRES_DB: PG_DB, ...opts.environment };
  return [
    "apiVersion: platformctl/v1",
    "kind: Module",
    "metadata:",
    `  name: ${name}`,
    "  description: PostgreSQL 15 for tests",
    "spec:",
    `  stateful: ${opts.stateful ?? true}`,
    "  runtime:",
    "    expected_state: healthy",
    "    timeout_seconds: 180",
    "  services:",
    `    ${name}:`,
    `      image: ${opts.image ?? PG_IMAGE}`,
    "      environment:",
    ...Object.entries(env).map(([k, v]) => `        ${k}: ${JSON.stringify(v)}`),
    '      restart: "no"',
    `      networks: [${opts.network ?? "db"}]`,
    `      volumes: ["${opts.volume ?? "pgdata"}:${PGDATA}"]`,
    `      stop_grace_period: ${opts.stopGrace ?? "30s"}`,
    ...(opts.stopSignal === null ? [] : [`      stop_signal: ${opts.stopSignal ?? "SIGINT"}`]),
    "      healthcheck:",
    `        test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "${PG_USER}", "-d", "${PG_DB}"]`,
    "        interval: 1s",
    "        timeout: 5s",
    "        retries: 60",
    ...(opts.spec ? [opts.spec.replace(/\n$/, "")] : []),
    "",
  ].join("\n");
}

/** Output of one command run to its exit inside a container. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` inside `container` (by name or id) through dockerode, bounded by `timeoutMs`. */
export async function execIn(docker: Docker, container: string, cmd: string[], timeoutMs = 30_000): Promise<ExecResult> {
  const exec = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`${cmd.join(" ")} in ${container} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const frames = demuxFrames(Buffer.concat(chunks), false);
  const text = (s: "stdout" | "stderr") => Buffer.concat(frames.filter((f) => f.stream === s).map((f) => f.data)).toString("utf8");
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, stdout: text("stdout"), stderr: text("stderr") };
}

/** Runs one SQL text with psql in the server's container (local socket, ON_ERROR_STOP); returns its unaligned output. */
export async function query(docker: Docker, container: string, sql: string): Promise<string> {
  const r = await execIn(docker, container, ["psql", "-v", "ON_ERROR_STOP=1", "-U", PG_USER, "-d", PG_DB, "-qtAX", "-c", sql]);
  if (r.exitCode !== 0) throw new Error(`psql in ${container} exited ${r.exitCode}: ${r.stderr.trim()}\n${sql}`);
  return r.stdout.trim();
}

/** The number of rows of `table` (optionally `where` a condition). */
export async function countRows(docker: Docker, container: string, table = "load", where?: string): Promise<number> {
  return Number(await query(docker, container, `SELECT count(*) FROM ${table}${where ? ` WHERE ${where}` : ""}`));
}

/** The server's log: everything PostgreSQL wrote to stderr since the container was created (all its starts). */
export async function serverLog(docker: Docker, container: string): Promise<string> {
  const buf = (await docker.getContainer(container).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  return demuxFrames(buf, false)
    .map((f) => f.data.toString("utf8"))
    .join("");
}

/** Lines by which PostgreSQL says it replays WAL after an unclean stop. */
const CRASH_RECOVERY = ["database system was not properly shut down", "database system was interrupted", "redo starts"];

/**
 * Throws unless the container's server reached "ready to accept connections" without crash recovery on any of its
 * starts: a cluster stopped cleanly (or copied consistently) starts without replaying WAL.
 */
export async function expectNoCrashRecovery(docker: Docker, container: string): Promise<void> {
  const log = await serverLog(docker, container);
  if (!log.includes("database system is ready to accept connections")) {
    throw new Error(`the server in ${container} never became ready; its log:\n${log}`);
  }
  const recovery = log.split("\n").filter((l) => CRASH_RECOVERY.some((m) => l.includes(m)));
  if (recovery.length) throw new Error(`the server in ${container} went through crash recovery:\n${recovery.join("\n")}`);
}

/** Creates the table the load generator fills: `load(n int primary key, at timestamptz, pad text)`. */
export async function createLoadTable(docker: Docker, container: string): Promise<void> {
  await query(docker, container, "CREATE TABLE IF NOT EXISTS load (n int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), pad text)");
}

/** A client inserting rows 1, 2, 3, … into `load` until stopped. */
export interface LoadGenerator {
  /** Rows known committed so far: rows 1..committed() are in the table (psql printed them after their commit). */
  committed(): number;
  /** Stops the client (kills and removes its container) and resolves to the number of rows known committed. */
  stop(): Promise<number>;
}

/**
 * Starts a client container on the module's network (labelled with a project derived from `project`, so the global
 * teardown removes it and observing `project` never sees it) that inserts row n = 1, 2, 3, … over TCP, each in its own
 * transaction, printing n once psql returned success; a failed insert (server stopping or down) is retried with the
 * same n, so the table holds exactly rows 1..k after k successes. `padBytes` fills each row's `pad` column.
 */
export async function startLoad(
  docker: Docker,
  opts: { project: string; host?: string; network?: string; padBytes?: number },
): Promise<LoadGenerator> {
  const pad = opts.padBytes ? `repeat('x', ${opts.padBytes})` : "NULL";
  const script = [
    "i=1",
    "while :; do",
    `  if psql -qtAX -v ON_ERROR_STOP=1 -c "INSERT INTO load(n, pad) VALUES ($i, ${pad}) ON CONFLICT (n) DO NOTHING" >/dev/null 2>&1; then`,
    '    echo "$i"; i=$((i + 1))',
    "  else sleep 0.2; fi",
    "done",
  ].join("\n");
  const network = resourceName(opts.project, opts.network ?? "db");
  const c = await docker.createContainer({
    Image: PG_IMAGE,
    Entrypoint: ["/bin/sh", "-c", script],
    Cmd: [],
    Env: [
      `PGHOST=${opts.host ?? "pg"}`,
      `PGUSER=${PG_USER}`,
      `PGDATABASE=${PG_DB}`,
      "PGCONNECT_TIMEOUT=3",
      "PGOPTIONS=-c statement_timeout=10000",
    ],
    Labels: { [LABEL.project]: `${opts.project}-load`, [LABEL.module]: "load", [LABEL.service]: "load" },
    HostConfig: { NetworkMode: network },
  });
  const stream = await c.attach({ stream: true, stdout: true, stderr: true });
  const out = new PassThrough();
  docker.modem.demuxStream(stream, out, new PassThrough().resume());
  let committed = 0;
  let pending = "";
  out.on("data", (b: Buffer) => {
    pending += b.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const l of lines) if (/^\d+$/.test(l)) committed = Number(l);
  });
  const ended = new Promise<void>((resolve) =>
    stream
      .on("end", resolve)
      .on("close", resolve)
      .on("error", () => resolve()),
  );
  await c.start();
  return {
    committed: () => committed,
    async stop() {
      await c.kill().catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 409) throw e; // 409: it is not running any more
      });
      await Promise.race([ended, new Promise((r) => setTimeout(r, 10_000))]);
      await c.remove({ force: true });
      return committed;
    },
  };
}

/** A client session held open on the server until stopped. */
export interface HeldConnection {
  /** Kills and removes the client's container. */
  stop(): Promise<void>;
}

/**
 * Opens a session from a client container on the module's network that runs `SELECT pg_sleep(3600)` (no statement
 * timeout) and resolves once the server lists it in pg_stat_activity: the connected client that makes a SIGTERM
 * ("smart") shutdown wait for it, where SIGINT ("fast") ends it.
 */
export async function holdConnection(
  docker: Docker,
  server: string,
  opts: { project: string; host?: string; network?: string },
): Promise<HeldConnection> {
  const c = await docker.createContainer({
    Image: PG_IMAGE,
    Entrypoint: ["psql", "-qtAX", "-c", "SELECT pg_sleep(3600)"],
    Cmd: [],
    Env: [`PGHOST=${opts.host ?? "pg"}`, `PGUSER=${PG_USER}`, `PGDATABASE=${PG_DB}`, "PGCONNECT_TIMEOUT=3", "PGAPPNAME=held"],
    Labels: { [LABEL.project]: `${opts.project}-held`, [LABEL.module]: "held", [LABEL.service]: "held" },
    HostConfig: { NetworkMode: resourceName(opts.project, opts.network ?? "db") },
  });
  await c.start();
  const deadline = Date.now() + 30_000;
  while ((await query(docker, server, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'held'")) !== "1") {
    if (Date.now() > deadline) throw new Error(`the held session never showed up in ${server}'s pg_stat_activity`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { stop: () => c.remove({ force: true }) };
}

/** How a server's container ended, watched from before it was stopped (the container may be removed afterwards). */
export interface WatchedExit {
  /** The container's exit code (137 = SIGKILL). */
  exitCode: Promise<number>;
  /** Everything it logged until then, once it exited. */
  log: Promise<string>;
}

/** Starts watching a running container's exit and log; call it before whatever stops (and maybe removes) it. */
export async function watchExit(docker: Docker, container: string, timeoutMs = 120_000): Promise<WatchedExit> {
  const c = docker.getContainer(container);
  const stream = (await c.logs({ stdout: true, stderr: true, follow: true })) as unknown as NodeJS.ReadableStream;
  const out = new PassThrough();
  let text = "";
  out.on("data", (b: Buffer) => {
    text += b.toString("utf8");
  });
  docker.modem.demuxStream(stream, out, out);
  const bounded = <T>(p: Promise<T>, what: string) =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${container}: no ${what} within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  const exitCode = bounded(
    c.wait({ condition: "not-running" }).then((r: { StatusCode: number }) => r.StatusCode),
    "exit",
  );
  const log = bounded(
    new Promise<string>((resolve) => {
      stream.on("end", () => resolve(text));
      stream.on("close", () => resolve(text));
    }),
    "end of its log",
  );
  exitCode.catch(() => undefined);
  log.catch(() => undefined);
  return { exitCode, log };
}
