// `platformctl backup`: archives a module's volumes and binds by its backup method (stop, exec, archive), records it in the catalog.
import { access, link, mkdir, open, realpath, rm, stat } from "node:fs/promises";
import { constants } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Module } from "../manifest/module.js";
import { resolveInterpolation } from "../manifest/interpolation.js";
import { formatBackupName } from "../policy/parse-backup-name.js";
import { resourceName } from "../plan/unit-name.js";
import { isRuntimeError, type Runtime } from "../runtime/runtime.js";
import { PlatformError } from "../errors.js";
import { appendBackupCatalog, sha256File, type BackupCatalogEntry } from "../state/backup-catalog.js";
import { ensureStateDir } from "../state/state-dir.js";
import type { BackupMethod } from "../manifest/module.js";
import { moduleSpecHash } from "../plan/desired-spec.js";
import { PLATFORMCTL_VERSION } from "../version.js";
import { redact } from "../secrets/masker.js";
import { readModuleSecrets } from "../secrets/module-secrets.js";
import { type ArchiveManifest, writeBackupArchive } from "./archive-format.js";
import { readBind } from "./read-bind.js";
import { spoolDump } from "./spool-dump.js";
import { stopAround } from "./stop-around.js";

export interface BackupRequest {
  runtime: Runtime;
  project: string;
  module: Module;
  env: Readonly<Record<string, string | undefined>>;
  stateDir: string;
  now: Date;
  signal?: AbortSignal;
  /** The command line, for the lock holder (method stop). */
  command?: string;
  /** How long to wait for the apply lock (method stop); 0 fails at once. */
  lockWaitMs?: number;
  /** Bound of method exec's dump command; default the module's timeout_seconds. */
  timeoutMs?: number | undefined;
}

export interface BackupResult {
  file: string;
  size: number;
  sha256: string;
  method: BackupMethod;
  /** False for method archive: a live copy, not consistent for databases. */
  consistent: boolean;
  /** Project volume names copied. */
  volumes: string[];
  /** Bind sources copied, absolute, every `${VAR}` value in them masked (as in the archive's manifest). */
  binds: string[];
  /** Method stop: from the first stop to the last service being back up; null otherwise. */
  downtime_ms: number | null;
  /** Method exec: the archive entry holding the command's stdout (`dump/<service>.out`); null otherwise. */
  dump: string | null;
}

/** Checks PLATFORMCTL_BACKUP_DIR: set, an existing writable directory; returns its real path. */
export async function backupRoot(env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const raw = env.PLATFORMCTL_BACKUP_DIR;
  if (!raw)
    throw new PlatformError("backup.root_unset", "PLATFORMCTL_BACKUP_DIR is not set", {
      hint: "Set it to the directory backups live in, e.g. PLATFORMCTL_BACKUP_DIR=/srv/backups.",
    });
  try {
    const real = await realpath(raw);
    if (!(await stat(real)).isDirectory()) throw new Error("not a directory");
    await access(real, constants.W_OK);
    return real;
  } catch {
    throw new PlatformError("backup.root_unusable", `backup root ${raw} is missing or not a writable directory`, {
      hint: `Create it (mkdir -p ${raw}) and make it writable, or point PLATFORMCTL_BACKUP_DIR elsewhere.`,
    });
  }
}

/** Mode of every archive and temporary file: backups hold credential hashes and data, readable by the owner only. */
export const BACKUP_FILE_MODE = 0o600;
/** Names tried per second (`<module>-<UTC>.tar.gz`, then `-1` … `-999`) before giving up. */
const MAX_SEQ = 999;

/**
 * Backs the module up with its `spec.backup.method` into `<root>/<module>-<UTC>[-<n>].tar.gz` (archive format 1,
 * src/backup/archive-format.ts) and records size, sha256, method, volumes, spec hash and consistency in the catalog.
 * Volumes are read through the runtime's archive endpoint by a helper that is never started, so no image needs a
 * shell, tar or gzip; platformctl compresses. Method stop stops the services around the copy (see stopAround).
 *
 * The archive is written into a temporary file platformctl creates itself, mode 0600 and unique per run, fsynced,
 * then linked to the first free name of that second (`link` never replaces a file, so two runs in the same second
 * get `…Z.tar.gz` and `…Z-1.tar.gz`), then the temporary name is removed: it appears only when complete, and a
 * failure leaves nothing behind.
 */
export async function createBackup(req: BackupRequest): Promise<BackupResult> {
  const root = await backupRoot(req.env);
  const stateDir = await ensureStateDir(req.stateDir);
  const m = req.module;
  // A runtime that cannot keep the module's data refuses it here too (Swarm: unpinned stateful), and learns where it lives.
  req.runtime.admit([m]);
  const method = m.backup.method;
  const volumes = moduleVolumeNames(m);
  const binds = bindSources(m, req.env);
  if (method === "exec") return execBackup(req, root, stateDir);
  // A bind source built from ${VAR} holds a secret: shown and stored masked, read from its resolved path.
  const secrets = await readModuleSecrets(m, req.env);
  const shownBinds = binds.map((b) => redact(b, secrets));
  if (volumes.length === 0 && binds.length === 0) {
    throw new PlatformError("backup.nothing", `module ${m.name} declares no named volume or bind mount to back up`, {
      hint: "Back up the module whose data this one uses (see its backup_ref_modules).",
    });
  }
  // The helper is created, never started: any image present where it is created serves; the module's own is there if it ran.
  const helperImage = m.services[0]?.image ?? "";
  const manifest: ArchiveManifest = {
    format: 1,
    module: m.name,
    method,
    consistent: method !== "archive",
    volumes,
    binds: shownBinds,
    dump: null,
    spec_hash: moduleSpecHash(m),
    created_at: req.now.toISOString(),
    platformctl_version: PLATFORMCTL_VERSION,
  };
  // Before any service is stopped: a volume the runtime cannot reach now (a Swarm node down) changes nothing.
  // …and the helper's image is where the helper is created (Swarm: the pinned node, not the manager).
  await req.runtime.checkVolumeAccess(req.project, volumes, req.signal, { image: helperImage, module: m.name });
  let downtime: number | null = null;
  let notRestarted: string[] = [];
  const file = await writeClaimed(root, m.name, req.now, async (partial) => {
    const copy = () =>
      writeBackupArchive(partial, manifest, {
        readVolume: (v, consume) => req.runtime.readVolume(req.project, v, consume, { helperImage, signal: req.signal }),
        readBind: (i, _shown, consume) => consume(readBind(binds[i] as string)),
      }).catch((e: unknown) => {
        throw copyFailed(m.name, method, e, secrets);
      });
    if (method === "stop") ({ downtimeMs: downtime, notRestarted } = await stopAround(req, stateDir, copy));
    else await copy();
  });
  const result = await record(
    req,
    stateDir,
    file,
    manifest,
    volumes.map((v) => resourceName(req.project, v)),
    shownBinds,
    downtime,
  );
  // The copy finished while the services were stopped: it is kept (the module may need it now), and the failure is loud.
  if (notRestarted.length)
    throw new PlatformError(
      "backup.failed",
      `the copy of ${m.name} finished and is kept (${result.file}, recorded in the backup catalog), but services did not come back: ${notRestarted.join("; ")}`,
      {
        hint: `Run platformctl health --module ${m.name}, then platformctl apply --module ${m.name} to bring it back; the kept archive can be restored with platformctl restore ${m.name} --from ${result.file}.`,
      },
    );
  return result;
}

/**
 * Method exec: the dump command runs in the running service (no downtime) and its stdout is spooled to a 0600 file
 * under the backup root (never held in memory), which becomes the archive's `dump/<service>.out`; both temporary files
 * are removed whatever happens. The archive holds no volumes: the dump is the data. Consistent when the command is
 * (pg_dumpall takes one snapshot per database).
 */
async function execBackup(req: BackupRequest, root: string, stateDir: string): Promise<BackupResult> {
  const m = req.module;
  const exec = m.backup.exec;
  if (!exec) throw new PlatformError("backup.service_not_running", `module ${m.name} declares method exec without spec.backup.exec`);
  const manifest: ArchiveManifest = {
    format: 1,
    module: m.name,
    method: "exec",
    consistent: true,
    volumes: [],
    binds: [],
    dump: { service: exec.service, entry: `dump/${exec.service}.out` },
    spec_hash: moduleSpecHash(m),
    created_at: req.now.toISOString(),
    platformctl_version: PLATFORMCTL_VERSION,
  };
  const dumpFile = path.join(root, `.${m.name}.${process.pid}.${randomBytes(6).toString("hex")}.dump`);
  let file: string;
  try {
    await spoolDump({
      runtime: req.runtime,
      project: req.project,
      module: m,
      env: req.env,
      file: dumpFile,
      mode: BACKUP_FILE_MODE,
      timeoutMs: req.timeoutMs ?? m.timeoutSeconds * 1000,
      signal: req.signal,
    });
    file = await writeClaimed(root, m.name, req.now, (partial) => writeBackupArchive(partial, manifest, { ...NO_SOURCES, dumpFile }));
  } finally {
    await rm(dumpFile, { force: true }).catch(() => undefined); // safe: a leftover dump is a dot file never linked as a backup
  }
  return record(req, stateDir, file, manifest, [], [], null);
}

/** Sources for an archive with no volumes or binds (method exec). */
const NO_SOURCES = {
  readVolume: () => Promise.reject(new Error("method exec reads no volume")),
  readBind: () => Promise.reject(new Error("method exec reads no bind")),
};

/**
 * Writes an archive through `write` into a temporary file (O_EXCL, mode 0600, unique per run), links it to the first
 * free name of that second, removes the temporary name and syncs the directory: the archive appears only complete.
 */
async function writeClaimed(root: string, module: string, now: Date, write: (partial: string) => Promise<void>): Promise<string> {
  const partial = path.join(root, `.${module}.${process.pid}.${randomBytes(6).toString("hex")}.partial`);
  await (await open(partial, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, BACKUP_FILE_MODE)).close();
  let file: string;
  try {
    await write(partial);
    file = await claimName(root, module, now, partial);
  } finally {
    await rm(partial, { force: true }).catch(() => undefined); // safe: a leftover partial file is never a backup (claimName links only finished ones)
  }
  await syncDir(root);
  return file;
}

/** Records a finished archive in the catalog (size, sha256, method, volumes, spec hash, consistency) and describes it. */
async function record(
  req: BackupRequest,
  stateDir: string,
  file: string,
  manifest: ArchiveManifest,
  volumes: string[],
  binds: string[],
  downtime: number | null,
): Promise<BackupResult> {
  const m = req.module;
  const method = manifest.method;
  const size = (await stat(file)).size;
  const sha256 = await sha256File(file);
  const entry: BackupCatalogEntry = {
    file,
    module: m.name,
    size,
    sha256,
    created_at: req.now.toISOString(),
    method,
    volumes: manifest.volumes,
    spec_hash: manifest.spec_hash,
    consistent: manifest.consistent,
  };
  await mkdir(stateDir, { recursive: true });
  await appendBackupCatalog(stateDir, entry);
  return {
    file,
    size,
    sha256,
    method,
    consistent: manifest.consistent,
    volumes,
    binds,
    downtime_ms: downtime,
    dump: manifest.dump?.entry ?? null,
  };
}

/** The module's named volumes (manifest names), sorted. */
function moduleVolumeNames(m: Module): string[] {
  return [
    ...new Set(m.services.flatMap((s) => s.volumes.filter((v) => v.type === "volume" && v.source).map((v) => v.source as string))),
  ].sort();
}

/** The module's bind sources, resolved (`${VAR}`) and absolute, sorted. */
function bindSources(m: Module, env: Readonly<Record<string, string | undefined>>): string[] {
  return [
    ...new Set(
      m.services.flatMap((s) =>
        s.volumes
          .filter((v) => v.type === "bind" && v.source)
          .map((v) => {
            const r = resolveInterpolation(v.source as string, env);
            if (!r.ok)
              throw new PlatformError("backup.unresolved", `bind source of ${m.name}/${s.name}: ${r.message}`, {
                hint: "Set the variable and run again.",
              });
            return path.resolve(m.dir, r.value);
          }),
      ),
    ),
  ].sort();
}

/**
 * A copy that failed: a runtime error of the volume read (the engine cut the archive short, as it does when files
 * change while it reads them) says to use a consistent method; anything else is passed on as it is.
 */
function copyFailed(module: string, method: BackupMethod, e: unknown, secrets: readonly string[]): unknown {
  if (e instanceof PlatformError && !isRuntimeError(e)) return e;
  if (isRuntimeError(e, "not_found", "unreachable", "aborted")) return e;
  const why = redact(e instanceof Error ? e.message : String(e), secrets); // a bind path from ${VAR} (ENOENT, EACCES)
  return new PlatformError("backup.failed", `copying the data of ${module} failed: ${why}`, {
    hint:
      method === "archive"
        ? "Files changed while copying: use method stop or exec (spec.backup.method) for data that changes, then run the backup again."
        : "Run the backup again; if it keeps failing, check the engine's log for the volume read.",
    cause: e,
  });
}

/** Links `partial` to the first free `<module>-<UTC>[-<n>].tar.gz` of that second; `link` fails rather than replace a file. */
async function claimName(root: string, module: string, time: Date, partial: string): Promise<string> {
  for (let seq = 0; seq <= MAX_SEQ; seq++) {
    const file = path.join(root, formatBackupName(module, time, seq));
    try {
      await link(partial, file);
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  throw new PlatformError(
    "backup.name_taken",
    `every backup name of ${module} for ${time.toISOString()} is taken (${MAX_SEQ + 1} backups in one second)`,
    {
      hint: "Run the backup again a second later.",
    },
  );
}

/** Makes the new directory entry durable (best effort: some file systems refuse to fsync a directory). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => undefined); // best effort, as above: the file itself was synced before it was linked
  await fh.close();
}
