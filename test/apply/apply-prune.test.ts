// apply --prune on the real engine: containers of services a module no longer declares are stopped and removed.
import { describe, expect, it } from "vitest";
import { aService, expectAuditOutcomes, useScenarios } from "./apply-scenario.js";

const scenario = useScenarios();

describe("apply --prune", () => {
  it("removes the running container of a service the module no longer declares, and creates the one it declares now", async () => {
    const s = await scenario("prune", { web: aService("web") });
    expect((await s.apply(["--module", "web"])).code).toBe(0);
    const old = await s.container("web", "web");
    expect(old.State.Running).toBe(true);

    // The module's only service is renamed: the old container is an orphan of the module.
    await s.write("web", aService("web").replace("    web:\n", "    api:\n"));
    const plain = await s.apply(["--module", "web"]);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect((await s.containers()).map((c) => c.Name).sort()).toEqual([`/${s.project}_web_api`, `/${s.project}_web_web`]);

    const pruned = await s.apply(["--module", "web", "--prune"]);
    expect(pruned.code, pruned.stdout + pruned.stderr).toBe(0);
    expect(pruned.stdout + pruned.stderr).not.toMatch(/bug in platformctl|internal/i);
    const left = await s.containers();
    expect(left.map((c) => c.Name)).toEqual([`/${s.project}_web_api`]);
    expect(left[0]?.State.Running).toBe(true);
    expectAuditOutcomes(await s.audit(), ["applied", "applied", "applied"]);
  });
});
