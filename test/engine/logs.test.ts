// tailLogs: raw bytes demuxed by us, TTY aware, never JSON-parsed.
import { describe, expect, it } from "vitest";
import { tailLogs } from "../../src/engine/logs.js";
import { runOneShot } from "../../src/engine/wait.js";
import { aLabelledContainer, testEngine } from "../helpers/docker.js";
import { testProject } from "../helpers/run-id.js";

const engine = testEngine();
const ran = async (cmd: string, tty = false) => {
  const id = await aLabelledContainer(engine, { project: testProject("logs"), cmd: ["sh", "-c", cmd], tty });
  const r = await runOneShot(engine, id, { timeoutMs: 20_000 });
  expect(r.outcome.kind).toBe("succeeded");
  return id;
};

describe("tailLogs", () => {
  it("separates stdout and stderr lines of a non-TTY container", async () => {
    const id = await ran("echo out 1; echo err 1 >&2; echo out 2; printf 'no newline' >&2");
    const lines = await tailLogs(engine, id, 100);
    expect(lines.filter((l) => l.stream === "stdout").map((l) => l.text)).toEqual(["out 1", "out 2"]);
    expect(lines.filter((l) => l.stream === "stderr").map((l) => l.text)).toEqual(["err 1", "no newline"]);
  });

  it("returns only the last lines asked for", async () => {
    const id = await ran("for i in 1 2 3 4 5; do echo line $i; done");
    expect(await tailLogs(engine, id, 2)).toEqual([
      { stream: "stdout", text: "line 4" },
      { stream: "stdout", text: "line 5" },
    ]);
  });

  it("returns a TTY container's JSON-looking output as text lines", async () => {
    const id = await ran("echo '{\"ok\":false}'; echo 42", true);
    expect(await tailLogs(engine, id, 10)).toEqual([
      { stream: "stdout", text: '{"ok":false}' },
      { stream: "stdout", text: "42" },
    ]);
  });

  it("returns no lines for a container that never started, and not_found for a missing one", async () => {
    const id = await aLabelledContainer(engine, { project: testProject("logs-new"), cmd: ["true"] });
    expect(await tailLogs(engine, id, 10)).toEqual([]);
    await expect(tailLogs(engine, "platformctl-no-such-container", 10)).rejects.toMatchObject({ kind: "not_found" });
  });
});
