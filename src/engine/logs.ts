// Reads the last lines of a container's output as bytes (never JSON-parsed) and demuxes them.
import type { Engine } from "./connect.js";
import { openStream, readBody, requestJson, seg } from "./dial.js";
import { demuxFrames, frameLines, type LogLine } from "./demux.js";
import { logsQuery } from "./requests.js";

/**
 * The last `lines` lines of stdout and stderr, oldest first. The engine counts `lines` across both streams before
 * filtering, and its order across streams is not strictly chronological. Reads `Config.Tty` first, because TTY
 * output is not framed.
 */
export async function tailLogs(engine: Engine, id: string, lines: number, signal?: AbortSignal): Promise<LogLine[]> {
  const info = (await requestJson(engine, {
    method: "GET",
    path: `/containers/${seg(id)}/json`,
    operation: "inspect container",
    target: id,
    signal,
  })) as { Config?: { Tty?: unknown } } | undefined;
  const tty = info?.Config?.Tty === true;
  const call = {
    method: "GET",
    path: `/containers/${seg(id)}/logs`,
    query: logsQuery(lines),
    operation: "read logs of container",
    target: id,
    signal,
  } as const;
  const res = await openStream(engine, call);
  const body = await readBody(res, { operation: call.operation, target: id, endpoint: engine.endpoint }, signal);
  return frameLines(demuxFrames(body, tty));
}
