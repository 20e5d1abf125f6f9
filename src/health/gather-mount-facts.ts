// Gathers the facts mount sanity judges: declared bind sources on the host, host mounts below them, what containers see.
import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { resolveInterpolation } from "../manifest/interpolation.js";
import type { Module } from "../manifest/module.js";
import type { ObservedContainer } from "../plan/observed-state.js";
import { parseMountinfo, type MountinfoEntry } from "../runtime/mountinfo.js";
import type { Runtime } from "../runtime/runtime.js";
import { resolveStateDir } from "../state/state-dir.js";
import { isWithin } from "../policy/path-containment.js";
import type { DeclaredBind, DeclaredVolume, MountFacts, NestedMountFact } from "./mount-sanity.js";

export interface MountFactsContext {
  runtime: Runtime;
  /** The whole catalog: writers outside the selection count too. */
  catalog: readonly Module[];
  /** Modules whose findings are reported. */
  selected: readonly string[];
  /** Containers of the project (one observation). */
  containers: readonly ObservedContainer[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** The host's mountinfo; defaults to reading /proc/self/mountinfo. */
  readMountinfo?: () => Promise<string>;
  signal?: AbortSignal | undefined;
}

/** Filesystems that are not data disks: a container that lacks a later one of these is not a shadow write. */
const PSEUDO_FS = new Set([
  "proc",
  "sysfs",
  "cgroup",
  "cgroup2",
  "nsfs",
  "devpts",
  "mqueue",
  "tracefs",
  "debugfs",
  "securityfs",
  "bpf",
  "autofs",
  "binfmt_misc",
  "fusectl",
  "configfs",
  "pstore",
  "hugetlbfs",
  "overlay",
]);
/** Nested mounts probed per container at most (a bind of `/` would otherwise probe every mount of the host). */
const MAX_NESTED_PER_CONTAINER = 32;

/** Reads everything `mountWarnings` needs. Host-side facts only when the engine is local (a unix socket). */
export async function gatherMountFacts(ctx: MountFactsContext): Promise<MountFacts> {
  const local = ctx.runtime.local;
  const binds: DeclaredBind[] = [];
  const volumes: DeclaredVolume[] = [];
  const secrets: string[] = [];
  for (const m of ctx.catalog) {
    for (const s of m.services) {
      for (const v of s.volumes) {
        if (v.type === "volume" && v.source !== undefined) {
          volumes.push({
            module: m.name,
            service: s.name,
            volume: v.source,
            target: v.target,
            readOnly: v.readOnly,
            backupRefModules: m.backupRefModules,
          });
        }
        if (v.type !== "bind" || v.source === undefined) continue;
        const r = resolveInterpolation(v.source, ctx.env);
        if (!r.ok) continue; // unresolved here: apply would fail first and say why
        secrets.push(...r.secrets);
        const source = await canonical(path.resolve(ctx.cwd, m.dir, r.value));
        binds.push({
          module: m.name,
          service: s.name,
          source,
          target: v.target,
          readOnly: v.readOnly,
          sourceExists: local ? await exists(source) : undefined,
        });
      }
    }
  }
  const stateDir = await canonical(resolveStateDir(ctx.env, ctx.cwd));
  const facts: MountFacts = { binds, volumes, nested: [], stateDir, modules: [...ctx.selected], secrets };
  if (!local) return { ...facts, remoteEndpoint: ctx.runtime.endpoint };

  const selected = new Set(ctx.selected);
  const probedContainers = ctx.containers.filter((c) => selected.has(c.module) && c.status === "running");
  // Nothing to probe (plan and apply pass no containers): the host's mount table is not needed.
  if (!probedContainers.length) return { ...facts, nested: [] };
  const hostMounts = topMounts(parseMountinfo(await (ctx.readMountinfo ?? (() => readFile("/proc/self/mountinfo", "utf8")))()));
  const nested: NestedMountFact[] = [];
  for (const c of probedContainers) {
    // The observation's own read when it has one (Docker), so 200 running services are not inspected 200 times more.
    const mounts = (c.mounts ?? (await ctx.runtime.unitMounts(c.id, ctx.signal))).filter((m) => m.type === "bind");
    let probed = 0;
    for (const b of mounts) {
      const source = await canonical(b.source);
      for (const hm of hostMounts) {
        if (PSEUDO_FS.has(hm.fsType) || !isWithin(hm.mountPoint, source) || probed >= MAX_NESTED_PER_CONTAINER) continue;
        probed += 1;
        const hostDev = await stat(hm.mountPoint).then(
          (st) => st.dev,
          () => undefined,
        );
        if (hostDev === undefined) continue;
        const containerPath = path.posix.join(b.destination, path.posix.relative(source, hm.mountPoint));
        const reading = await ctx.runtime.readDevice(c.id, containerPath, 5_000, ctx.signal);
        nested.push({
          module: c.module,
          service: c.service,
          container: c.name,
          bindSource: source,
          bindTarget: b.destination,
          bindReadOnly: b.readOnly,
          hostPath: hm.mountPoint,
          containerPath,
          fsType: hm.fsType,
          hostDev,
          containerDev: reading.dev,
          probeError: reading.error,
        });
      }
    }
  }
  return { ...facts, nested };
}

/** One entry per mount point, the one on top (mountinfo lists stacked mounts in mount order). */
function topMounts(entries: readonly MountinfoEntry[]): MountinfoEntry[] {
  const byPoint = new Map<string, MountinfoEntry>();
  for (const e of entries) byPoint.set(e.mountPoint, e);
  return [...byPoint.values()].sort((a, b) => (a.mountPoint < b.mountPoint ? -1 : a.mountPoint > b.mountPoint ? 1 : 0));
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The real path when it exists (symlinks resolved, as mountinfo shows them), else the normalised path (a missing source is reported by `exists`). */
const canonical = (p: string): Promise<string> => realpath(p).catch(() => path.resolve(p));
