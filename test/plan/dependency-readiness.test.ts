// Dependency readiness from plain data: in the run, observed ready, or not ready with what is wrong.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { computePlan } from "../../src/plan/compute-plan.js";
import { dependencyReadiness, READINESS } from "../../src/plan/dependency-readiness.js";
import type { ObservedContainer } from "../../src/plan/observed-state.js";
import { aModule, anObservedContainer, anObservedState, aService, planInputs } from "../helpers/plan-data.js";
import { REPO } from "../helpers/repo.js";

const db = aModule({ name: "db", services: [aService({ name: "db", expectedState: "healthy" })] });
const cache = aModule({ name: "cache" });
const app = aModule({ name: "app", dependsOn: ["db", "cache"] });
const catalog = [db, cache, app];

/** Judges app's dependencies the way the live-plan path does: dependencies outside the run planned from one observation. */
function judge(run: string[], containers: ObservedContainer[]) {
  const observed = anObservedState(containers);
  const outside = ["db", "cache"].filter((d) => !run.includes(d));
  const plans = outside.length ? computePlan(planInputs(catalog, observed, { selected: outside })).modules : [];
  return dependencyReadiness({ module: app, run: new Set(run), outside: plans, observed, catalog });
}

describe("dependencyReadiness", () => {
  it("calls a dependency in the same run in-this-run, whatever its state now (its own apply establishes readiness)", () => {
    expect(judge(["db", "cache", "app"], [])).toEqual([
      { module: "db", readiness: "in-this-run", problems: [] },
      { module: "cache", readiness: "in-this-run", problems: [] },
    ]);
  });

  it("calls a dependency outside the run ready when it is in sync and its healthy services are healthy", () => {
    expect(judge(["app"], [anObservedContainer(db, "db"), anObservedContainer(cache, "cache")])).toEqual([
      { module: "db", readiness: "ready", problems: [] },
      { module: "cache", readiness: "ready", problems: [] },
    ]);
  });

  it("calls a stopped or missing dependency outside the run not-ready and says why", () => {
    const stopped = anObservedContainer(db, "db", { status: "exited", running: false, exitCode: 137, health: "unhealthy" });
    expect(judge(["app"], [stopped])).toEqual([
      { module: "db", readiness: "not-ready", problems: ["db: container.state.not_running (exited 137)"] },
      { module: "cache", readiness: "not-ready", problems: ["cache: service.missing"] },
    ]);
  });

  it("calls a dependency whose healthy service is still starting not-ready, though it has no drift", () => {
    const starting = anObservedContainer(db, "db", { health: "starting" });
    expect(judge(["cache", "app"], [starting])).toEqual([
      { module: "db", readiness: "not-ready", problems: ["service db is not healthy (starting)"] },
      { module: "cache", readiness: "in-this-run", problems: [] },
    ]);
  });

  it("calls a dependency that was not planned not-ready rather than assuming it is fine", () => {
    expect(dependencyReadiness({ module: app, run: new Set(["app"]), outside: [], observed: anObservedState([]), catalog })).toEqual([
      { module: "db", readiness: "not-ready", problems: ["db was not planned"] },
      { module: "cache", readiness: "not-ready", problems: ["cache was not planned"] },
    ]);
  });
});

describe("docs/policy.md", () => {
  it.each(Object.keys(READINESS))("documents the readiness verdict %s in its table", (verdict) => {
    expect(readFileSync(path.join(REPO, "docs/policy.md"), "utf8")).toContain(`| \`${verdict}\` |`);
  });
});
