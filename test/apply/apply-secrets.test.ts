// apply on the real engine: every resolved ${VAR} value is masked in text, --json and audit.jsonl, whichever action ran.
import { describe, expect, it } from "vitest";
import { expectNoCanary, oneShot, useScenarios, type Scenario } from "./apply-scenario.js";
import { manifest } from "../helpers/platform.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const scenario = useScenarios();

/** Applies twice (text, then --json) and returns everything platformctl wrote, the audit log included. */
async function applyTwice(s: Scenario, module: string): Promise<{ first: string; second: string; json: string; audit: string }> {
  const first = await s.apply(["--module", module]);
  expect(first.code, first.stdout + first.stderr).toBe(1);
  const second = await s.apply(["--module", module]);
  expect(second.code, second.stdout + second.stderr).toBe(1);
  const json = await s.apply(["--module", module, "--json"]);
  expect(json.code, json.stdout + json.stderr).toBe(1);
  return {
    first: first.stdout + first.stderr,
    second: second.stdout + second.stderr,
    json: json.stdout + json.stderr,
    audit: await s.auditText(),
  };
}

/** The action types of the second apply's result record. */
function secondActions(audit: string): string[] {
  const results = audit
    .split("\n")
    .filter((l) => l.includes('"type":"result"'))
    .map((l) => JSON.parse(l) as { modules: { actions: { type: string }[] }[] });
  return results[1]?.modules.flatMap((m) => m.actions.map((a) => a.type)) ?? [];
}

describe("DEBUG in the environment", () => {
  it("makes neither apply nor plan print the engine client's requests or replies, which carry the secret (DEBUG=*)", async () => {
    const yaml = manifest("dbg", {
      services: `    dbg:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100000"]\n      stop_grace_period: 1s\n      environment:\n        PW: \${APPLY_CANARY}\n`,
    });
    const s = await scenario("debug-env", { dbg: yaml });
    // docker-modem logs through `debug` ("modem"): its replies to inspect hold the container's Env, the value included.
    const applied = await s.apply(["--module", "dbg"], { DEBUG: "*" });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const planned = await s.run("plan", [], { DEBUG: "*" });
    expect(planned.code, planned.stdout + planned.stderr).toBe(0);
    expect(planned.stdout).toContain("in sync");
    expect(applied.stderr + planned.stderr).not.toContain("modem");
    expectNoCanary(applied.stdout, applied.stderr, planned.stdout, planned.stderr, await s.auditText());
  });
});

describe("apply masks the module's secrets on every action, not only after creating a container", () => {
  it("masks a failed one-shot's stdout and stderr when it is run again on its existing container", async () => {
    const command = '["sh", "-c", "echo out:$$PW; echo err:$$PW >&2; exit 1"]';
    const s = await scenario("rerun-mask", { job: oneShot("job", command, { more: "      environment:\n        PW: ${APPLY_CANARY}\n" }) });
    const out = await applyTwice(s, "job");
    // The second apply runs the existing container again (no create): the path the runbook prescribes.
    expect(secondActions(out.audit)).toEqual(["run-once"]);
    for (const text of [out.first, out.second]) {
      expect(text).toContain("out:***");
      expect(text).toContain("err:***");
    }
    expectNoCanary(out.first, out.second, out.json, out.audit);
  });

  it("masks the output of a long-running service that exits when it is started again", async () => {
    const yaml = manifest("svc", {
      services: `    svc:\n      image: ${TEST_IMAGE}\n      command: ["sh", "-c", "echo out:$$PW; echo err:$$PW >&2; exit 1"]\n      restart: "no"\n      stop_grace_period: 1s\n      environment:\n        PW: \${APPLY_CANARY}\n`,
    });
    const s = await scenario("start-mask", { svc: yaml });
    const out = await applyTwice(s, "svc");
    expect(secondActions(out.audit)).toEqual(["start"]);
    expect(out.second).toContain("out:***");
    expectNoCanary(out.first, out.second, out.json, out.audit);
  });

  it("masks a start error that echoes a secret from the entrypoint, on the existing container too", async () => {
    const yaml = manifest("bad", {
      expected: "exited-success",
      services: `    bad:\n      image: ${TEST_IMAGE}\n      entrypoint: ["/nonexistent-\${APPLY_CANARY}"]\n      restart: "no"\n      stop_grace_period: 1s\n`,
    });
    const s = await scenario("start-error-mask", { bad: yaml });
    const out = await applyTwice(s, "bad");
    expect(secondActions(out.audit)).toEqual(["run-once"]);
    // The value the container holds for the reference is masked whole (`exec: "***"`), the reference part too.
    expect(out.second).toMatch(/failed to start: .*"\*\*\*"/);
    expectNoCanary(out.first, out.second, out.json, out.audit);
  });
});

describe("encodings a container prints of a long secret", () => {
  it("masks its base64 wrapped at 76 columns and its hex dump, in text, --json and the audit log", async () => {
    const long = `${"long-canary-Hq3+Zp8/".repeat(5)}end`; // 103 bytes: `base64` wraps it over two lines
    const command = '["sh", "-c", "printf %s \\"$$L\\" | base64; printf %s \\"$$L\\" | xxd -p; echo LOG_ME; exit 1"]';
    const s = await scenario("wrap-mask", { job: oneShot("job", command, { more: "      environment:\n        L: ${LONG_CANARY}\n" }) });
    const env = { LONG_CANARY: long };
    const [text, json] = [await s.apply(["--module", "job"], env), await s.apply(["--module", "job", "--json"], env)];
    expect(text.code, text.stdout + text.stderr).toBe(1);
    expect(text.stdout + text.stderr).toContain("LOG_ME"); // the output is shown, masked
    const b64 = Buffer.from(long).toString("base64");
    const hex = Buffer.from(long).toString("hex");
    for (const out of [text.stdout + text.stderr, json.stdout + json.stderr, await s.auditText()]) {
      for (let i = 0; i + 12 <= b64.length; i += 6) expect(out).not.toContain(b64.slice(i, i + 12));
      for (let i = 0; i + 12 <= hex.length; i += 6) expect(out).not.toContain(hex.slice(i, i + 12));
    }
  });
});

describe("a ${VAR} in a bind source is a secret like any other", () => {
  it("masks it in the engine's create error, in plan and health mount findings, in text, --json and the audit log", async () => {
    const yaml = manifest("binder", {
      services: `    binder:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100"]\n      restart: "no"\n      stop_grace_period: 1s\n      volumes: ["/srv/x-\${APPLY_CANARY}:/x"]\n`,
    });
    const s = await scenario("bind-mask", { binder: yaml });
    // The applies one after the other: run together, one loses the lock, and which one does depended on load.
    const text = await s.apply(["--module", "binder"]);
    const json = await s.apply(["--module", "binder", "--json"]);
    const [plan, planJson, health, healthJson] = await Promise.all([
      s.run("plan", ["--module", "binder"]),
      s.run("plan", ["--module", "binder", "--json"]),
      s.run("health", ["--module", "binder"]),
      s.run("health", ["--module", "binder", "--json"]),
    ]);
    const applies = [text, json].map((r) => r.stdout + r.stderr);
    // Both applies reach the engine and its create is refused; the text view quotes the engine's reason (masked).
    expect([text.code, json.code]).toEqual([1, 1]);
    expect(text.stdout + text.stderr, applies.join("\n---\n")).toContain("bind source path does not exist");
    expect(plan.stdout + plan.stderr).toContain("bind.source_missing");
    expect(plan.stdout + plan.stderr).toContain("/srv/x-***");
    expect(health.code).toBe(1);
    expectNoCanary(...applies, ...[plan, planJson, health, healthJson].map((r) => r.stdout + r.stderr), await s.auditText());
  }, 120_000);
});
