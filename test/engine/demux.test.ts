// Frame demux and line joining for multiplexed (non-TTY) and raw (TTY) output.
import { describe, expect, it } from "vitest";
import { demuxFrames, frameLines } from "../../src/engine/demux.js";

const frame = (type: number, text: string | Buffer): Buffer => {
  const data = typeof text === "string" ? Buffer.from(text) : text;
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
};

describe("demux", () => {
  it("splits stdout and stderr frames", () => {
    const buf = Buffer.concat([frame(1, "out 1\n"), frame(2, "err 1\n"), frame(1, "out 2\n")]);
    expect(frameLines(demuxFrames(buf, false))).toEqual([
      { stream: "stdout", text: "out 1" },
      { stream: "stderr", text: "err 1" },
      { stream: "stdout", text: "out 2" },
    ]);
  });

  it("joins a line split across frames and a character split across frames", () => {
    const euro = Buffer.from("€");
    const buf = Buffer.concat([
      frame(1, "hal"),
      frame(1, Buffer.concat([Buffer.from("f "), euro.subarray(0, 1)])),
      frame(1, Buffer.concat([euro.subarray(1), Buffer.from("\nnext")])),
    ]);
    expect(frameLines(demuxFrames(buf, false))).toEqual([
      { stream: "stdout", text: "half €" },
      { stream: "stdout", text: "next" },
    ]);
  });

  it("treats TTY output as unframed stdout with CRLF line ends, even when it looks like JSON", () => {
    expect(frameLines(demuxFrames(Buffer.from('{"ok":false}\r\n42\r\n'), true))).toEqual([
      { stream: "stdout", text: '{"ok":false}' },
      { stream: "stdout", text: "42" },
    ]);
  });

  it("keeps the bytes of a truncated last frame and returns nothing for an empty body", () => {
    const cut = frame(1, "complete\n").subarray(0, 12);
    expect(frameLines(demuxFrames(cut, false))).toEqual([{ stream: "stdout", text: "comp" }]);
    expect(demuxFrames(Buffer.alloc(0), false)).toEqual([]);
    expect(demuxFrames(Buffer.alloc(0), true)).toEqual([]);
  });
});
