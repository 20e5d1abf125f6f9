// Pure mount sanity checks over facts the shell gathered: missing bind sources, shadowed nested mounts, two writers (binds and named volumes), STATE_DIR inside a bind.
import { isWithin } from "../policy/path-containment.js";
import { maskerFor } from "../secrets/masker.js";

/** A bind mount a module declares, its source resolved to a host path the way apply resolves it. */
export interface DeclaredBind {
  module: string;
  service: string;
  /** Absolute host path (symlinks resolved when it exists). */
  source: string;
  target: string;
  readOnly: boolean;
  /** Whether the source exists on the engine host; undefined when it was not checked (remote engine). */
  sourceExists: boolean | undefined;
}

/** A named volume a module's service mounts, with the module's backup_ref_modules (a declared sidecar names the owner there). */
export interface DeclaredVolume {
  module: string;
  service: string;
  /** The volume's name as the manifest writes it. */
  volume: string;
  target: string;
  readOnly: boolean;
  backupRefModules: readonly string[];
}

/**
 * A filesystem mounted on the host at or below the source of a running container's bind, and the device the
 * container sees at the same place. Equal devices mean the container sees the mount; different ones mean it sees
 * the directory hidden underneath (mounted after the container started, or a non-recursive bind).
 */
export interface NestedMountFact {
  module: string;
  service: string;
  container: string;
  bindSource: string;
  bindTarget: string;
  bindReadOnly: boolean;
  /** The mount point on the host, at or below `bindSource`. */
  hostPath: string;
  /** The same place inside the container. */
  containerPath: string;
  /** Filesystem type of the host mount, e.g. `tmpfs`, `ext4`. */
  fsType: string;
  /** `st_dev` of `hostPath` on the host. */
  hostDev: number;
  /** `st_dev` of `containerPath` in the container; null when it could not be read (see `probeError`). */
  containerDev: number | null;
  probeError: string | undefined;
}

export interface MountFacts {
  /** Every bind the catalog declares (all modules: a writer outside the selection still collides). */
  binds: readonly DeclaredBind[];
  /** Every named volume the catalog's services mount (all modules, like `binds`). */
  volumes?: readonly DeclaredVolume[] | undefined;
  nested: readonly NestedMountFact[];
  /** Resolved STATE_DIR (symlinks resolved when it exists). */
  stateDir: string;
  /** Modules whose findings are reported. */
  modules: readonly string[];
  /** Set when host-side checks (sources, nested mounts) were not run, e.g. `tcp://10.0.0.5:2376` (remote engine). */
  remoteEndpoint?: string | undefined;
  /** Values resolved from `${VAR}` references in bind sources: secrets, masked in every finding's path and text. */
  secrets?: readonly string[] | undefined;
}

/**
 * Closed codes of mount findings.
 * - `bind.source_missing`: a declared bind source does not exist on the host.
 * - `mount.shadowed`: a host mount at or below a bind source is not what the running container sees there.
 * - `mount.unverified`: such a host mount exists, but what the container sees could not be read.
 * - `bind.two_writers`: the same host tree is bound read-write into services of different modules.
 * - `volume.two_writers`: one named volume is mounted read-write by services of different modules, neither of which
 *   names the other in backup_ref_modules (a declared sidecar, like minio-init of minio, is intended).
 * - `state_dir.in_bind`: STATE_DIR lies inside a module's read-write bind.
 * - `mount.not_checked`: host-side checks were skipped (remote engine).
 */
export type MountFindingCode =
  | "bind.source_missing"
  | "mount.shadowed"
  | "mount.unverified"
  | "bind.two_writers"
  | "volume.two_writers"
  | "state_dir.in_bind"
  | "mount.not_checked";

/**
 * What a finding does to the service it names. A shadowed mount and a missing bind source lose data or fail the next
 * start, so they make the service unhealthy; the layout warnings (two writers, STATE_DIR in a bind, an unverifiable
 * nested mount) do so only with `--strict`; `mount.not_checked` is about the host and never does.
 */
export const MOUNT_SEVERITY: Record<MountFindingCode, "unhealthy" | "strict" | "warning"> = {
  "mount.shadowed": "unhealthy",
  "bind.source_missing": "unhealthy",
  "mount.unverified": "strict",
  "bind.two_writers": "strict",
  "volume.two_writers": "strict",
  "state_dir.in_bind": "strict",
  "mount.not_checked": "warning",
};

/** `unhealthy` when the finding makes its service unhealthy (in strict mode or not), else `warning`. */
export function mountSeverity(code: MountFindingCode, strict: boolean): "unhealthy" | "warning" {
  const s = MOUNT_SEVERITY[code];
  return s === "unhealthy" || (s === "strict" && strict) ? "unhealthy" : "warning";
}

export interface MountFinding {
  code: MountFindingCode;
  /** The module concerned; null for findings about the host as a whole. */
  module: string | null;
  service: string | null;
  /** The host path the finding is about. */
  path: string;
  /** What is wrong. */
  message: string;
  /** What to do about it. */
  remedy: string;
}

const FLAT_LAYOUT =
  "move to the flat layout (each disk mounted at its own path, e.g. /data and /data-state, each bound separately; see docs/health.md)";

/** Every mount finding for the facts; sorted by code, module, service, path. `judgeMounts` decides what they do to health. */
export function mountWarnings(facts: MountFacts): MountFinding[] {
  const selected = new Set(facts.modules);
  const out: MountFinding[] = [];

  if (facts.remoteEndpoint !== undefined) {
    out.push({
      code: "mount.not_checked",
      module: null,
      service: null,
      path: "",
      message: `bind sources and nested mounts were not checked: the engine ${facts.remoteEndpoint} is not on this host`,
      remedy: "Run platformctl health on the engine host (DOCKER_HOST unset or unix://) to check them.",
    });
  }

  for (const b of facts.binds) {
    if (!selected.has(b.module) || b.sourceExists !== false) continue;
    out.push({
      code: "bind.source_missing",
      module: b.module,
      service: b.service,
      path: b.source,
      message: `${b.module}/${b.service}: bind source ${b.source} (-> ${b.target}) does not exist on the host`,
      remedy: `Create it (mkdir -p ${b.source}) or mount the disk that provides it, then apply again: Docker refuses to create a container whose bind source is missing, and a running one keeps writing into a directory nobody sees.`,
    });
  }

  for (const n of facts.nested) {
    if (!selected.has(n.module)) continue;
    const where = `${n.module}/${n.service}`;
    if (n.containerDev === null) {
      out.push({
        code: "mount.unverified",
        module: n.module,
        service: n.service,
        path: n.hostPath,
        message: `${where}: ${n.hostPath} is a separate ${n.fsType} mount inside the bind ${n.bindSource}, but what container ${n.container} sees at ${n.containerPath} could not be read${n.probeError ? ` (${n.probeError})` : ""}`,
        remedy: `Check by hand: docker exec ${n.container} cat /proc/self/mountinfo must list ${n.containerPath}; if it does not, restart the service. The check needs stat, busybox or cat in the image.`,
      });
    } else if (n.containerDev !== n.hostDev) {
      out.push({
        code: "mount.shadowed",
        module: n.module,
        service: n.service,
        path: n.hostPath,
        message:
          `${where}: ${n.hostPath} is a separate ${n.fsType} mount on the host (device ${n.hostDev}), but container ${n.container} does not see it at ${n.containerPath} (device ${n.containerDev}): ` +
          `it ${n.bindReadOnly ? "reads" : "reads and writes"} the directory hidden underneath instead (mounted after the container started, or a non-recursive bind)`,
        remedy:
          `Restart the service so its bind picks up the mount (platformctl apply after docker rm -f ${n.container}, or docker restart ${n.container}); ` +
          `remount so the disk is mounted before the container starts (fstab/systemd ordering) and never bind non-recursively; ` +
          `files already written went to the hidden directory (visible after umount ${n.hostPath}): copy them onto the mount; better, ${FLAT_LAYOUT}.`,
      });
    }
  }

  const writers = facts.binds.filter((b) => !b.readOnly);
  const seen = new Set<string>();
  for (const a of writers) {
    for (const b of writers) {
      if (a.module >= b.module) continue; // different modules only, each pair once
      if (!selected.has(a.module) && !selected.has(b.module)) continue;
      const [outer, inner] = isWithin(b.source, a.source) ? [a, b] : isWithin(a.source, b.source) ? [b, a] : [undefined, undefined];
      if (!outer || !inner) continue;
      const key = `${a.module}/${a.service}|${b.module}/${b.service}|${inner.source}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const owner = selected.has(a.module) ? a : b;
      const same = outer.source === inner.source;
      out.push({
        code: "bind.two_writers",
        module: owner.module,
        service: owner.service,
        path: inner.source,
        message: same
          ? `${inner.source} is bound read-write into ${a.module}/${a.service} (${a.target}) and ${b.module}/${b.service} (${b.target}): two modules write one tree`
          : `${inner.source} (bound read-write into ${inner.module}/${inner.service} at ${inner.target}) lies inside ${outer.source}, bound read-write into ${outer.module}/${outer.service} (${outer.target}): two modules write one tree`,
        remedy: `Give each module its own directory, or bind it read-only (:ro) into all but one writer; two writers on one tree collide on files and ownership — ${FLAT_LAYOUT}.`,
      });
    }
  }

  const volumeWriters = (facts.volumes ?? []).filter((v) => !v.readOnly);
  const seenVolumes = new Set<string>();
  for (const a of volumeWriters) {
    for (const b of volumeWriters) {
      if (a.module >= b.module || a.volume !== b.volume) continue; // different modules only, each pair once
      if (!selected.has(a.module) && !selected.has(b.module)) continue;
      if (a.backupRefModules.includes(b.module) || b.backupRefModules.includes(a.module)) continue; // a declared sidecar
      const key = `${a.module}/${a.service}|${b.module}/${b.service}|${a.volume}`;
      if (seenVolumes.has(key)) continue;
      seenVolumes.add(key);
      const owner = selected.has(a.module) ? a : b;
      out.push({
        code: "volume.two_writers",
        module: owner.module,
        service: owner.service,
        path: a.volume,
        message: `volume ${a.volume} is mounted read-write into ${a.module}/${a.service} (${a.target}) and ${b.module}/${b.service} (${b.target}): two modules write one volume`,
        remedy:
          "Mount it read-only (:ro) in all modules but its owner, or give each module its own volume; for a sidecar of the owner's data (like minio-init), name the owner in backup_ref_modules (docs/policy.md: a writer of a stateful module's volume is judged by its gate).",
      });
    }
  }

  for (const b of writers) {
    if (!selected.has(b.module) || !isWithin(facts.stateDir, b.source)) continue;
    out.push({
      code: "state_dir.in_bind",
      module: b.module,
      service: b.service,
      path: facts.stateDir,
      message: `STATE_DIR ${facts.stateDir} lies inside ${b.source}, bound read-write into ${b.module}/${b.service} (${b.target}): the container can change platformctl's lock, audit log and keys`,
      remedy: `Move STATE_DIR out of module data: ${FLAT_LAYOUT}, e.g. STATE_DIR=/data-state on its own disk.`,
    });
  }

  const order: MountFindingCode[] = [
    "mount.not_checked",
    "mount.shadowed",
    "mount.unverified",
    "bind.source_missing",
    "bind.two_writers",
    "volume.two_writers",
    "state_dir.in_bind",
  ];
  const mask = maskerFor(facts.secrets ?? []);
  return out
    .map((f) => ({ ...f, path: mask(f.path), message: mask(f.message), remedy: mask(f.remedy) }))
    .sort(
      (x, y) =>
        order.indexOf(x.code) - order.indexOf(y.code) ||
        cmp(x.module ?? "", y.module ?? "") ||
        cmp(x.service ?? "", y.service ?? "") ||
        cmp(x.path, y.path) ||
        cmp(x.message, y.message),
    );
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
