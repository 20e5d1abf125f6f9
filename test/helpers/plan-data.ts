// Plain-data builders for the pure core: modules and observed containers, no engine needed.
import { defaultBackupMethod, type Module, type Service } from "../../src/manifest/module.js";
import type { ObservedContainer, ObservedState } from "../../src/plan/observed-state.js";
import { moduleSpecs } from "../../src/plan/desired-spec.js";
import type { PlanInputs } from "../../src/plan/compute-plan.js";
import { TEST_IMAGE } from "./test-image.js";

export const IMAGE_ID = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

export function aService(over: Partial<Service> = {}): Service {
  return {
    name: "app",
    image: TEST_IMAGE,
    entrypoint: undefined,
    command: ["sleep", "1000"],
    environment: {},
    envFiles: [],
    restart: "no",
    restartExplicit: true,
    networks: [],
    volumes: [],
    healthcheck: undefined,
    labels: {},
    user: undefined,
    workingDir: undefined,
    ports: [],
    stopGracePeriodSeconds: undefined,
    stopSignal: undefined,
    memLimitBytes: undefined,
    expectedState: "running",
    ...over,
  };
}

export function aModule(over: Partial<Module> = {}): Module {
  const name = over.name ?? "app";
  return {
    name,
    description: undefined,
    file: `modules/${name}/module.yaml`,
    dir: `modules/${name}`,
    contentDigest: `sha256:${name}`,
    stateful: false,
    backupRefModules: [name],
    dependsOn: [],
    expectedState: "running",
    timeoutSeconds: 60,
    services: [aService({ name })],
    smoke: [],
    backup: { method: defaultBackupMethod(over.stateful ?? false), exec: undefined, verify: "optional" },
    ...over,
  };
}

export const nameOf = (project: string) => (module: string, service: string) => `${project}_${module}_${service}`;

/** An observed container that is in sync with `service` of `module` unless overridden. */
export function anObservedContainer(module: Module, serviceName: string, over: Partial<ObservedContainer> = {}): ObservedContainer {
  const svc = module.services.find((s) => s.name === serviceName) ?? aService({ name: serviceName });
  const spec = moduleSpecs(module).get(serviceName);
  const oneShot = svc.expectedState === "exited-success";
  return {
    id: `id-${module.name}-${serviceName}`,
    name: nameOf("p")(module.name, serviceName),
    module: module.name,
    service: serviceName,
    labels: spec ? { "dev.platformctl.spec-fields": JSON.stringify(spec.fields) } : {},
    specHash: spec?.hash,
    imageRef: svc.image,
    configImage: svc.image,
    imageId: IMAGE_ID,
    status: oneShot ? "exited" : "running",
    running: !oneShot,
    exitCode: 0,
    oomKilled: false,
    error: "",
    startedAt: "2026-11-22T10:00:00.000Z",
    finishedAt: oneShot ? "2026-11-22T10:00:01.000Z" : undefined,
    health: svc.expectedState === "healthy" ? "healthy" : undefined,
    healthLog: [],
    restartCount: 0,
    createdAt: "2026-11-22T09:59:59.000Z",
    ...over,
  };
}

export function anObservedState(
  containers: ObservedContainer[],
  images: Record<string, string | null> = { [TEST_IMAGE]: IMAGE_ID },
): ObservedState {
  return { project: "p", containers, images, volumes: [], networks: [] };
}

export function planInputs(catalog: Module[], observed: ObservedState, over: Partial<PlanInputs> = {}): PlanInputs {
  return { project: "p", catalog, observed, now: "2026-11-22T12:00:00.000Z", containerName: nameOf("p"), ...over };
}
