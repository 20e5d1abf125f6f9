// The images scripts/test-images.sh builds, on the real engine: a pg module bootstrapped through the CLI takes writes from
// a client and the crash-recovery check tells a clean restart from a killed server; the no-shell image has one binary.
import { describe, expect, it } from "vitest";
import { docker, useScenarios } from "../apply/apply-scenario.js";
import { eventually } from "../helpers/eventually.js";
import { countRows, execIn, createLoadTable, expectNoCrashRecovery, pgModule, query, serverLog, startLoad } from "../helpers/postgres.js";
import { aLabelledContainer, testEngine } from "../helpers/docker.js";
import { testProject } from "../helpers/run-id.js";
import { NOSHELL_IMAGE, PG_IMAGE } from "../helpers/test-image.js";

const scenario = useScenarios();
const GATE = ["--allow-stateful", "--confirm", "BACKUP_DONE_F3"];

async function waitHealthy(name: string): Promise<void> {
  await eventually(async () => expect((await docker.getContainer(name).inspect()).State.Health?.Status).toBe("healthy"), {
    timeoutMs: 120_000,
    intervalMs: 500,
  });
}

describe("the PostgreSQL test image", () => {
  it("runs a stateful pg module bootstrapped through the CLI that keeps every row a client committed", async () => {
    const s = await scenario("pgimage", { pg: pgModule() });
    const boot = await s.apply(["--module", "pg", ...GATE, "--bootstrap"]);
    expect(boot.code, boot.stdout + boot.stderr).toBe(0);
    const pg = await s.container("pg");
    expect(pg.Config.Image).toBe(PG_IMAGE);
    expect(pg.State.Health?.Status).toBe("healthy");
    expect(pg.Mounts.map((m) => [m.Type, m.Name, m.Destination])).toEqual([["volume", `${s.project}_pgdata`, "/var/lib/postgresql/data"]]);
    expect(await query(docker, pg.Name.slice(1), "SELECT current_user || '@' || current_database()")).toBe("app@app");

    await createLoadTable(docker, pg.Id);
    const load = await startLoad(docker, { project: s.project });
    await eventually(() => expect(load.committed()).toBeGreaterThanOrEqual(20), { timeoutMs: 60_000, intervalMs: 200 });
    const committed = await load.stop();
    expect(await countRows(docker, pg.Id, "load", `n <= ${committed}`)).toBe(committed);
    expect(await countRows(docker, pg.Id)).toBeLessThanOrEqual(committed + 1);
    await expectNoCrashRecovery(docker, pg.Id);
  });

  it("tells a server restarted after a clean stop from one restarted after SIGKILL, which replays WAL", async () => {
    const s = await scenario("pgrecovery", { pg: pgModule() });
    expect((await s.apply(["--module", "pg", ...GATE, "--bootstrap"])).code).toBe(0);
    const name = `${s.project}_pg_pg`;
    await createLoadTable(docker, name);
    await query(docker, name, "INSERT INTO load(n) SELECT generate_series(1, 1000)");
    const c = docker.getContainer(name);

    await c.stop({ t: 30 });
    await c.start();
    await waitHealthy(name);
    await expectNoCrashRecovery(docker, name);
    expect(await serverLog(docker, name)).toContain("database system was shut down at");

    await query(docker, name, "INSERT INTO load(n) SELECT generate_series(1001, 2000)");
    await c.kill({ signal: "SIGKILL" });
    await eventually(async () => expect((await c.inspect()).State.Running).toBe(false));
    await c.start();
    await waitHealthy(name);
    await expect(expectNoCrashRecovery(docker, name)).rejects.toThrow(/went through crash recovery:[\s\S]*not properly shut down/);
    expect(await countRows(docker, name)).toBe(2000);
  });
});

describe("the no-shell test image", () => {
  it("runs its one static binary and holds nothing else: no /bin, no shell to exec", async () => {
    const id = await aLabelledContainer(testEngine(), {
      project: testProject("noshell"),
      image: NOSHELL_IMAGE,
      cmd: ["/busybox", "sleep", "3600"],
      start: true,
    });
    const ls = await execIn(docker, id, ["/busybox", "ls", "-A", "/"]);
    expect(ls.exitCode).toBe(0);
    // Besides /busybox only what the engine itself puts into every container.
    expect(ls.stdout.split("\n").filter(Boolean).sort()).toEqual([".dockerenv", "busybox", "dev", "etc", "proc", "sys"]);
    const sh = await execIn(docker, id, ["/bin/sh", "-c", "true"]);
    expect(sh.exitCode).toBe(126);
    expect(sh.stdout + sh.stderr).toContain('exec: "/bin/sh": stat /bin/sh: no such file or directory');
  });
});
