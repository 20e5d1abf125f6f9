// What a container's mounts are and which device it sees at a path: inspect's Mounts, an exec'd stat, mountinfo parsing.
import { posix } from "node:path";
import { z } from "zod";
import { execInContainer } from "./actions.js";
import type { Engine } from "./connect.js";
import { requestJson, seg } from "./dial.js";
import { EngineError } from "./errors.js";
import { isWithin } from "../policy/path-containment.js";

/** One mount of a container as inspect reports it (`Mounts[]`). */
export interface ContainerMount {
  type: string;
  /** Host path for binds; the volume's data path for volumes. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** `rprivate`, `rshared`, … ("" for volumes). */
  propagation: string;
}

const MountsSchema = z.object({
  Mounts: z
    .array(z.object({ Type: z.string(), Source: z.string(), Destination: z.string(), RW: z.boolean(), Propagation: z.string().optional() }))
    .nullish(),
});

/** The mounts of one container (read-only: one inspect). */
export async function inspectMounts(engine: Engine, id: string, signal?: AbortSignal): Promise<ContainerMount[]> {
  const reply = await requestJson(engine, { method: "GET", path: `/containers/${seg(id)}/json`, operation: "inspect container mounts", target: id, signal });
  const r = MountsSchema.safeParse(reply);
  if (!r.success) throw new EngineError({ kind: "unexpected", operation: "inspect container mounts", engineMessage: r.error.issues[0]?.message, cause: r.error });
  return (r.data.Mounts ?? []).map((m) => ({ type: m.Type, source: m.Source, destination: m.Destination, readOnly: !m.RW, propagation: m.Propagation ?? "" }));
}

/** One line of `/proc/<pid>/mountinfo`. */
export interface MountinfoEntry {
  mountPoint: string;
  /** `st_dev` of the mounted filesystem, encoded as the kernel's `stat` encodes it. */
  dev: number;
  fsType: string;
}

/** `major:minor` -> the `st_dev` value stat reports (Linux new_encode_dev; also what glibc's makedev gives for these). */
export function makeDev(major: number, minor: number): number {
  return (minor & 0xff) + major * 0x100 + (minor - (minor & 0xff)) * 0x1000;
}

/** Parses mountinfo text (proc(5)); mount points are unescaped (`\040` -> space). Malformed lines are skipped. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    const dash = fields.indexOf("-");
    const devField = fields[2];
    const point = fields[4];
    const fsType = fields[dash + 1];
    if (dash < 6 || !devField || !point || !fsType) continue;
    const m = /^(\d+):(\d+)$/.exec(devField);
    if (!m) continue;
    out.push({ mountPoint: unescapeOctal(point), dev: makeDev(Number(m[1]), Number(m[2])), fsType });
  }
  return out;
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The device at `path` according to mountinfo: the last-listed mount whose mount point is the longest prefix. */
export function deviceAt(entries: readonly MountinfoEntry[], path: string): number | undefined {
  let best: MountinfoEntry | undefined;
  for (const e of entries) {
    const inside = isWithin(path, e.mountPoint);
    if (inside && (!best || e.mountPoint.length >= best.mountPoint.length)) best = e;
  }
  return best?.dev;
}

export interface DeviceReading {
  /** `st_dev` at the path inside the container; null when no method worked. */
  dev: number | null;
  /** How it was read. */
  method: "stat" | "busybox stat" | "mountinfo" | null;
  /** Why each method failed, when none worked. */
  error: string | undefined;
}

/**
 * Reads the device a running container sees at `path`: `stat -c %d`, then `busybox stat -c %d`, then
 * `cat /proc/self/mountinfo` (longest mount-point prefix). Each exec is bounded by `timeoutMs`. Never throws for a
 * failed probe: the reading says why.
 */
export async function readDeviceInContainer(engine: Engine, id: string, path: string, timeoutMs = 5_000, signal?: AbortSignal): Promise<DeviceReading> {
  const target = posix.normalize(path);
  const errors: string[] = [];
  const attempts: { method: "stat" | "busybox stat"; cmd: string[] }[] = [
    { method: "stat", cmd: ["stat", "-c", "%d", target] },
    { method: "busybox stat", cmd: ["busybox", "stat", "-c", "%d", target] },
  ];
  for (const a of attempts) {
    try {
      const r = await execInContainer(engine, id, a.cmd, timeoutMs, signal);
      const out = r.output.trim();
      if (r.exitCode === 0 && /^\d+$/.test(out)) return { dev: Number(out), method: a.method, error: undefined };
      errors.push(`${a.method}: ${r.timedOut ? "timed out" : `exit ${r.exitCode ?? "unknown"}`}${out ? ` ${out.split("\n").at(-1)?.slice(0, 160)}` : ""}`);
    } catch (e) {
      errors.push(`${a.method}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  try {
    const r = await execInContainer(engine, id, ["cat", "/proc/self/mountinfo"], timeoutMs, signal);
    const dev = r.exitCode === 0 ? deviceAt(parseMountinfo(r.output), target) : undefined;
    if (dev !== undefined) return { dev, method: "mountinfo", error: undefined };
    errors.push(`cat /proc/self/mountinfo: exit ${r.exitCode ?? "unknown"}`);
  } catch (e) {
    errors.push(`cat /proc/self/mountinfo: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { dev: null, method: null, error: errors.join("; ") };
}
