// An independent reference model of the policy gate, written from docs/policy.md (not from evaluatePolicy): it only answers eligible or not.
import type { PolicyInput } from "../../src/policy/policy.js";

/** Path segments of a clean absolute path (`/a/b` -> [a, b]; `/` -> []), or null when the path is not one. */
function segments(path: string): string[] | null {
  if (path.length === 0 || path[0] !== "/" || path.indexOf("\0") >= 0) return null;
  let p = path;
  while (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  if (p === "/") return [];
  const segs = p.slice(1).split("/");
  for (const s of segs) if (s === "" || s === "." || s === "..") return null;
  return segs;
}

function strictlyInside(child: string, root: string): boolean {
  const c = segments(child);
  const r = segments(root);
  if (c === null || r === null || c.length <= r.length) return false;
  return r.every((seg, i) => c[i] === seg);
}

/** `<module>-<YYYYMMDDTHHMMSSZ>[-<n>].tar.gz` -> [module, epoch ms], or null. */
function backupName(file: string): [string, number] | null {
  const suffix = ".tar.gz";
  if (!file.endsWith(suffix)) return null;
  let stem = file.slice(0, file.length - suffix.length);
  // A later backup in the same second: `Z-<n>`, n from 1 to 999 without a leading zero.
  // A module name has no upper-case Z, so a "Z-" can only follow the timestamp.
  const z = stem.lastIndexOf("Z-");
  if (z >= 0) {
    if (!/^[1-9][0-9]{0,2}$/.test(stem.slice(z + 2))) return null;
    stem = stem.slice(0, z + 1);
  }
  if (stem.length < 18) return null;
  const stamp = stem.slice(stem.length - 16);
  const dash = stem[stem.length - 17];
  const module = stem.slice(0, stem.length - 17);
  if (dash !== "-" || !/^[a-z][a-z0-9-]{0,62}$/.test(module)) return null;
  const digits = "0123456789";
  for (let i = 0; i < 16; i++) {
    const ch = stamp[i] as string;
    if (i === 8 ? ch !== "T" : i === 15 ? ch !== "Z" : !digits.includes(ch)) return null;
  }
  const n = (a: number, b: number) => parseInt(stamp.slice(a, b), 10);
  const [y, mo, d, h, mi, s] = [n(0, 4), n(4, 6), n(6, 8), n(9, 11), n(11, 13), n(13, 15)];
  if (y < 1970) return null;
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // A date that does not exist rolls over; comparing every field back catches it.
  if (
    t.getUTCFullYear() !== y ||
    t.getUTCMonth() !== mo - 1 ||
    t.getUTCDate() !== d ||
    t.getUTCHours() !== h ||
    t.getUTCMinutes() !== mi ||
    t.getUTCSeconds() !== s
  ) {
    return null;
  }
  return [module, t.getTime()];
}

/** Named volumes a module mounts (any mode), and those it mounts read-write. */
function volumesOf(m: PolicyInput["module"], writable: boolean): string[] {
  const out: string[] = [];
  for (const s of m.services)
    for (const v of s.volumes)
      if (v.type === "volume" && v.source && (!writable || !v.readOnly) && !out.includes(v.source)) out.push(v.source);
  return out;
}

/** Volume ownership per docs/policy.md: the first stateful module in catalog order mounting it, else the first one mounting it. */
function ownerOf(x: PolicyInput, volume: string): PolicyInput["module"] | undefined {
  const catalog = x.catalog.some((m) => m.name === x.module.name) ? x.catalog : [...x.catalog, x.module];
  const mounting = catalog.filter((m) => volumesOf(m, false).includes(volume));
  return mounting.find((m) => m.stateful) ?? mounting[0];
}

/** The stateful owners (other than the module) of the volumes the module writes. */
function foreignOwners(x: PolicyInput): PolicyInput["module"][] {
  const out: PolicyInput["module"][] = [];
  for (const v of volumesOf(x.module, true)) {
    const o = ownerOf(x, v);
    if (o?.stateful && o.name !== x.module.name && !out.includes(o)) out.push(o);
  }
  return out;
}

/** Stateful by manifest, by plan, or by writing a stateful module's volume. */
export function referenceStateful(x: PolicyInput): boolean {
  return x.plan.stateful || x.module.stateful || foreignOwners(x).length > 0;
}

/** Module names a single backup may be of: in every applicable backup_ref_modules list. */
function coveringOf(x: PolicyInput): string[] {
  const lists: string[][] = foreignOwners(x).map((o) => o.backupRefModules);
  if (x.plan.stateful || x.module.stateful) lists.unshift(x.module.backupRefModules);
  if (lists.length === 0) return x.module.backupRefModules;
  return (lists[0] as string[]).filter((n) => lists.every((l) => l.includes(n)));
}

function backupIsValid(x: PolicyInput, nowMs: number): boolean {
  const ref = x.inputs.backupRef;
  if (ref === undefined || ref.trim().length === 0) return false;
  const f = x.backup;
  if (!f || f.path !== ref || f.realPath === undefined || f.backupRoot === undefined) return false;
  if (!strictlyInside(f.realPath, f.backupRoot)) return false;
  if (!f.isFile || f.isDirectory || !(f.size > 0)) return false;
  const realSegs = segments(f.realPath) as string[];
  const parsed = backupName(realSegs[realSegs.length - 1] ?? "");
  if (parsed === null || !coveringOf(x).includes(parsed[0])) return false;
  const age = nowMs - parsed[1];
  if (age < 0 || age > x.maxBackupAgeSeconds * 1000) return false;
  // An unreadable catalog proves nothing; a recorded file must match; any other file must read as a complete archive
  // holding something and every named volume of the module its name says it backs up.
  if (f.catalogUnreadable !== undefined) return false;
  if (f.catalogEntry) {
    return f.sha256 !== undefined && f.size === f.catalogEntry.size && f.sha256.toLowerCase() === f.catalogEntry.sha256.toLowerCase();
  }
  const a = f.archive;
  if (!a?.complete || a.entries < 1) return false;
  const covering = x.catalog.find((m) => m.name === parsed[0]);
  if (!covering) return false;
  for (const s of covering.services)
    for (const v of s.volumes) if (v.type === "volume" && v.source && !a.volumes.includes(v.source)) return false;
  return true;
}

/** Eligible per the rules of docs/policy.md. */
export function referenceEligible(x: PolicyInput): boolean {
  if (x.plan.name !== x.module.name) return false;
  const acts = x.plan.actions.length > 0;
  // Dependencies matter only to a plan that does something.
  if (acts && x.dependencies.some((d) => d.readiness === "not-ready")) return false;
  if (!referenceStateful(x)) return true;
  // Nothing to apply changes nothing: no input is needed, and none is judged.
  if (!acts) return true;

  const given = x.inputs;
  const tokenOk = typeof given.confirm === "string" && given.confirm.length > 0 && given.confirm === x.confirmToken;
  if (!given.allowStateful || !tokenOk) return false;

  const kinds = x.plan.drift;
  const nowMs = new Date(x.now).getTime();
  const rerun = given.rerun === true;
  // The maintenance lane applies only a saved plan, whatever else is given.
  const maintenance = given.maintenance === true;
  if (maintenance && x.savedPlan === undefined) return false;

  if (given.bootstrap) {
    const history = x.bootstrap.containersExist || x.bootstrap.volumesExist || x.bootstrap.auditRecordsApply;
    // A refused bootstrap is itself a reason, so it can only end in "blocked".
    return !history && !rerun && kinds.every((d) => d.kind === "service.missing");
  }

  const oneShotNames = x.module.services.filter((s) => s.expectedState === "exited-success").map((s) => s.name);
  if (rerun && oneShotNames.length === 0) return false;
  const upgrade = ["image.changed", "config.changed", "service.missing", "module.stateful_removed"];
  for (const d of kinds) {
    if (maintenance && upgrade.includes(d.kind)) continue;
    if (d.kind !== "container.state.exited_success") return false;
    if (!oneShotNames.includes(d.service)) return false;
  }
  if (maintenance && !backupAfterPlan(x)) return false;
  return backupIsValid(x, nowMs);
}

/** The backup catalog records the backup as made strictly after the saved plan's generated_at. */
function backupAfterPlan(x: PolicyInput): boolean {
  const made = Date.parse(x.backup?.catalogEntry?.createdAt ?? "");
  const planned = Date.parse(x.savedPlan?.generatedAt ?? "");
  return Number.isFinite(made) && Number.isFinite(planned) && made > planned;
}

/** The reference model's view of "a valid backup" (for properties that state what an eligible decision implies). */
export function referenceBackupValid(x: PolicyInput): boolean {
  return backupIsValid(x, new Date(x.now).getTime());
}

/** The reference model's view of "a true first creation" that --bootstrap may claim. */
export function referenceTrueBootstrap(x: PolicyInput): boolean {
  const b = x.bootstrap;
  return (
    x.inputs.bootstrap &&
    x.inputs.rerun !== true &&
    !b.containersExist &&
    !b.volumesExist &&
    !b.auditRecordsApply &&
    x.plan.drift.every((d) => d.kind === "service.missing")
  );
}
