// Compose's splitting of string commands into arguments (POSIX words, as shlex.split).
import { describe, expect, it } from "vitest";
import { splitCommand } from "../../../src/manifest/compose/split-command.js";

describe("splitCommand", () => {
  it("splits on blanks and honours quotes and backslashes as shlex.split does", () => {
    expect(splitCommand(`server /data --console-address ":9001"`)).toEqual(["server", "/data", "--console-address", ":9001"]);
    expect(splitCommand(`sh -c 'echo "a  b" && exit 1'`)).toEqual(["sh", "-c", 'echo "a  b" && exit 1']);
    expect(splitCommand(`a\\ b "c\\"d" "e\\f" ''`)).toEqual(["a b", 'c"d', "e\\f", ""]);
    expect(splitCommand("  \t ")).toEqual([]);
  });

  it("keeps a ${...} reference one piece even when its default holds blanks", () => {
    expect(splitCommand("run ${ARGS:-a b} x")).toEqual(["run", "${ARGS:-a b}", "x"]);
  });

  it("refuses an unterminated quote and a trailing backslash", () => {
    expect(splitCommand(`echo "open`)).toBeUndefined();
    expect(splitCommand("echo \\")).toBeUndefined();
  });
});
