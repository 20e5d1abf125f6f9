// The Swarm service name limit, checked on plain data before anything is created: a clear error instead of an engine 400.
import { describe, expect, it } from "vitest";
import { assertServiceNames, SERVICE_NAME_MAX } from "../../../src/engine/swarm/service-name.js";
import { PlatformError } from "../../../src/errors.js";
import { scratchProjectName } from "../../../src/plan/unit-name.js";
import { aModule, aService } from "../../helpers/plan-data.js";

describe("Swarm service names", () => {
  const store = aModule({ name: "store", services: [aService({ name: "store" })] });

  it("accepts a service name of exactly 63 characters", () => {
    const project = `p${"a".repeat(SERVICE_NAME_MAX - "p_store_store".length)}`;
    expect(`${project}_store_store`).toHaveLength(63);
    expect(() => assertServiceNames(project, store)).not.toThrow();
  });

  it("refuses a scratch project whose service name would be 64 characters with swarm.name_too_long, naming the name, the real project and how many characters to cut", () => {
    const real = `p${"a".repeat(64 - "_store_store".length - "0verify-1234x0a1b2c-".length - 1)}`;
    const scratch = scratchProjectName(real, "1234x0a1b2c");
    let caught: unknown;
    try {
      assertServiceNames(scratch, store);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PlatformError);
    const e = caught as PlatformError;
    expect(e.code).toBe("swarm.name_too_long");
    expect(e.message).toBe(`the Swarm service name ${scratch}_store_store is 64 characters; Swarm allows at most 63`);
    expect(e.detail).toContain(`adds 20 characters to the project name ${real}`);
    expect(e.hint).toContain("by at least 1 characters");
  });
});
