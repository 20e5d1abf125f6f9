// The create request built for one service, checked on exact output: healthcheck interpolation and bind sources.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildContainer } from "../../src/engine/container-body.js";
import { aModule, aService } from "../helpers/plan-data.js";

const build = (over: Parameters<typeof aService>[0], env: Record<string, string> = {}) => {
  const service = aService({ name: "app", ...over });
  const module = aModule({ name: "app", dir: "/srv/catalog/modules/app", services: [service] });
  return buildContainer({ project: "p", module, service, env, digestKey: undefined });
};

const healthcheck = (test: string[]) => ({
  test,
  intervalNs: undefined,
  timeoutNs: undefined,
  startPeriodNs: undefined,
  retries: undefined,
});

describe("the healthcheck of the create request", () => {
  it("turns $$ into a literal $ for the container's shell, as Compose does", () => {
    const built = build({ healthcheck: healthcheck(["CMD-SHELL", 'test "$$PW" = "$${PW}" && echo $$$$']) });
    expect(built.body.Healthcheck?.Test).toEqual(["CMD-SHELL", 'test "$PW" = "${PW}" && echo $$']);
  });

  it("resolves ${VAR} references in a healthcheck and hands their values to the masker", () => {
    const built = build({ healthcheck: healthcheck(["CMD", "check", "--token=${HC_TOKEN}", "${MODE:-fast}"]) }, { HC_TOKEN: "tok-Zq81xw" });
    expect(built.body.Healthcheck?.Test).toEqual(["CMD", "check", "--token=tok-Zq81xw", "fast"]);
    expect(built.secrets).toContain("tok-Zq81xw");
  });

  it("fails with the variable's name when a healthcheck reference is unset", () => {
    expect(() => build({ healthcheck: healthcheck(["CMD", "check", "${HC_TOKEN}"]) })).toThrow(
      /healthcheck.test\[2\]: HC_TOKEN is not set/,
    );
  });
});

describe("bind sources of the create request", () => {
  it("resolves ./ and ../ against the module directory", () => {
    const built = build({
      volumes: [
        { type: "bind", source: "./data", target: "/data", readOnly: false },
        { type: "bind", source: "../shared", target: "/shared", readOnly: true },
      ],
    });
    expect(built.body.HostConfig.Mounts).toEqual([
      { Type: "bind", Source: "/srv/catalog/modules/app/data", Target: "/data", ReadOnly: false },
      { Type: "bind", Source: path.resolve("/srv/catalog/modules/shared"), Target: "/shared", ReadOnly: true },
    ]);
  });
});
