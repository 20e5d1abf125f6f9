// What a container's mounts are and which device it sees at a path: inspect's Mounts and an exec'd stat.
import { posix } from "node:path";
import { execInContainer } from "./actions.js";
import type { Engine } from "./connect.js";
import { requestJson, seg } from "./dial.js";
import type { DeviceReading, UnitMount } from "../runtime/runtime.js";
import { deviceAt, parseMountinfo } from "../runtime/mountinfo.js";
import { toContainerMounts } from "./inspect-container.js";
import { arrayOf, bool, nullish, object, readReply, str } from "./reply-shape.js";

/** One mount of a container as inspect reports it (`Mounts[]`). */
export type ContainerMount = UnitMount;

const readMounts = object({
  Mounts: nullish(arrayOf(object({ Type: str, Source: str, Destination: str, RW: bool, Propagation: nullish(str) }))),
});

/** The mounts of one container (read-only: one inspect). */
export async function inspectMounts(engine: Engine, id: string, signal?: AbortSignal): Promise<ContainerMount[]> {
  const reply = await requestJson(engine, {
    method: "GET",
    path: `/containers/${seg(id)}/json`,
    operation: "inspect container mounts",
    target: id,
    signal,
  });
  const r = readReply(readMounts, reply, "inspect container mounts");
  return toContainerMounts(r.Mounts);
}

/**
 * Reads the device a running container sees at `path`: `stat -c %d`, then `busybox stat -c %d`, then
 * `cat /proc/self/mountinfo` (longest mount-point prefix). Each exec is bounded by `timeoutMs`. Never throws for a
 * failed probe: the reading says why.
 */
export async function readDeviceInContainer(
  engine: Engine,
  id: string,
  path: string,
  timeoutMs = 5_000,
  signal?: AbortSignal,
): Promise<DeviceReading> {
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
      errors.push(
        `${a.method}: ${r.timedOut ? "timed out" : `exit ${r.exitCode ?? "unknown"}`}${out ? ` ${out.split("\n").at(-1)?.slice(0, 160)}` : ""}`,
      );
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
