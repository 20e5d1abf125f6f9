// Plain-data builders for the policy gate: drift items, module plans, dispatch inputs, backup and bootstrap facts.
import type { Module } from "../../src/manifest/module.js";
import type { Action, Drift, DriftKind, ModulePlan } from "../../src/plan/plan.js";
import type { ArchiveFacts, BackupFacts, BootstrapFacts, DispatchInputs, PolicyInput } from "../../src/policy/policy.js";
import { DEFAULT_CONFIRM_TOKEN, DEFAULT_MAX_BACKUP_AGE_SECONDS } from "../../src/policy/policy.js";
import { aModule, aService } from "../helpers/plan-data.js";

export const TOKEN = DEFAULT_CONFIRM_TOKEN;
export const ROOT = "/opt/pdurlej-platform/backups";
export const NOW = "2026-05-17T12:00:00.000Z";
/** The backup ref of the seed scenario (PR #379), 10 h 51 min before NOW. */
export const SEED_REF = `${ROOT}/minio-20260517T010847Z.tar.gz`;
export const SHA = "a".repeat(64);

/** MinIO itself: stateful, healthy, its own backup. */
export const minio = aModule({
  name: "minio",
  stateful: true,
  expectedState: "healthy",
  services: [
    aService({
      name: "minio",
      expectedState: "healthy",
      restart: "unless-stopped",
      volumes: [{ type: "volume", source: "minio-data", target: "/data", readOnly: false }],
    }),
  ],
});

/** The sidecar one-shot that creates buckets in MinIO: stateful, covered by a MinIO backup. */
export const minioInit = aModule({
  name: "minio-init",
  stateful: true,
  expectedState: "exited-success",
  backupRefModules: ["minio"],
  services: [
    aService({ name: "minio-init", expectedState: "exited-success", command: ["/bin/sh", "-c", "mc mb --ignore-existing local/data"] }),
  ],
});

/** A stateful module with a long-running service and a one-shot migration. */
export const dbWithMigrate = aModule({
  name: "db",
  stateful: true,
  expectedState: "running",
  services: [aService({ name: "db" }), aService({ name: "migrate", expectedState: "exited-success" })],
});

export const web = aModule({ name: "web" });

/** Not stateful, but mounts minio's volume read-write to `rm -rf /data/*` (the attack of issue 11 item 11). */
export const wiper = aModule({
  name: "wiper",
  expectedState: "exited-success",
  services: [
    aService({
      name: "wiper",
      expectedState: "exited-success",
      command: ["sh", "-c", "rm -rf /data/*"],
      volumes: [{ type: "volume", source: "minio-data", target: "/data", readOnly: false }],
    }),
  ],
});

export function aDrift(kind: DriftKind, service: string, over: Partial<Drift> = {}): Drift {
  return { kind, service, container: kind === "service.missing" ? null : `p_${service}`, observed: {}, expected: {}, detail: {}, ...over };
}

/** The action the planner plans for a drift item (duplicates and orphans only with --prune, which is the default here). */
export function anActionFor(d: Drift, prune = true): Action[] {
  const at = { service: d.service, container: d.container, cause: d.kind };
  switch (d.kind) {
    case "service.missing":
      return [{ ...at, type: "create", container: null }];
    case "container.state.not_running":
      return [{ ...at, type: "start" }];
    case "container.state.exited_success":
      return [{ ...at, type: "run-once" }];
    case "container.duplicate":
    case "container.orphaned":
      return prune ? [{ ...at, type: "remove" }] : [];
    case "module.stateful_removed":
      return [];
    default:
      return [{ ...at, type: "recreate" }];
  }
}

/** A `wait` for a healthcheck still starting: an action without drift. */
export const aStartingWait = (service: string): Action => ({ type: "wait", service, container: `p_${service}`, cause: "health.starting" });

/** A deliberate re-run of an in-sync one-shot (apply --rerun): an action without drift. */
export const aRerun = (service: string): Action => ({ type: "run-once", service, container: `p_${service}`, cause: "rerun" });

/** A module plan with the actions the planner would plan for `drift` (override `actions` to say otherwise). */
export function aModulePlan(module: Module, drift: Drift[] = [], over: Partial<ModulePlan> = {}): ModulePlan {
  return {
    name: module.name,
    declared: true,
    stateful: module.stateful,
    expected_state: module.expectedState,
    in_sync: drift.length === 0,
    drift,
    actions: drift.flatMap((d) => anActionFor(d)),
    warnings: [],
    ...over,
  };
}

/** Every gate input given and right for the seed scenario. */
export function goodInputs(over: Partial<DispatchInputs> = {}): DispatchInputs {
  return { allowStateful: true, backupRef: SEED_REF, confirm: TOKEN, bootstrap: false, ...over };
}

/** Facts of a valid backup at `path` (inside ROOT, non-empty, recorded in the catalog). */
export function aBackup(path: string = SEED_REF, over: Partial<BackupFacts> = {}): BackupFacts {
  return {
    path,
    realPath: path,
    backupRoot: ROOT,
    isFile: true,
    isDirectory: false,
    size: 4096,
    sha256: SHA,
    catalogEntry: { size: 4096, sha256: SHA },
    catalogUnreadable: undefined,
    archive: undefined,
    ...over,
  };
}

/** What reading a complete archive of minio (layout of `platformctl backup`) finds. */
export const MINIO_ARCHIVE: ArchiveFacts = { complete: true, problem: undefined, entries: 7, volumes: ["minio-data"] };

/** Facts of a backup the catalog does not record (made by another tool), read to its end. */
export function anUncataloguedBackup(
  path: string = SEED_REF,
  archive: ArchiveFacts | undefined = MINIO_ARCHIVE,
  over: Partial<BackupFacts> = {},
): BackupFacts {
  return aBackup(path, { catalogEntry: undefined, archive, ...over });
}

export const NOTHING_BEFORE: BootstrapFacts = { containersExist: false, volumesExist: false, auditRecordsApply: false };
export const ALREADY_APPLIED: BootstrapFacts = { containersExist: true, volumesExist: true, auditRecordsApply: true };

/**
 * A complete gate input: the seed scenario's inputs and facts unless overridden. The plan holds the actions the
 * planner would plan: one per drift item, and with --rerun a re-run of each in-sync one-shot.
 */
export function aPolicyInput(module: Module, drift: Drift[] = [], over: Partial<PolicyInput> = {}): PolicyInput {
  const inputs = over.inputs ?? goodInputs();
  const reruns = inputs.rerun
    ? module.services
        .filter((s) => s.expectedState === "exited-success" && !drift.some((d) => d.service === s.name))
        .map((s) => aRerun(s.name))
    : [];
  const plan = aModulePlan(module, drift);
  return {
    module,
    catalog: [
      minio,
      minioInit,
      dbWithMigrate,
      web,
      ...(module === minio || module === minioInit || module === dbWithMigrate || module === web ? [] : [module]),
    ],
    plan: { ...plan, actions: [...plan.actions, ...reruns] },
    dependencies: [],
    inputs,
    backup: inputs.backupRef === undefined ? undefined : aBackup(inputs.backupRef),
    bootstrap: ALREADY_APPLIED,
    now: NOW,
    confirmToken: TOKEN,
    maxBackupAgeSeconds: DEFAULT_MAX_BACKUP_AGE_SECONDS,
    ...over,
  };
}
