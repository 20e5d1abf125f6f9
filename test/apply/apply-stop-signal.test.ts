// stop_signal on the real engine with real PostgreSQL: a recreate stops the old server with the service's signal, so a
// connected client no longer turns it into SIGKILL and crash recovery; without it (SIGTERM) it does.
import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { docker, useScenarios } from "./apply-scenario.js";
import { createLoadTable, expectNoCrashRecovery, holdConnection, pgModule, query, watchExit } from "../helpers/postgres.js";

const scenario = useScenarios();

/** The stop fields of a container's config (dockerode's type leaves them out). */
const stopConfig = (c: Docker.ContainerInspectInfo) => c.Config as { StopSignal?: string; StopTimeout?: number };

/** Applies `pg`, holds a client session on it, then applies `changed` (a recreate) and reports how the old server ended. */
async function recreateWithClientConnected(label: string, stopSignal: string | null) {
  const opts = { stateful: false, stopSignal, stopGrace: "3s" };
  const s = await scenario(label, { pg: pgModule(opts) });
  const first = await s.apply(["--module", "pg"]);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  const old = await s.container("pg");
  await createLoadTable(docker, old.Id);
  await query(docker, old.Id, "INSERT INTO load(n) SELECT generate_series(1, 500)");
  const held = await holdConnection(docker, old.Id, { project: s.project });
  const exit = await watchExit(docker, old.Id);

  await s.write("pg", pgModule({ ...opts, environment: { RELEASE: "2" } }));
  const recreate = await s.apply(["--module", "pg"]);
  expect(recreate.code, recreate.stdout + recreate.stderr).toBe(0);
  const next = await s.container("pg");
  expect(next.Id).not.toBe(old.Id);
  expect(next.State.Health?.Status).toBe("healthy");
  expect(await query(docker, next.Id, "SELECT count(*) FROM load")).toBe("500");
  await held.stop();
  return { old, next, exitCode: await exit.exitCode, log: await exit.log };
}

describe("stop_signal", () => {
  it("recreates a PostgreSQL module with stop_signal: SIGINT and a connected client through a fast shutdown: no SIGKILL, no crash recovery", async () => {
    const r = await recreateWithClientConnected("sigint", "SIGINT");
    expect(stopConfig(r.old).StopSignal).toBe("SIGINT");
    expect(stopConfig(r.next).StopSignal).toBe("SIGINT");
    expect(stopConfig(r.next).StopTimeout).toBe(3);
    expect(r.exitCode).toBe(0);
    expect(r.log).toContain("received fast shutdown request");
    expect(r.log).toContain("database system is shut down");
    await expectNoCrashRecovery(docker, r.next.Id);
  });

  it("without stop_signal the same recreate waits out the grace on the client and ends in SIGKILL and crash recovery", async () => {
    const r = await recreateWithClientConnected("sigterm", null);
    expect(stopConfig(r.old).StopSignal).toBeUndefined();
    expect(r.exitCode).toBe(137);
    expect(r.log).toContain("received smart shutdown request");
    expect(r.log).not.toContain("database system is shut down");
    await expect(expectNoCrashRecovery(docker, r.next.Id)).rejects.toThrow(/went through crash recovery/);
  });
});
