// fast-check generators for the policy gate: modules, module plans, dispatch inputs, backup and bootstrap facts, biased toward boundaries.
import fc from "fast-check";
import type { Module } from "../../src/manifest/module.js";
import { EXPECTED_STATES } from "../../src/manifest/schema.js";
import type { DependencyReadiness, Readiness } from "../../src/plan/dependency-readiness.js";
import { DRIFT_KINDS, type Action, type Drift, type DriftKind } from "../../src/plan/plan.js";
import { formatBackupName } from "../../src/policy/parse-backup-name.js";
import {
  DEFAULT_CONFIRM_TOKEN,
  type ArchiveFacts,
  type BackupFacts,
  type BootstrapFacts,
  type DispatchInputs,
  type PolicyInput,
} from "../../src/policy/policy.js";
import type { Mount } from "../../src/manifest/module.js";
import { aModule, aService } from "../helpers/plan-data.js";
import { aDrift, aModulePlan, anActionFor, aRerun, aStartingWait } from "./policy-data.js";

const KINDS = Object.keys(DRIFT_KINDS) as DriftKind[];
const MODULE_NAMES = ["minio", "minio-init", "db", "x-y-z"];
const SERVICE_NAMES = ["minio", "minio-init", "web", "job"];
export const ROOT = "/srv/backups";
/** Named volumes modules of a generated catalog mount, so two modules often share one. */
export const VOLUME_POOL = ["vol-a", "vol-b"];

/** 0–2 named volumes from the pool, each read-only or not (no volumes most of the time). */
const mountsArb: fc.Arbitrary<Mount[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Mount[]>([]) },
  {
    weight: 1,
    arbitrary: fc
      .uniqueArray(fc.record({ source: fc.constantFrom(...VOLUME_POOL), readOnly: fc.boolean() }), {
        minLength: 1,
        maxLength: 2,
        selector: (m) => m.source,
      })
      .map((ms) => ms.map((m): Mount => ({ type: "volume", source: m.source, target: `/${m.source}`, readOnly: m.readOnly }))),
  },
);

/** A module named `name` (any when undefined): stateful or not, 1–3 services with mixed expected states and volumes, a random set of covering modules. */
function moduleNamedArb(names: readonly string[]): fc.Arbitrary<Module> {
  return fc
    .record({
      name: fc.constantFrom(...names),
      stateful: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      services: fc.uniqueArray(
        fc.record({ name: fc.constantFrom(...SERVICE_NAMES), expectedState: fc.constantFrom(...EXPECTED_STATES), volumes: mountsArb }),
        {
          minLength: 1,
          maxLength: 3,
          selector: (s) => s.name,
        },
      ),
      coverSelf: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      coverOthers: fc.subarray(MODULE_NAMES, { maxLength: 2 }),
    })
    .map(({ name, stateful, services, coverSelf, coverOthers }) =>
      aModule({
        name,
        stateful,
        expectedState: services[0]!.expectedState,
        backupRefModules: [...new Set([...(coverSelf ? [name] : []), ...coverOthers])],
        services: services
          .map((s) => aService({ name: s.name, expectedState: s.expectedState, volumes: s.volumes }))
          .sort((a, b) => (a.name < b.name ? -1 : 1)),
      }),
    );
}

export const moduleArb: fc.Arbitrary<Module> = moduleNamedArb(MODULE_NAMES);

/** The judged module and 0–2 other modules (other names), in a random catalog order. */
export function catalogArb(module: Module): fc.Arbitrary<Module[]> {
  const others = MODULE_NAMES.filter((n) => n !== module.name);
  return fc
    .uniqueArray(moduleNamedArb(others), { maxLength: 2, selector: (m) => m.name })
    .chain((ms) => fc.shuffledSubarray([module, ...ms], { minLength: ms.length + 1, maxLength: ms.length + 1 }));
}

/** Drift on the module's services (and an undeclared one): random multisets, or shapes the exceptions care about. */
export function driftArb(module: Module): fc.Arbitrary<Drift[]> {
  const names = module.services.map((s) => s.name);
  const oneShots = module.services.filter((s) => s.expectedState === "exited-success").map((s) => s.name);
  const service = fc.constantFrom(...names, "ghost");
  const anyItem = fc.record({ kind: fc.constantFrom(...KINDS), service }).map((d) => aDrift(d.kind, d.service));
  const only = (kind: DriftKind, on: string[]) =>
    on.length === 0
      ? fc.constant<Drift[]>([])
      : fc.array(
          fc.constantFrom(...on).map((s) => aDrift(kind, s)),
          { minLength: 1, maxLength: 4 },
        );
  return fc.oneof(
    { weight: 3, arbitrary: fc.array(anyItem, { maxLength: 6 }) },
    { weight: 3, arbitrary: fc.constant<Drift[]>([]) },
    { weight: 3, arbitrary: only("container.state.exited_success", oneShots) },
    { weight: 1, arbitrary: only("container.state.exited_success", names) },
    { weight: 3, arbitrary: only("service.missing", names) },
    {
      weight: 2,
      arbitrary: fc.array(
        fc
          .record({
            kind: fc.constantFrom<DriftKind>("image.changed", "config.changed", "service.missing", "module.stateful_removed"),
            service,
          })
          .map((d) => aDrift(d.kind, d.service)),
        { minLength: 1, maxLength: 4 },
      ),
    },
  );
}

/** A configured token: the default, or a distinctive random one. */
export const tokenArb = fc.oneof(
  fc.constant(DEFAULT_CONFIRM_TOKEN),
  fc.stringMatching(/^[A-Z][A-Z0-9_]{5,20}$/).map((s) => `TKN_${s}`),
);

/** Confirmations: right, missing, and near misses (one code point, whitespace, case, look-alikes), all distinctive. */
export function confirmArb(token: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 14, arbitrary: fc.constant(token) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant("") },
    { weight: 1, arbitrary: fc.constantFrom(`${token}\n`, ` ${token}`, `${token} `, `${token}\r\n`, `${token}\0`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        token.toLowerCase(),
        token.replace(/[A-Z]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        token.replace("A", "\u0410"),
        token.replace("B", "\u0412"),
        token.replace("E", "\u0415"),
        token.normalize("NFD"),
      ),
    },
    { weight: 1, arbitrary: fc.nat({ max: token.length - 1 }).map((i) => token.slice(0, i) + token.slice(i + 1)) },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }).map((s) => `Ω-confirm-${s}`) },
  );
}

/** A backup file name: valid for a covering module, valid for any module, or invalid in one of the ways that matter. */
function fileNameArb(module: Module, time: Date, token: string, confirm: string | undefined): fc.Arbitrary<string> {
  const owners = [...new Set([...module.backupRefModules, module.name, "minio", "minio-init", "postgres"])];
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...owners).map((m) => formatBackupName(m, time)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        `${module.name}-20261340T010847Z.tar.gz`,
        `${module.name}-20250229T010847Z.tar.gz`,
        `${module.name}-latest.tar.gz`,
        `${module.name.replace("i", "\u0456")}-20260517T010847Z.tar.gz`,
        formatBackupName(module.name, time).toUpperCase(),
        formatBackupName(module.name, time).replace(".tar.gz", ".tgz"),
        formatBackupName(module.name, time).replace(".tar.gz", "-0.tar.gz"),
        formatBackupName(module.name, time).replace(".tar.gz", "-01.tar.gz"),
        `${token}.tar.gz`,
        `${confirm ?? "none"}-backup.tar.gz`,
      ),
    },
  );
}

/** Each way the backup facts can be wrong, as a choice; 0 is always the valid choice. */
const FAULTS = {
  root: 4, // unset, trailing slash (still valid), relative
  dir: 7, // prefix collision, /tmp, unclean, inside root under a token-named dir (valid), not found, the root itself
  ref: 4, // symlink in root (valid), relative path, unclean path
  type: 2, // directory, neither file nor directory
  size: 1, // empty
  sha: 3, // upper-case hex (valid), different, unreadable
  catalog: 3, // no entry (valid when the archive verifies), size differs, catalog unreadable
  archive: 4, // not read, incomplete, no entries, without the covering module's volumes
  facts: 5, // ref undefined, "", whitespace, no facts, facts for another path
  time: 4, // future, stale, exactly the maximum age, one second in the future
  name: 2, // any module's name, an invalid name
} as const;
type Fault = keyof typeof FAULTS;

/**
 * Backup ref and the facts the shell would gather: all valid, exactly one fault, or every choice random — so both a
 * passing backup and each single failure are common, not just piles of failures.
 */
function backupArb(
  module: Module,
  nowMs: number,
  maxAge: number,
  token: string,
  confirm: string | undefined,
): fc.Arbitrary<{ ref: string | undefined; facts: BackupFacts | undefined }> {
  const faults = Object.keys(FAULTS) as Fault[];
  const random = fc.record(Object.fromEntries(faults.map((f) => [f, fc.nat({ max: FAULTS[f] })])) as Record<Fault, fc.Arbitrary<number>>);
  const valid = Object.fromEntries(faults.map((f) => [f, 0])) as Record<Fault, number>;
  const choices = fc.oneof(
    { weight: 5, arbitrary: fc.constant(valid) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...faults), random).map(([f, r]) => ({ ...valid, [f]: r[f] })) },
    { weight: 2, arbitrary: random },
  );
  return fc.tuple(choices, fc.integer({ min: 0, max: maxAge - 1 })).chain(([c, inRange]) => {
    const offset = [inRange, -3600, maxAge * 2, maxAge, -1][c.time] as number;
    const time = new Date(Math.floor((nowMs - offset * 1000) / 1000) * 1000);
    const covering = module.backupRefModules.length ? module.backupRefModules : [module.name];
    // A later backup in the same second carries -1 … -999 after the Z.
    const name =
      c.name === 0
        ? fc.tuple(fc.constantFrom(...covering), fc.constantFrom(0, 0, 1, 999)).map(([m, seq]) => formatBackupName(m, time, seq))
        : fileNameArb(module, time, token, confirm);
    return name.map((file) => {
      const root = [ROOT, undefined, `${ROOT}/`, "backups", ROOT][c.root];
      const dir = [ROOT, `${ROOT}-evil`, "/tmp", `${ROOT}/../etc`, `${ROOT}/${token}`, ROOT, ROOT, `${ROOT}/sub`][c.dir] as string;
      const realPath = c.dir === 5 ? undefined : c.dir === 6 ? ROOT : `${dir}/${file}`;
      const path = [realPath ?? `${ROOT}/${file}`, `${ROOT}/link-to-${file}`, `../${file}`, `${ROOT}/./${file}`, `${ROOT}/${file}`][
        c.ref
      ] as string;
      const [isFile, isDirectory] = [
        [true, false],
        [false, true],
        [false, false],
      ][c.type] as [boolean, boolean];
      const size = c.size === 0 ? 4096 : 0;
      const sha = ["b".repeat(64), "B".repeat(64), "c".repeat(64), undefined][c.sha];
      const catalogEntry = [{ size, sha256: "b".repeat(64) }, undefined, { size: size + 1, sha256: "b".repeat(64) }, undefined][c.catalog];
      const catalogUnreadable = c.catalog === 3 ? "/state/backup-catalog.jsonl:3: not a JSON line" : undefined;
      // Read only when the catalog has no entry (as the shell does); the valid choice holds every pool volume.
      const archives: (ArchiveFacts | undefined)[] = [
        { complete: true, problem: undefined, entries: 12, volumes: [...VOLUME_POOL] },
        undefined,
        { complete: false, problem: "the archive ends inside an entry (truncated)", entries: 3, volumes: [...VOLUME_POOL] },
        { complete: true, problem: undefined, entries: 0, volumes: [] },
        { complete: true, problem: undefined, entries: 4, volumes: [] },
      ];
      const archive = catalogEntry === undefined && catalogUnreadable === undefined ? archives[c.archive] : undefined;
      const facts: BackupFacts = {
        path,
        realPath,
        backupRoot: root,
        isFile,
        isDirectory,
        size,
        sha256: sha,
        catalogEntry,
        catalogUnreadable,
        archive,
      };
      const ref = [path, undefined, "", "  ", path, path][c.facts];
      const given = c.facts === 4 ? undefined : c.facts === 5 ? { ...facts, path: `${path}.other` } : facts;
      return { ref, facts: ref === undefined ? undefined : given };
    });
  });
}

const mostlyFalse = fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
const mostlyTrue = fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

export const bootstrapFactsArb: fc.Arbitrary<BootstrapFacts> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ containersExist: false, volumesExist: false, auditRecordsApply: false }) },
  { weight: 3, arbitrary: fc.record({ containersExist: mostlyFalse, volumesExist: mostlyFalse, auditRecordsApply: mostlyFalse }) },
);

/** A complete gate input. */
export const policyInputArb: fc.Arbitrary<PolicyInput> = fc
  .record({
    module: moduleArb,
    token: tokenArb,
    // Whole seconds half the time, so a backup exactly the maximum age old is generated (names have seconds precision).
    now: fc
      .tuple(
        fc.integer({ min: Date.UTC(2020, 0, 1) / 1000, max: Date.UTC(2030, 0, 1) / 1000 }),
        fc.oneof(fc.constant(0), fc.nat({ max: 999 })),
      )
      .map(([s, ms]) => s * 1000 + ms),
    maxAge: fc.constantFrom(86_400, 3_600, 60),
    planName: fc.oneof({ weight: 30, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant("other") }),
    planStatefulFlip: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .chain(({ module, token, now, maxAge, planName, planStatefulFlip }) =>
    fc
      .record({
        drift: driftArb(module),
        confirm: confirmArb(token),
        allowStateful: mostlyTrue,
        bootstrapFlag: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        rerun: fc.constantFrom(undefined, false, true),
        history: bootstrapFactsArb,
        nowAsDate: fc.boolean(),
        prune: fc.boolean(),
        starting: fc.boolean(),
        dependencies: dependenciesArb,
        maintenance: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        // The saved plan: none (a fresh plan), or one observed 10 minutes before now.
        saved: fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.constant(600) }),
        // When the catalog says the backup was made, relative to the saved plan: after, the same instant, before, unknown.
        made: fc.constantFrom(1, 1, 1, 1, 1, 0, -1, undefined),
      })
      .chain((r) =>
        fc.tuple(backupArb(module, now, maxAge, token, r.confirm), catalogArb(module)).map(([{ ref, facts }, catalog]): PolicyInput => {
          const inputs: DispatchInputs = { allowStateful: r.allowStateful, backupRef: ref, confirm: r.confirm, bootstrap: r.bootstrapFlag };
          if (r.rerun !== undefined) inputs.rerun = r.rerun;
          if (r.maintenance) inputs.maintenance = true;
          const planAt = now - (r.saved ?? 0) * 1000;
          const backup =
            facts?.catalogEntry === undefined
              ? facts
              : {
                  ...facts,
                  catalogEntry: {
                    ...facts.catalogEntry,
                    createdAt: r.made === undefined ? undefined : new Date(planAt + r.made * 1000).toISOString(),
                  },
                };
          const plan = aModulePlan(module, r.drift, {
            name: planName ?? module.name,
            stateful: planStatefulFlip ? !module.stateful : module.stateful,
            actions: plannedActions(module, r.drift, { prune: r.prune, rerun: r.rerun === true, starting: r.starting }),
          });
          return {
            module,
            catalog,
            plan,
            inputs,
            dependencies: r.dependencies,
            backup,
            savedPlan: r.saved === undefined ? undefined : { generatedAt: new Date(planAt).toISOString() },
            bootstrap: r.history,
            now: r.nowAsDate ? new Date(now) : new Date(now).toISOString(),
            confirmToken: token,
            maxBackupAgeSeconds: maxAge,
          };
        }),
      ),
  );

/**
 * The actions the planner would plan: one per drift item (duplicates and orphans only with prune), a re-run of each
 * one-shot without drift when re-running, and now and then a `wait` for a healthcheck still starting — so plans
 * without actions (and without drift but with actions) are both common.
 */
function plannedActions(module: Module, drift: readonly Drift[], opts: { prune: boolean; rerun: boolean; starting: boolean }): Action[] {
  const clean = module.services.filter((s) => !drift.some((d) => d.service === s.name));
  return [
    ...drift.flatMap((d) => anActionFor(d, opts.prune)),
    ...(opts.rerun ? clean.filter((s) => s.expectedState === "exited-success").map((s) => aRerun(s.name)) : []),
    ...(opts.starting ? clean.filter((s) => s.expectedState === "healthy").map((s) => aStartingWait(s.name)) : []),
  ];
}

/** Readiness of dependencies: mostly none declared, else a mix of verdicts. */
const dependenciesArb: fc.Arbitrary<DependencyReadiness[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<DependencyReadiness[]>([]) },
  {
    weight: 1,
    arbitrary: fc.uniqueArray(
      fc
        .record({ module: fc.constantFrom("dep-a", "dep-b"), readiness: fc.constantFrom<Readiness>("in-this-run", "ready", "not-ready") })
        .map((d) => ({
          ...d,
          problems: d.readiness === "not-ready" ? [`${d.module}: container.state.not_running (exited 1)`] : [],
        })),
      { minLength: 1, maxLength: 2, selector: (d) => d.module },
    ),
  },
);

/** One more drift item of any kind on any service of the module (or an undeclared one). */
export function extraDriftArb(module: Module): fc.Arbitrary<Drift> {
  return fc
    .record({ kind: fc.constantFrom(...KINDS), service: fc.constantFrom(...module.services.map((s) => s.name), "ghost") })
    .map((d) => aDrift(d.kind, d.service));
}
