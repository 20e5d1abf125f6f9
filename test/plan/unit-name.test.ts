// The one naming module: unit, resource, replacement and helper names, checked on exact output.
import { describe, expect, it } from "vitest";
import {
  helperUnitName,
  isScratchProject,
  replacementUnitName,
  resourceName,
  scratchOf,
  scratchProjectName,
  unitName,
} from "../../src/plan/unit-name.js";

describe("unit and resource names", () => {
  it("names a unit project_module_service and a project resource project_name", () => {
    expect(unitName("platform", "minio-init", "init")).toBe("platform_minio-init_init");
    expect(unitName("p", "m", "svc_with_underscore")).toBe("p_m_svc_with_underscore");
    expect(resourceName("platform", "backend")).toBe("platform_backend");
  });

  it("names a recreate's replacement after the unit it replaces and a helper after its module, role and nonce", () => {
    expect(replacementUnitName("platform_minio_minio")).toBe("platform_minio_minio-next");
    expect(helperUnitName("platform", "minio", "backup", 4242)).toBe("platform_minio_backup-4242");
  });

  it("names a scratch project 0verify-<nonce>-<project>, which no real project name can be, and recognises exactly those", () => {
    const scratch = scratchProjectName("platform-a1", "4242x0a1b2c");
    expect(scratch).toBe("0verify-4242x0a1b2c-platform-a1");
    expect(isScratchProject(scratch)).toBe(true);
    expect(scratchOf(scratch)).toBe("platform-a1");
    // Only [a-z0-9-]: Swarm service names allow [A-Za-z0-9_-] and compare them case-insensitively.
    expect(scratch).toMatch(/^[a-z0-9-]+$/);
    for (const other of [
      "platform-a1",
      "verify-1-p",
      "0verify--p",
      "0verify-1-",
      "0verify-1-9p",
      "0verify-1-P",
      "0verify-1_x-p",
      `0verify-1-p${"a".repeat(40)}`,
    ]) {
      expect(isScratchProject(other), other).toBe(false);
      expect(scratchOf(other), other).toBeUndefined();
    }
  });
});
