// `platformctl backup`: archives a module's named volumes and bind mounts with a helper container, records size and sha256.
import { access, chmod, link, mkdir, open, realpath, rm, stat } from "node:fs/promises";
import { constants } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Module } from "../manifest/module.js";
import { resolveInterpolation } from "../manifest/interpolation.js";
import { formatBackupName } from "../policy/parse-backup-name.js";
import { resourceName } from "../plan/unit-name.js";
import type { HelperMount, Runtime } from "../runtime/runtime.js";
import { PlatformError } from "../errors.js";
import { appendBackupCatalog, sha256File, type BackupCatalogEntry } from "../state/backup-catalog.js";
import { ensureStateDir } from "../state/state-dir.js";
import { redact } from "../secrets/masker.js";

export interface BackupRequest {
  runtime: Runtime;
  project: string;
  module: Module;
  env: Readonly<Record<string, string | undefined>>;
  stateDir: string;
  now: Date;
  signal?: AbortSignal;
}

export interface BackupResult {
  file: string;
  size: number;
  sha256: string;
  volumes: string[];
  binds: string[];
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
 * Archives every named volume (and declared bind mount) of the module into `<root>/<module>-<UTC>[-<n>].tar.gz` with
 * a helper container on a local image (PLATFORMCTL_BACKUP_IMAGE, default the module's first image; it needs sh and
 * tar), then records size and sha256 in STATE_DIR/backup-catalog.jsonl.
 *
 * The archive is written into a temporary file platformctl creates itself, mode 0600 and unique per run, which is the
 * only thing of the backup root the helper sees (a file bind); it is fsynced, then linked to the first free name of
 * that second (`link` never replaces a file, so two runs in the same second get `…Z.tar.gz` and `…Z-1.tar.gz`), then
 * the temporary name is removed. The archive appears under its final name only when complete.
 */
export async function createBackup(req: BackupRequest): Promise<BackupResult> {
  const root = await backupRoot(req.env);
  const stateDir = await ensureStateDir(req.stateDir);
  const m = req.module;
  const volumes = [
    ...new Set(m.services.flatMap((s) => s.volumes.filter((v) => v.type === "volume" && v.source).map((v) => v.source as string))),
  ].sort();
  const binds = [
    ...new Set(
      m.services.flatMap((s) =>
        s.volumes
          .filter((v) => v.type === "bind" && v.source)
          .map((v) => {
            const r = resolveInterpolation(v.source as string, req.env);
            if (!r.ok)
              throw new PlatformError("backup.unresolved", `bind source of ${m.name}/${s.name}: ${r.message}`, {
                hint: "Set the variable and run again.",
              });
            return path.resolve(m.dir, r.value);
          }),
      ),
    ),
  ].sort();
  if (volumes.length === 0 && binds.length === 0) {
    throw new PlatformError("backup.nothing", `module ${m.name} declares no named volume or bind mount to back up`, {
      hint: "Back up the module whose data this one uses (see its backup_ref_modules).",
    });
  }
  const image = req.env.PLATFORMCTL_BACKUP_IMAGE ?? m.services[0]?.image ?? "";
  if ((await req.runtime.imageId(image, req.signal)) === null) {
    throw new PlatformError("backup.image_missing", `backup helper image ${image} is not present on the engine`, {
      hint: "Set PLATFORMCTL_BACKUP_IMAGE to a local image that has sh and tar.",
    });
  }
  const partial = path.join(root, `.${m.name}.${process.pid}.${randomBytes(6).toString("hex")}.partial`);
  await (await open(partial, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, BACKUP_FILE_MODE)).close();
  const mounts: HelperMount[] = [
    ...volumes.map((v) => ({ type: "volume" as const, volume: v, target: `/backup/volumes/${v}`, readOnly: true })),
    ...binds.map((b, i) => ({ type: "bind" as const, source: b, target: `/backup/binds/${i}`, readOnly: true })),
    { type: "bind", source: partial, target: "/out/archive.tar.gz", readOnly: false },
  ];
  const nonce = `${process.pid}-${randomBytes(3).toString("hex")}`;
  let file: string;
  try {
    const { id } = await req.runtime.createHelper(
      {
        project: req.project,
        module: m.name,
        role: "backup",
        nonce,
        image,
        command: ["/bin/sh", "-c", "tar czf /out/archive.tar.gz -C /backup ."],
        mounts,
      },
      req.signal,
    );
    try {
      const r = await req.runtime.runOneShot(id, { timeoutMs: 3_600_000, signal: req.signal });
      if (!(r.outcome.kind === "succeeded" && r.ranThisTime)) {
        const logs = (await req.runtime.tailLogs(id, 20).catch(() => [])).map((l) => l.text).join("\n"); // logs only decorate the failure
        throw new PlatformError("backup.failed", `backup helper for ${m.name} failed (exit ${r.exitCode})`, {
          detail: redact(logs, []),
          hint: "Check that the helper image has sh and tar (PLATFORMCTL_BACKUP_IMAGE) and that the volumes exist.",
        });
      }
    } finally {
      await req.runtime.removeUnit(id, { force: true }).catch(() => undefined); // safe: the helper is labelled and never restarts; any error above still propagates
    }
    // tar truncates the file it was given, keeping its owner and mode; set the mode again in case the helper replaced it.
    await chmod(partial, BACKUP_FILE_MODE);
    const fh = await open(partial, constants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    file = await claimName(root, m.name, req.now, partial);
  } finally {
    await rm(partial, { force: true }).catch(() => undefined); // safe: a leftover partial file is never a backup (claimName links only finished ones)
  }
  await syncDir(root);
  const size = (await stat(file)).size;
  const sha256 = await sha256File(file);
  const entry: BackupCatalogEntry = { file, module: m.name, size, sha256, created_at: req.now.toISOString() };
  await mkdir(stateDir, { recursive: true });
  await appendBackupCatalog(stateDir, entry);
  return { file, size, sha256, volumes: volumes.map((v) => resourceName(req.project, v)), binds };
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
