// The one naming module: unit, resource, replacement and helper names, checked on exact output.
import { describe, expect, it } from "vitest";
import { helperUnitName, replacementUnitName, resourceName, unitName } from "../../src/plan/unit-name.js";

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
});
