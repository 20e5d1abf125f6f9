// The one saved-plan loader: a plan file round-trips; unreadable, non-JSON and foreign files are refused naming the file.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadSavedPlan } from "../../src/live-plan/load-saved-plan.js";
import type { Plan } from "../../src/plan/plan.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function aFile(content: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "platformctl-saved-plan-"));
  dirs.push(dir);
  const file = path.join(dir, "plan.json");
  await writeFile(file, content);
  return file;
}

const PLAN: Plan = {
  format_version: "1",
  project: "platform",
  generated_at: "2026-11-22T12:00:00.000Z",
  fingerprint: `sha256:${"0".repeat(64)}`,
  modules: [],
  summary: { modules: 0, in_sync: 0, drifted: 0 },
};

describe("loadSavedPlan", () => {
  it("reads back a plan written as JSON", async () => {
    expect(await loadSavedPlan(await aFile(JSON.stringify(PLAN)))).toEqual(PLAN);
  });

  it("refuses a FIFO and a device at once instead of waiting for a writer or reading forever", async () => {
    const fifo = path.join(path.dirname(await aFile("")), "pipe");
    execFileSync("mkfifo", [fifo]);
    await expect(loadSavedPlan(fifo)).rejects.toMatchObject({
      code: "usage.plan_file",
      message: `cannot read the plan file ${fifo} (not a regular file)`,
    });
    await expect(loadSavedPlan("/dev/zero")).rejects.toMatchObject({
      code: "usage.plan_file",
      message: "cannot read the plan file /dev/zero (not a regular file)",
    });
  });

  it("refuses a missing file with usage.plan_file, naming it and the errno", async () => {
    const file = path.join(tmpdir(), "platformctl-no-such-dir", "plan.json");
    await expect(loadSavedPlan(file)).rejects.toMatchObject({
      code: "usage.plan_file",
      message: `cannot read the plan file ${file} (ENOENT)`,
    });
  });

  it("refuses text that is not JSON, and JSON that is not a format-1 plan, with plan.invalid_file", async () => {
    const notJson = await aFile("{ not json");
    await expect(loadSavedPlan(notJson)).rejects.toMatchObject({ code: "plan.invalid_file", message: `${notJson} is not JSON` });
    const foreign = await aFile(JSON.stringify({ ...PLAN, format_version: "2" }));
    await expect(loadSavedPlan(foreign)).rejects.toMatchObject({
      code: "plan.invalid_file",
      message: `${foreign} is not a platformctl plan (format_version 1)`,
    });
  });
});
