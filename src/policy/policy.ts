// The policy gate's vocabulary: its inputs (facts gathered by the shell), the Decision it returns, the closed rules and reason codes.
import type { Module } from "../manifest/module.js";
import type { DependencyReadiness } from "../plan/dependency-readiness.js";
import type { DriftKind, ModulePlan } from "../plan/plan.js";

/** The confirmation an operator types for a stateful apply unless configuration sets another. */
export const DEFAULT_CONFIRM_TOKEN = "BACKUP_DONE_F3";

/** A backup older than this (by the timestamp in its file name) is stale unless configuration sets another age. */
export const DEFAULT_MAX_BACKUP_AGE_SECONDS = 86_400;

/**
 * The top-level rules, each with its meaning. `Decision.rule` names the one that decided; `blocked` when any reason
 * was found. Adding a rule is a contract change: docs/policy.md and the CLI views match on these strings.
 */
export const POLICY_RULES = {
  stateless: "A stateless module: every plan whose dependencies are ready is eligible, and no gate input is needed.",
  "nothing-to-apply":
    "A stateful module whose plan has no actions: apply changes nothing, so no gate input is needed and none is judged (apply reports a no-op).",
  "stateful-noop": "A stateful module whose plan has no drift, with every gate input given and a verified backup.",
  "stateful-oneshot-exception":
    "A stateful module whose only drift is container.state.exited_success on one-shot services (or an in-sync one-shot re-run), with every gate input given and a verified backup.",
  "stateful-maintenance":
    "A stateful module dispatched with --maintenance and a saved plan still fresh: besides what the one-shot exception allows, image.changed, config.changed, service.missing and module.stateful_removed may be applied, with every gate input given and a verified backup created after the plan's observation. Apply keeps each replaced container until its successor is healthy and rolls back automatically otherwise.",
  bootstrap:
    "The first creation of a stateful module: only service.missing drift, nothing created before, allow_stateful and the exact confirmation, no backup needed.",
  restore:
    "A restore of a stateful module from a backup of its own: allow_stateful, the exact confirmation, a verified backup holding what the restore needs, and no drift but container state or a missing container.",
  "restore-verify":
    "A restore of a backup into scratch volumes under a throwaway project (restore --verify): touches nothing live, so only the backup is judged.",
  blocked: "At least one reason blocks the plan.",
} as const;

export type PolicyRule = keyof typeof POLICY_RULES;

/** The rules that can allow a drift item (`blocked` never allows anything). */
export type AllowingRule = Exclude<PolicyRule, "blocked" | "stateful-noop">;

/**
 * The closed set of reason codes, each with its meaning and the fix an operator can apply. Codes are stable: scripts
 * and docs match on them; the message of a Reason is for humans and may change. A test checks that every code is
 * documented in docs/policy.md.
 */
export const REASON_CODES = {
  "plan.module_mismatch": {
    meaning: "The plan entry handed to the gate belongs to a different module than the manifest being judged.",
    fix: "A bug in the caller: pass the module's own entry of the plan (Plan.modules[].name equal to the module name).",
  },
  "input.allow_stateful_missing": {
    meaning: "The module is stateful and allow_stateful was not set.",
    fix: "Take a backup, then dispatch again with --allow-stateful (workflow input allow_stateful=true).",
  },
  "input.backup_ref_missing": {
    meaning: "The module is stateful and no backup ref was given (and this is not a valid bootstrap).",
    fix: "Run `platformctl backup <module>` and pass the file it wrote with --backup-ref PATH.",
  },
  "input.confirm_missing": {
    meaning: "The module is stateful and no confirmation (or an empty one) was given.",
    fix: "Pass --confirm with the configured confirmation token (default BACKUP_DONE_F3), typed exactly.",
  },
  "input.confirm_mismatch": {
    meaning:
      "The confirmation given is not byte-for-byte equal to the configured token (no trimming, case folding or Unicode normalisation).",
    fix: "Type the token exactly: no trailing newline or spaces, same letter case, ASCII letters only (no look-alikes).",
  },
  "input.rerun_not_one_shot": {
    meaning: "A re-run was requested for a stateful module that declares no one-shot (expected_state exited-success) service.",
    fix: "Drop --rerun; only one-shot services can be re-run.",
  },
  "backup.unverified": {
    meaning:
      "The backup ref cannot be verified: it is not in the backup catalog and reading it found no complete, non-empty gzip tar holding the covering module's volumes (or no facts were gathered for that exact path).",
    fix: "Pass a backup `platformctl backup <module>` wrote, or check another tool's archive in with `platformctl backup import FILE` (see runbooks/backup-import.md).",
  },
  "backup.not_found": {
    meaning: "The backup ref does not exist (or a symlink in it points nowhere).",
    fix: "Check the path; list backups with `ls $PLATFORMCTL_BACKUP_DIR` or take one with `platformctl backup <module>`.",
  },
  "backup.not_regular_file": {
    meaning: "The backup ref resolves to a directory or another non-regular file (device, FIFO, socket).",
    fix: "Pass the backup archive file itself, not its directory.",
  },
  "backup.empty": {
    meaning: "The backup ref is a 0-byte file, which cannot be a backup.",
    fix: "Take a new backup with `platformctl backup <module>` and check that it succeeded.",
  },
  "backup.root_missing": {
    meaning:
      "The backup root (PLATFORMCTL_BACKUP_DIR) is unset, missing, or not an absolute real path, so no backup can be checked against it.",
    fix: "Set PLATFORMCTL_BACKUP_DIR to the existing backup directory.",
  },
  "backup.outside_root": {
    meaning:
      "The backup ref, with every symlink followed, is not inside the backup root (traversal, prefix collision like /backups-evil, or a symlink escape).",
    fix: "Pass a file that really lies inside PLATFORMCTL_BACKUP_DIR; do not link to files elsewhere.",
  },
  "backup.name_invalid": {
    meaning: "The backup file name is not <module>-<YYYYMMDDTHHMMSSZ>.tar.gz with a real UTC date and time.",
    fix: "Use the file written by `platformctl backup <module>`; do not rename backups.",
  },
  "backup.wrong_module": {
    meaning: "The backup file name names a module whose backup does not cover this module (see spec.backup_ref_modules).",
    fix: "Pass a backup of one of the modules in the module's backup_ref_modules.",
  },
  "backup.future": {
    meaning: "The timestamp in the backup file name is later than now.",
    fix: "Check the host clock and the file name; take a new backup.",
  },
  "backup.stale": {
    meaning: "The timestamp in the backup file name is older than the maximum backup age.",
    fix: "Take a fresh backup with `platformctl backup <module>` just before applying.",
  },
  "backup.catalog_unreadable": {
    meaning:
      "The backup catalog (STATE_DIR/backup-catalog.jsonl) exists but could not be read or holds a corrupt line, so no backup can be checked against it.",
    fix: "Fix or restore STATE_DIR/backup-catalog.jsonl (permissions, disk, a torn line), then dispatch again.",
  },
  "backup.checksum_mismatch": {
    meaning: "The backup catalog records a different size or sha256 for this file than it has now (or it could not be read to check).",
    fix: "The file changed or is truncated since `platformctl backup` recorded it: take a new backup.",
  },
  "backup.not_verified": {
    meaning:
      "The module (or the module whose backup it is) declares `backup.verify: required`, and the backup ref was never verified as it is now (no passed `restore --verify` of this content, or the last one failed).",
    fix: "Run `platformctl restore <module> --from REF --verify` and use the backup once it passes (runbooks/restore-stateful-module.md).",
  },
  "restore.archive_incomplete": {
    meaning:
      "The archive does not hold what restoring the module needs: a named volume of the module is missing, or it holds a dump (method exec) while the module declares no `backup.exec.restore_command`.",
    fix: "Restore from a backup of the module as it is now (`platformctl backup list --module <module>`), or declare the restore_command the dump needs.",
  },
  "restore.spec_drift": {
    meaning:
      "A live restore recreates the module's containers from its manifest, and they differ from it in more than their state (image, configuration, a duplicate or orphaned container): the restore would apply that change too.",
    fix: "Bring the module in sync first (`platformctl plan --module <module>`; for a stateful module the maintenance lane, runbooks/upgrade-stateful-module.md), then restore.",
  },
  "dependency.not_ready": {
    meaning:
      "The plan has actions, and a module it depends on is outside this run and not observed ready (drift, or a healthy service not healthy yet).",
    fix: "Apply the dependency first (`platformctl apply --module <dependency>`, check `platformctl health --module <dependency>`), or apply both in one run.",
  },
  "drift.not_allowed": {
    meaning:
      "The plan of a stateful module has drift its lane does not allow: anything but container.state.exited_success on a one-shot service (outside a valid bootstrap); with --maintenance, also image.changed, config.changed, service.missing and module.stateful_removed are allowed.",
    fix: "Image, configuration, missing-container and stateful_removed changes go through the maintenance lane (runbooks/upgrade-stateful-module.md: plan --out, backup, apply --plan … --maintenance); anything else by the stateful runbook, by hand, with a backup.",
  },
  "maintenance.plan_required": {
    meaning:
      "--maintenance was given without a saved plan: the maintenance lane applies only the plan an operator reviewed (no fresh-plan maintenance).",
    fix: "Run `platformctl plan --module <m> --out plan.json`, review it, take a backup, then `platformctl apply --module <m> --plan plan.json --maintenance …`.",
  },
  "maintenance.backup_before_plan": {
    meaning:
      "With --maintenance, the backup must be recorded in the backup catalog with a creation time later than the saved plan's observation (generated_at); this one is older, or the catalog does not say when it was made.",
    fix: "Take the backup after making the plan: `platformctl backup <m>`, then apply with the file it wrote as --backup-ref.",
  },
  "volume.foreign_stateful": {
    meaning:
      "The module mounts read-write a named volume owned by a stateful module (the first stateful module in the catalog that mounts it), so it is judged by that owner's gate: allow_stateful, the exact confirmation and a backup covering the owner, and only one-shot re-runs.",
    fix: "Mount the volume read-only (`:ro`) if the module only reads it; otherwise dispatch with --allow-stateful, the confirmation and a backup of the owning module (see docs/policy.md, Volume ownership).",
  },
  "bootstrap.not_first_creation": {
    meaning:
      "--bootstrap was given but this is not the first creation: a container or volume exists, the audit log records an earlier apply, the plan has drift other than service.missing, or a re-run was requested.",
    fix: "Drop --bootstrap and dispatch with a backup ref (the normal stateful gate).",
  },
} as const satisfies Record<string, { meaning: string; fix: string }>;

export type ReasonCode = keyof typeof REASON_CODES;

/** What the operator passed to the dispatch (argv or workflow inputs; never the environment). */
export interface DispatchInputs {
  allowStateful: boolean;
  /** The backup path as given; the shell gathers BackupFacts about it. */
  backupRef: string | undefined;
  /** The confirmation as typed; compared byte for byte with the configured token and never shown. */
  confirm: string | undefined;
  /** The operator claims this is the first creation of the module; checked against BootstrapFacts. */
  bootstrap: boolean;
  /** Re-run the one-shot services of a module that is in sync. */
  rerun?: boolean;
  /**
   * The maintenance lane: a stateful module's image, configuration, missing container or removed stateful flag may
   * be applied, from a saved plan only, with a backup made after that plan (see POLICY_RULES["stateful-maintenance"]).
   */
  maintenance?: boolean;
}

/** The saved plan (apply --plan, scope --plan) a decision is for; the gate needs only when it observed the live state. */
export interface SavedPlanFacts {
  /** The plan's `generated_at`: taken right after observing, so a backup created later was made after the observation. */
  generatedAt: string;
}

/**
 * What reading a backup archive to its end found (src/backup/verify-archive.ts): the structural evidence for a backup
 * the catalog does not record. `complete` means a gzip stream that decompresses to its end holding a tar archive whose
 * every header checksum is right, ending with the end-of-archive marker.
 */
export interface ArchiveFacts {
  complete: boolean;
  /** What is wrong when not complete (gzip error, bad header, truncated), for the message. */
  problem: string | undefined;
  /** Tar entries (files, directories, links) in the archive. */
  entries: number;
  /** Sorted names of the volumes the archive holds (`volumes/<name>/…`, the layout `platformctl backup` writes). */
  volumes: string[];
}

/** Facts about the backup ref, gathered by the shell from the file system beforehand. */
export interface BackupFacts {
  /** The path as given (must equal DispatchInputs.backupRef). */
  path: string;
  /** realpath of `path` (symlinks followed); undefined when it does not exist. */
  realPath: string | undefined;
  /** realpath of PLATFORMCTL_BACKUP_DIR; undefined when unset or missing. */
  backupRoot: string | undefined;
  isFile: boolean;
  isDirectory: boolean;
  size: number;
  /** Lower-case hex sha256 of the content, when the file was readable. */
  sha256: string | undefined;
  /** What `platformctl backup` (or `backup import`) recorded for this file in STATE_DIR, if anything. */
  catalogEntry: { size: number; sha256: string; createdAt?: string | undefined } | undefined;
  /** Set when the backup catalog exists but could not be read (or holds a corrupt line): what went wrong. */
  catalogUnreadable: string | undefined;
  /** The archive read to its end; gathered only when the catalog has no entry for the file, else undefined. */
  archive: ArchiveFacts | undefined;
  /**
   * The latest `restore --verify` of this file's current content (sha256) recorded in the catalog; undefined (or
   * absent) when it was never verified as it is now.
   */
  verification?: { verified_at: string; outcome: "passed" | "failed" } | undefined;
}

/** Facts about the module's past, gathered by the shell: the bootstrap rule trusts these, never the plan alone. */
export interface BootstrapFacts {
  /** Any container labelled with this module exists (running or not). */
  containersExist: boolean;
  /** Any volume labelled with this module, or named by its services, exists. */
  volumesExist: boolean;
  /** The audit log records an earlier apply of this module. */
  auditRecordsApply: boolean;
}

export interface PolicyInput {
  module: Module;
  /**
   * Every module of the catalog (the judged one included): the volumes a covering module's backup must hold, and who
   * owns a named volume. Never a subset chosen by the caller: a missing module must not relax a check.
   */
  catalog: readonly Module[];
  /** The module's entry of the Plan. */
  plan: ModulePlan;
  inputs: DispatchInputs;
  /** Undefined when no backup ref was given (or the shell gathered nothing). */
  backup: BackupFacts | undefined;
  bootstrap: BootstrapFacts;
  /** The saved plan being applied or judged; undefined for a fresh plan (the maintenance lane then refuses). */
  savedPlan?: SavedPlanFacts | undefined;
  /**
   * Readiness of each module the module depends on, judged by the planner from the same observation
   * (`dependencyReadiness`): `in-this-run` when applied earlier in the same run, else observed `ready` or `not-ready`.
   */
  dependencies: readonly DependencyReadiness[];
  /** The time the decision is made for (a Date or an ISO 8601 string); the gate reads no clock. */
  now: Date | string;
  /** The configured confirmation token (default DEFAULT_CONFIRM_TOKEN). Never shown in any message. */
  confirmToken: string;
  /** Maximum backup age in seconds (default DEFAULT_MAX_BACKUP_AGE_SECONDS). */
  maxBackupAgeSeconds: number;
}

/** A drift item as the gate names it: kind and service (containers and facts are the plan's business). */
export interface DriftRef {
  kind: string;
  service: string;
}

/**
 * One reason the plan is blocked. `message` is for humans: it may show paths, module and service names, but never the
 * confirmation given, the configured token or any environment value.
 */
export interface Reason {
  code: ReasonCode;
  message: string;
  /** The drift items the reason is about, unique and sorted by kind, then service. */
  drift?: DriftRef[];
  /** The dispatch input the reason is about: allow_stateful, backup_ref, confirm, bootstrap, rerun or maintenance. */
  input?: string;
}

/** A drift item the gate allowed and the rule that allowed it. */
export interface AllowedDrift {
  kind: DriftKind | string;
  service: string;
  rule: AllowingRule;
}

/**
 * The gate's answer for one module. Invariants: `eligible` ⇔ `reasons` is empty ⇔ `rule` ≠ "blocked"; when eligible,
 * `allowed_drift` holds every (kind, service) of the plan's drift exactly once, otherwise it is empty. Every list is
 * sorted, so the same input gives the same JSON whatever the order or repetition of drift items.
 */
export interface Decision {
  module: string;
  stateful: boolean;
  eligible: boolean;
  /** Sorted by code, then message. */
  reasons: Reason[];
  /** Sorted unique drift kinds of the plan. */
  drift_kinds: string[];
  /** Sorted by kind, then service. */
  allowed_drift: AllowedDrift[];
  rule: PolicyRule;
}
