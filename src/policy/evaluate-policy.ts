// The policy gate: judges one module's finished plan against the dispatch inputs and gathered facts, and returns a Decision as data.
import { InternalError } from "../errors.js";
import type { Drift, DriftKind } from "../plan/plan.js";
import { redact } from "../secrets/masker.js";
import { checkBackup, checkVerification, showPath } from "./check-backup.js";
import { foreignStatefulWrites, type ForeignWrite } from "./volume-owners.js";
import type { AllowingRule, Decision, DriftRef, PolicyInput, PolicyRule, Reason } from "./policy.js";

const EXITED_SUCCESS = "container.state.exited_success";
const SERVICE_MISSING = "service.missing";

/** The drift the maintenance lane allows on a stateful module, besides the one-shot exception. */
export const MAINTENANCE_DRIFT: ReadonlySet<string> = new Set([
  "image.changed",
  "config.changed",
  SERVICE_MISSING,
  "module.stateful_removed",
] satisfies DriftKind[]);

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byKindThenService = (a: DriftRef, b: DriftRef): number => compare(a.kind, b.kind) || compare(a.service, b.service);
const show = (d: DriftRef): string => `${d.kind} on ${d.service}`;

/** The plan's drift as unique (kind, service) pairs, sorted: the gate's view is independent of order and repetition. */
function uniqueDrift(drift: readonly Drift[]): DriftRef[] {
  const seen = new Map<string, DriftRef>();
  for (const d of drift) seen.set(JSON.stringify([d.kind, d.service]), { kind: d.kind, service: d.service });
  return [...seen.values()].sort(byKindThenService);
}

function toMillis(now: Date | string): number {
  const ms = typeof now === "string" ? Date.parse(now) : now.getTime();
  if (!Number.isFinite(ms))
    throw new InternalError("evaluatePolicy was given an invalid `now`.", { detail: "Pass a Date or an ISO 8601 string." });
  return ms;
}

/**
 * Describes the given confirmation without showing it (or anything about the token): only properties of the value
 * itself that explain a typical mistake.
 */
export function confirmHint(given: string): string {
  if (given !== given.trim() || /[\u0000-\u001f\u007f]/.test(given))
    return "the value given has leading or trailing whitespace or a control character, such as a trailing newline";
  if (/[^\u0020-\u007e]/.test(given)) return "the value given contains non-ASCII characters, such as a look-alike letter";
  return "check spelling and letter case";
}

/** Masks the confirmation and the token in a message, whatever their length, with the one masker. */
export const withhold = (text: string, secrets: readonly string[]): string =>
  redact(text, secrets, { placeholder: "[withheld]", minLength: 1 });

/**
 * The modules whose backup may be given: one backup must cover every stateful data the module writes, so it is the
 * intersection of the module's own `backup_ref_modules` (when it is stateful itself) and each foreign owner's.
 */
function coveringModules(module: PolicyInput["module"], ownStateful: boolean, foreign: readonly ForeignWrite[]): string[] {
  const lists = [...(ownStateful ? [module.backupRefModules] : []), ...foreign.map((f) => f.owner.backupRefModules)];
  const [first, ...rest] = lists;
  return (first ?? module.backupRefModules).filter((n) => rest.every((l) => l.includes(n)));
}

/** Whether the backup was made after the plan observed the live state; undefined when either time is unknown. */
function backupMadeAfterPlan(createdAt: string | undefined, planAt: string | undefined): boolean | undefined {
  const made = createdAt === undefined ? Number.NaN : Date.parse(createdAt);
  const planned = planAt === undefined ? Number.NaN : Date.parse(planAt);
  if (!Number.isFinite(made) || !Number.isFinite(planned)) return undefined;
  return made > planned;
}

/**
 * Judges `input.plan` for `input.module`. Pure: no file system, clock, engine or environment; every fact is an input.
 *
 * - A plan with actions whose module depends on a module outside the run that is not ready is blocked
 *   (`dependency.not_ready`), stateless or not.
 * - A stateless module is otherwise eligible whatever its plan (rule `stateless`).
 * - A module that mounts read-write a named volume owned by another, stateful module (volume-owners.ts) is judged as
 *   stateful too, by the owner's gate: its backup must cover the owner (`volume.foreign_stateful` explains a block).
 * - A stateful module whose plan has no actions is eligible without any input (`nothing-to-apply`): apply changes
 *   nothing, so there is nothing to gate, and apply and scope must agree on that.
 * - A stateful module (the manifest or the plan says so) needs allow_stateful, the exact confirmation token and a
 *   verified backup ref, and its plan must be a no-op (`stateful-noop`) or hold only container.state.exited_success
 *   on one-shot services, or be a re-run of an in-sync one-shot (`stateful-oneshot-exception`).
 * - With --maintenance (the maintenance lane) the plan must be a saved one (`maintenance.plan_required`), the backup
 *   must be recorded in the catalog as made after that plan's observation (`maintenance.backup_before_plan`), and
 *   image.changed, config.changed, service.missing and module.stateful_removed are allowed too
 *   (`stateful-maintenance`). Without it nothing changes: only the one-shot exception.
 * - Instead of the backup, a first creation (only service.missing drift, no container, no volume, no earlier apply in
 *   the audit log, no re-run) may be dispatched with --bootstrap (`bootstrap`).
 *
 * Every problem is its own Reason; eligible ⇔ no reasons. Never weaken a check here without a matching change to the
 * reference model in test/policy and to docs/policy.md. Throws InternalError only for a caller bug (`now` invalid,
 * a negative or non-finite maximum age).
 */
export function evaluatePolicy(input: PolicyInput): Decision {
  const { module, plan, inputs } = input;
  const nowMs = toMillis(input.now);
  if (!Number.isFinite(input.maxBackupAgeSeconds) || input.maxBackupAgeSeconds < 0) {
    throw new InternalError("evaluatePolicy was given an invalid maximum backup age.", {
      detail: "maxBackupAgeSeconds must be a finite number ≥ 0.",
    });
  }
  // Writing another stateful module's volume puts the module under that owner's gate.
  const foreign = foreignStatefulWrites(module, input.catalog);
  // Any source saying stateful is enough: a disagreement must never relax the gate.
  const stateful = module.stateful || plan.stateful || foreign.length > 0;
  const covering = coveringModules(module, module.stateful || plan.stateful, foreign);
  const drift = uniqueDrift(plan.drift);
  const reasons: Reason[] = [];

  if (plan.name !== module.name) {
    reasons.push({
      code: "plan.module_mismatch",
      message: `The plan entry is for module "${plan.name}", not for module "${module.name}".`,
    });
  }

  // Nothing to do changes nothing: neither dependencies nor gate inputs matter then.
  const hasActions = plan.actions.length > 0;
  if (hasActions) {
    for (const dep of input.dependencies) {
      if (dep.readiness !== "not-ready") continue;
      const why = dep.problems.length ? dep.problems.join("; ") : "not ready";
      reasons.push({
        code: "dependency.not_ready",
        message: `Module "${module.name}" depends on "${dep.module}", which is not in this run and not ready: ${why}.`,
      });
    }
  }

  let decided: PolicyRule;
  let allowing: AllowingRule;
  if (!stateful) {
    decided = "stateless";
    allowing = "stateless";
  } else if (!hasActions) {
    decided = "nothing-to-apply";
    allowing = "nothing-to-apply";
  } else {
    const m =
      module.stateful || plan.stateful
        ? `Module "${module.name}" is stateful`
        : `Module "${module.name}" writes a stateful module's volume`;
    if (!inputs.allowStateful) {
      reasons.push({ code: "input.allow_stateful_missing", message: `${m}: --allow-stateful is required.`, input: "allow_stateful" });
    }
    if (inputs.confirm === undefined || inputs.confirm === "") {
      reasons.push({ code: "input.confirm_missing", message: `${m}: the confirmation token is required.`, input: "confirm" });
    } else if (inputs.confirm !== input.confirmToken) {
      reasons.push({
        code: "input.confirm_mismatch",
        message: `The confirmation given does not match the configured token, compared exactly (${confirmHint(inputs.confirm)}).`,
        input: "confirm",
      });
    }

    const oneShots = new Set(module.services.filter((s) => s.expectedState === "exited-success").map((s) => s.name));
    const rerun = inputs.rerun === true;
    const maintenance = inputs.maintenance === true;
    if (maintenance && input.savedPlan === undefined) {
      reasons.push({
        code: "maintenance.plan_required",
        message: `${m}: --maintenance applies only a saved plan (--plan FILE, made by \`platformctl plan --out FILE\`), never a fresh one.`,
        input: "maintenance",
      });
    }

    // Bootstrap: trusted only when the gathered facts, not just the plan, say nothing was ever created.
    const notFirst: string[] = [];
    const nonMissing = drift.filter((d) => d.kind !== SERVICE_MISSING);
    if (inputs.bootstrap) {
      if (input.bootstrap.containersExist) notFirst.push("a container of the module exists");
      if (input.bootstrap.volumesExist) notFirst.push("a volume of the module exists");
      if (input.bootstrap.auditRecordsApply) notFirst.push("the audit log records an earlier apply");
      if (nonMissing.length > 0) notFirst.push(`the plan has drift other than service.missing (${nonMissing.map(show).join(", ")})`);
      if (rerun) notFirst.push("a re-run was requested");
    }

    if (inputs.bootstrap && notFirst.length === 0) {
      decided = "bootstrap";
      allowing = "bootstrap";
    } else {
      if (inputs.bootstrap) {
        reasons.push({
          code: "bootstrap.not_first_creation",
          message: `--bootstrap is only for the first creation of module "${module.name}", but ${notFirst.join("; ")}.`,
          input: "bootstrap",
          ...(nonMissing.length > 0 ? { drift: nonMissing } : {}),
        });
      }

      const ref = inputs.backupRef;
      if (ref === undefined || ref.trim() === "") {
        const shown = covering.join(", ") || "(no module covers every data it writes)";
        reasons.push({
          code: "input.backup_ref_missing",
          message: `${m}: a backup ref is required (a backup of: ${shown}).`,
          input: "backup_ref",
        });
      } else if (input.backup === undefined || input.backup.path !== ref) {
        reasons.push({
          code: "backup.unverified",
          message: "No facts were gathered for the backup ref given, so it cannot be verified.",
          input: "backup_ref",
        });
      } else {
        reasons.push(...checkBackup(input.backup, module, covering, input.catalog, nowMs, input.maxBackupAgeSeconds));
        reasons.push(...checkVerification(input.backup, module, input.catalog));
        const made = backupMadeAfterPlan(input.backup.catalogEntry?.createdAt, input.savedPlan?.generatedAt);
        if (maintenance && input.savedPlan !== undefined && made !== true) {
          reasons.push({
            code: "maintenance.backup_before_plan",
            message:
              made === false
                ? `With --maintenance the backup must be made after the plan: the catalog records it at ${input.backup.catalogEntry?.createdAt}, the plan observed the live state at ${input.savedPlan.generatedAt}.`
                : `With --maintenance the backup must be made after the plan, but the backup catalog does not say when ${showPath(ref)} was made (take it with \`platformctl backup\`).`,
            input: "backup_ref",
          });
        }
      }

      if (rerun && oneShots.size === 0) {
        reasons.push({
          code: "input.rerun_not_one_shot",
          message: `${m} and declares no one-shot service, so there is nothing to re-run.`,
          input: "rerun",
        });
      }

      // The narrow exception: exited_success on a service the manifest declares as a one-shot; in the maintenance lane
      // also the drift an upgrade is made of. Nothing else.
      const offending = drift.filter(
        (d) => !(d.kind === EXITED_SUCCESS && oneShots.has(d.service)) && !(maintenance && MAINTENANCE_DRIFT.has(d.kind)),
      );
      if (offending.length > 0) {
        const items = offending.map((d) => (d.kind === EXITED_SUCCESS ? `${show(d)} (not a one-shot service)` : show(d)));
        const lane = maintenance
          ? "Only container.state.exited_success on a one-shot service, image.changed, config.changed, service.missing and module.stateful_removed may be applied in the maintenance lane."
          : offending.some((d) => MAINTENANCE_DRIFT.has(d.kind))
            ? "Only container.state.exited_success on a one-shot service may be applied; image, configuration and missing-container changes need the maintenance lane (--plan FILE --maintenance, runbooks/upgrade-stateful-module.md)."
            : "Only container.state.exited_success on a one-shot service may be applied.";
        reasons.push({
          code: "drift.not_allowed",
          message: `${m}; its plan has drift the gate does not allow: ${items.join(", ")}. ${lane}`,
          drift: offending,
        });
      }

      decided = maintenance ? "stateful-maintenance" : drift.length > 0 || rerun ? "stateful-oneshot-exception" : "stateful-noop";
      allowing = maintenance ? "stateful-maintenance" : "stateful-oneshot-exception";
    }
  }

  // A stateful module that names the owner in its own backup_ref_modules (a declared sidecar such as minio-init) is
  // already judged by that gate; the explanation is for writers the owner's gate would not otherwise reach.
  const unexplained = foreign.filter((f) => !((module.stateful || plan.stateful) && module.backupRefModules.includes(f.owner.name)));
  if (reasons.length > 0 && unexplained.length > 0) {
    const what = unexplained
      .map((f) => `volume ${f.volume} of stateful module "${f.owner.name}" (read-write in ${f.services.join(", ")})`)
      .join("; ");
    reasons.push({
      code: "volume.foreign_stateful",
      message: `Module "${module.name}" mounts ${what}, so it is judged by the owner's gate: allow_stateful, the confirmation, a backup of ${covering.join(" or ") || "a module covering all of them (none does)"}.`,
    });
  }

  const secrets = [input.confirmToken, inputs.confirm ?? ""].filter((x) => x.length > 0);
  const finished = reasons
    .map((r) => ({ ...r, message: withhold(r.message, secrets) }))
    .sort((a, b) => compare(a.code, b.code) || compare(a.message, b.message));
  const eligible = finished.length === 0;
  return {
    module: module.name,
    stateful,
    eligible,
    reasons: finished,
    drift_kinds: [...new Set(drift.map((d) => d.kind))].sort(compare),
    allowed_drift: eligible ? drift.map((d) => ({ kind: d.kind, service: d.service, rule: allowing })) : [],
    rule: eligible ? decided : "blocked",
  };
}
