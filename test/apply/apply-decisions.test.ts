// apply carries out decisions made upstream, on the real engine: dependencies in or outside the run, nothing to apply, gate inputs.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { aService, docker, expectAuditOutcomes, oneShot, useScenarios } from "./apply-scenario.js";

const scenario = useScenarios();
const GATE = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];

describe("dependencies", () => {
  it("refuses the whole run before changing anything when a dependency outside the run is down (exit 3, dependency.not_ready)", async () => {
    const s = await scenario("depdown", {
      db: aService("db"),
      web: aService("web"),
      app: oneShot("app", '["sh", "-c", "sleep 0.1"]', { dependsOn: ["db"] }),
    });
    expect((await s.apply(["--module", "db"])).code).toBe(0);
    const db = docker.getContainer((await s.container("db")).Id);
    await db.kill();
    await eventually(async () => expect((await db.inspect()).State.Status).toBe("exited"));

    const r = await s.apply(["--module", "web", "--module", "app"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toContain('depends on "db", which is not in this run and not ready: db: container.state.not_running (exited 137)');
    // web comes first in the run and could be applied, but the run is refused as a whole before anything changes.
    expect((await s.containers()).map((c) => c.Name)).toEqual([`/${s.project}_db_db`]);
    expect((await db.inspect()).State.Running).toBe(false);
    const runs = expectAuditOutcomes(await s.audit(), ["applied", "blocked"]);
    expect(runs[1]?.intent.decisions.find((d) => d.module === "app")?.reasons).toEqual(["dependency.not_ready"]);

    const scope = await s.run("scope", ["--module", "app", "--fail-on-blocked", "--json"]);
    expect(scope.code, scope.stdout + scope.stderr).toBe(3);
    expect(JSON.parse(scope.stdout)).toMatchObject({ module: "app", eligible: false, reasons: [{ code: "dependency.not_ready" }] });
  });

  it("applies a module whose dependency is down when the dependency is in the same run: the dependency's own apply makes it ready", async () => {
    const s = await scenario("depinrun", { db: aService("db"), app: oneShot("app", '["sh", "-c", "sleep 0.1"]', { dependsOn: ["db"] }) });
    expect((await s.apply(["--module", "db"])).code).toBe(0);
    const db = docker.getContainer((await s.container("db")).Id);
    await db.kill();
    await eventually(async () => expect((await db.inspect()).State.Status).toBe("exited"));

    const r = await s.apply(["--module", "app", "--module", "db"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await db.inspect()).State.Running).toBe(true);
    expect((await s.container("app")).State).toMatchObject({ Status: "exited", ExitCode: 0 });
    const runs = expectAuditOutcomes(await s.audit(), ["applied", "applied"]);
    expect(runs[1]?.result.modules.map((m) => [m.module, m.outcome, m.actions.map((a) => a.type)])).toEqual([
      ["db", "applied", ["start"]],
      ["app", "applied", ["create", "run-once"]],
    ]);
  });

  it("needs no ready dependency for a module with nothing to apply (a no-op, exit 0)", async () => {
    const s = await scenario("depnoop", { db: aService("db"), app: oneShot("app", '["sh", "-c", "sleep 0.1"]', { dependsOn: ["db"] }) });
    expect((await s.apply(["--module", "db", "--module", "app"])).code).toBe(0);
    const db = docker.getContainer((await s.container("db")).Id);
    await db.kill();
    await eventually(async () => expect((await db.inspect()).State.Status).toBe("exited"));

    const r = await s.apply(["--module", "app"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("app: no changes");
    expectAuditOutcomes(await s.audit(), ["applied", "no-op"]);
  });
});

describe("stateful modules and the gate (issue 11 item 16)", () => {
  const STORE = oneShot("store", '["sh", "-c", "sleep 0.1"]', { stateful: true });

  it("agrees between apply and scope --fail-on-blocked for a stateful module in sync with no inputs: eligible, nothing to apply, exit 0", async () => {
    const s = await scenario("nothing", { store: STORE });
    const boot = await s.apply(["--module", "store", ...GATE, "--bootstrap"]);
    expect(boot.code, boot.stdout + boot.stderr).toBe(0);

    const apply = await s.apply(["--module", "store"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain("store: no changes");
    const scope = await s.run("scope", ["--module", "store", "--fail-on-blocked", "--json"]);
    expect(scope.code, scope.stdout + scope.stderr).toBe(0);
    expect(JSON.parse(scope.stdout)).toMatchObject({
      module: "store",
      stateful: true,
      eligible: true,
      rule: "nothing-to-apply",
      reasons: [],
    });
    const runs = expectAuditOutcomes(await s.audit(), ["applied", "no-op"]);
    expect(runs[1]?.intent.decisions).toEqual([{ module: "store", eligible: true, rule: "nothing-to-apply", reasons: [] }]);
  });

  it("reports a whitespace-only --backup-ref as input.backup_ref_missing (exit 3), from apply and from scope, and creates nothing", async () => {
    const s = await scenario("blankref", { store: STORE });
    const boot = await s.apply(["--module", "store", ...GATE, "--bootstrap"]);
    expect(boot.code, boot.stdout + boot.stderr).toBe(0);
    const before = await s.container("store");

    const apply = await s.apply(["--module", "store", "--rerun", ...GATE, "--backup-ref", "   ", "--json"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(3);
    expect(apply.stdout + apply.stderr).toContain("input.backup_ref_missing");
    const scope = await s.run("scope", ["--module", "store", "--rerun", ...GATE, "--backup-ref", "   ", "--fail-on-blocked", "--json"]);
    expect(scope.code, scope.stdout + scope.stderr).toBe(3);
    expect(JSON.parse(scope.stdout).reasons.map((r: { code: string }) => r.code)).toEqual(["input.backup_ref_missing"]);
    expect((await s.container("store")).State).toEqual(before.State);
  });

  it("refuses a relative PLATFORMCTL_BACKUP_DIR as backup.root_missing, even when it names the directory holding the backup", async () => {
    const s = await scenario("relroot", { store: STORE });
    const boot = await s.apply(["--module", "store", ...GATE, "--bootstrap"]);
    expect(boot.code, boot.stdout + boot.stderr).toBe(0);
    const root = path.join(s.stateDir, "..", "backups");
    await mkdir(root, { recursive: true });
    const file = path.join(root, `store-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}Z.tar.gz`);
    await writeFile(file, "not empty");
    const args = ["--module", "store", "--rerun", ...GATE, "--backup-ref", file, "--fail-on-blocked", "--json"];

    const codes = (stdout: string): string[] => JSON.parse(stdout).reasons.map((r: { code: string }) => r.code);
    const absolute = await s.run("scope", args, { PLATFORMCTL_BACKUP_DIR: root });
    expect(codes(absolute.stdout)).not.toContain("backup.root_missing");
    // The same directory named relative to the working directory (the repository root) is refused.
    const relative = await s.run("scope", args, { PLATFORMCTL_BACKUP_DIR: path.relative(process.cwd(), root) });
    expect(relative.code, relative.stdout + relative.stderr).toBe(3);
    expect(codes(relative.stdout)).toContain("backup.root_missing");
  });
});

describe("a stateless module writing a stateful module's volume (issue 11 item 11)", () => {
  it("is judged by the owner's gate: apply and scope exit 3 with volume.foreign_stateful, plan warns of two writers, and it never runs", async () => {
    const store = oneShot("store", '["sh", "-c", "echo kept > /data/f"]', { stateful: true, more: '      volumes: ["data:/data"]\n' });
    const wiper = oneShot("wiper", '["sh", "-c", "rm -rf /data/*"]', { more: '      volumes: ["data:/data"]\n' });
    const s = await scenario("wiper", { store, wiper });
    const boot = await s.apply(["--module", "store", ...GATE, "--bootstrap"]);
    expect(boot.code, boot.stdout + boot.stderr).toBe(0);

    const apply = await s.apply(["--module", "wiper"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(3);
    expect(apply.stderr).toContain("volume.foreign_stateful");
    const scope = await s.run("scope", ["--module", "wiper", "--fail-on-blocked", "--json"]);
    expect(scope.code, scope.stdout + scope.stderr).toBe(3);
    expect(JSON.parse(scope.stdout).reasons.map((r: { code: string }) => r.code)).toContain("volume.foreign_stateful");
    const plan = await s.run("plan", ["--module", "wiper"]);
    expect(plan.stdout).toContain("volume.two_writers");
    // the wiper never ran: no container of it was created
    expect((await s.containers()).map((c) => c.Name)).toEqual([`/${s.project}_store_store`]);
  });
});
