// buildProgram builds only the command a command line runs (its start-up cost), and every command whenever the output
// may list them: help, the version, an unknown or a missing command.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { buildProgram, COMMANDS, main } from "../../src/cli/main.js";

const sink = () => new Writable({ write: (_c, _e, done) => done() });
const io = { stdout: sink(), stderr: sink(), env: {}, cwd: process.cwd() };
const built = (...args: string[]) => buildProgram(io, () => undefined, ["node", "platformctl", ...args]).commands.map((c) => c.name());
const ALL = Object.keys(COMMANDS);

describe("building the command line", () => {
  it("builds only the command named by the first operand, after the program's own options and their values", () => {
    expect(built("apply", "--module", "job", "--rerun")).toEqual(["apply"]);
    expect(built("--verbose", "plan")).toEqual(["plan"]);
    expect(built("--project=apply", "health")).toEqual(["health"]);
    // The value of --project is not the command, even when it is a command's name.
    expect(built("--project", "apply", "plan", "--json")).toEqual(["plan"]);
    expect(built("--modules-dir", "validate", "--runtime", "docker", "smoke")).toEqual(["smoke"]);
    expect(built("lint-workflows")).toEqual(["lint-workflows"]);
  });

  it("builds every command for help, the version, an unknown or a missing command", () => {
    expect(ALL).toHaveLength(13);
    for (const args of [
      [],
      ["--help"],
      ["-h", "apply"],
      ["--version"],
      ["-V"],
      ["help", "apply"],
      ["aply"],
      ["--project", "plan"],
      ["--", "apply"],
    ])
      expect(built(...args), args.join(" ")).toEqual(ALL);
  });

  it("prints the same help for a command built alone as among all of them", async () => {
    const help = async (args: string[]) => {
      let out = "";
      const capture = new Writable({
        write: (c, _e, done) => {
          out += String(c);
          done();
        },
      });
      const code = await main(["node", "platformctl", ...args], { stdout: capture, stderr: capture, env: {}, cwd: process.cwd() });
      return { code, out };
    };
    const alone = await help(["apply", "--help"]);
    expect(alone.code).toBe(0);
    expect(alone.out).toContain("Usage: platformctl apply");
    // Built among all of them: `help apply` takes commander's own path, which builds every command.
    const amongAll = await help(["help", "apply"]);
    expect(amongAll.out).toBe(alone.out);
    const top = await help(["--help"]);
    for (const name of ALL) expect(top.out).toContain(`  ${name}`);
  });
});
