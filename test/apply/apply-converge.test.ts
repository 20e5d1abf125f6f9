// apply converging services on the real engine: saved plans refused when stale, dependencies that are down, recreates.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useScenarios, aService, docker, expectAuditOutcomes, oneShot, type Scenario } from "./apply-scenario.js";
import { eventually } from "../helpers/eventually.js";

const scenario = useScenarios();

const WEB = aService("web", '["sleep", "100000"]');
const WEB_WITH_SECRET = WEB.replace('      restart: "no"\n', '      restart: "no"\n      environment:\n        TOKEN: ${APPLY_CANARY}\n');
const planFile = (s: Scenario) => path.join(s.stateDir, "..", "plan.json");

describe("apply --plan", () => {
  it("applies an unchanged saved plan, even one made before STATE_DIR had its digest key", async () => {
    const s = await scenario("planok", { web: WEB_WITH_SECRET });
    const plan = await s.run("plan", ["--module", "web", "--out", planFile(s)]);
    expect(plan.code, plan.stderr).toBe(0);
    const r = await s.apply(["--module", "web", "--plan", planFile(s)]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await s.container("web")).State.Running).toBe(true);
    expectAuditOutcomes(await s.audit(), ["applied"]);
  });

  it("refuses with exit 5 and changes nothing when a container changed after the plan was saved", async () => {
    const s = await scenario("stalekill", { web: WEB });
    expect((await s.apply(["--module", "web"])).code).toBe(0);
    const saved = await s.run("plan", ["--module", "web", "--out", planFile(s)]);
    expect(saved.code).toBe(0);
    const c = docker.getContainer((await s.container("web")).Id);
    await c.kill();
    const before = await eventually(async () => {
      const x = await c.inspect();
      expect(x.State.Status).toBe("exited");
      return x;
    });

    const r = await s.apply(["--module", "web", "--plan", planFile(s)]);
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.stderr).toContain("stale plan");
    const after = await c.inspect();
    expect(after.State).toEqual(before.State);
    expect((await s.containers()).map((x) => x.Id)).toEqual([before.Id]);
    const runs = expectAuditOutcomes(await s.audit(), ["applied", "refused"]);
    expect(runs[1]?.result.modules).toEqual([]);
  });

  it("refuses with exit 5 and creates nothing when the manifest was edited after the plan was saved", async () => {
    const s = await scenario("staleedit", { web: WEB });
    expect((await s.run("plan", ["--module", "web", "--out", planFile(s)])).code).toBe(0);
    await s.write("web", aService("web", '["sleep", "99999"]'));
    const r = await s.apply(["--module", "web", "--plan", planFile(s)]);
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.stderr).toContain("stale plan");
    expect(await s.containers()).toEqual([]);
    expectAuditOutcomes(await s.audit(), ["refused"]);
  });
});

describe("dependencies", () => {
  it("refuses a module whose dependency is stopped, naming the dependency and its state, and creates nothing", async () => {
    const s = await scenario("deps", { db: aService("db"), app: oneShot("app", '["sh", "-c", "sleep 0.1"]', { dependsOn: ["db"] }) });
    expect((await s.apply(["--module", "db"])).code).toBe(0);
    const db = docker.getContainer((await s.container("db")).Id);
    await db.kill();
    await eventually(async () => expect((await db.inspect()).State.Status).toBe("exited"));

    // A gate outcome since the executor decides nothing: blocked (exit 3) before the intent's first change, not failed (1).
    const r = await s.apply(["--module", "app"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toContain('depends on "db", which is not in this run and not ready: db: container.state.not_running (exited 137)');
    expect((await s.containers()).map((c) => c.Name)).toEqual([`/${s.project}_db_db`]);
    expect((await db.inspect()).State.Running).toBe(false);
    expectAuditOutcomes(await s.audit(), ["applied", "blocked"]);
  });
});

describe("recreate", () => {
  it("recreates a long-running service whose command changed: new container, old one gone, same name", async () => {
    const s = await scenario("recreate", { web: WEB });
    expect((await s.apply(["--module", "web"])).code).toBe(0);
    const old = await s.container("web");
    await s.write("web", aService("web", '["sleep", "99999"]'));
    const r = await s.apply(["--module", "web"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const now = await s.container("web");
    expect(now.Id).not.toBe(old.Id);
    expect(now.Name).toBe(`/${s.project}_web_web`);
    expect(now.Config.Cmd).toEqual(["sleep", "99999"]);
    expect(now.State.Running).toBe(true);
    await expect(docker.getContainer(old.Id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(await s.containers()).toHaveLength(1);
    expect((await s.plan(["--module", "web"])).modules[0]?.in_sync).toBe(true);
    const runs = expectAuditOutcomes(await s.audit(), ["applied", "applied"]);
    expect(runs[1]?.result.modules[0]?.actions.map((a) => a.type)).toEqual(["recreate", "start"]);
  });

  it("recreates a one-shot whose spec changed and runs the new one to exit 0", async () => {
    const s = await scenario("rerun", { job: oneShot("job", '["sh", "-c", "echo v1; sleep 0.1"]') });
    expect((await s.apply(["--module", "job"])).code).toBe(0);
    const old = await s.container("job");
    await s.write("job", oneShot("job", '["sh", "-c", "echo v2; sleep 0.1"]'));
    const r = await s.apply(["--module", "job"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const now = await s.container("job");
    expect(now.Id).not.toBe(old.Id);
    expect(now.State).toMatchObject({ Status: "exited", ExitCode: 0 });
    const logs = await docker.getContainer(now.Id).logs({ stdout: true, stderr: true });
    expect(logs.toString("utf8")).toContain("v2");
    await expect(docker.getContainer(old.Id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const runs = expectAuditOutcomes(await s.audit(), ["applied", "applied"]);
    expect(runs[1]?.result.modules[0]?.actions.map((a) => [a.type, a.exit_code])).toEqual([
      ["recreate", null],
      ["run-once", 0],
    ]);
  });
});
