// Pure parsing of Linux mountinfo, shared by runtimes probing a unit's devices and by health reading the host's.
import { isWithin } from "../policy/path-containment.js";

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
