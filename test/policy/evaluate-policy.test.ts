// Table tests of the policy gate: one per rule and per reason code, the seed scenario of PR #379, and the docs contract.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InternalError } from "../../src/errors.js";
import { aModule, aService } from "../helpers/plan-data.js";
import type { Module } from "../../src/manifest/module.js";
import type { DriftKind } from "../../src/plan/plan.js";
import { DRIFT_KINDS } from "../../src/plan/plan.js";
import { evaluatePolicy } from "../../src/policy/evaluate-policy.js";
import {
  POLICY_RULES,
  REASON_CODES,
  type ArchiveFacts,
  type Decision,
  type PolicyInput,
  type ReasonCode,
} from "../../src/policy/policy.js";
import {
  aBackup,
  anUncataloguedBackup,
  MINIO_ARCHIVE,
  aDrift,
  aModulePlan,
  anActionFor,
  aPolicyInput,
  aStartingWait,
  ALREADY_APPLIED,
  dbWithMigrate,
  goodInputs,
  minio,
  minioInit,
  NOTHING_BEFORE,
  NOW,
  ROOT,
  SEED_REF,
  SHA,
  TOKEN,
  web,
  wiper,
} from "./policy-data.js";

const codes = (d: Decision): ReasonCode[] => d.reasons.map((r) => r.code);
const exited1 = aDrift("container.state.exited_success", "minio-init", { observed: { status: "exited", exit_code: 1 } });

/** The seed scenario with the backup facts replaced, for the backup checks. */
const withBackup = (path: string, over: Parameters<typeof aBackup>[1] = {}, more: Partial<PolicyInput> = {}): Decision =>
  evaluatePolicy(aPolicyInput(minioInit, [exited1], { inputs: goodInputs({ backupRef: path }), backup: aBackup(path, over), ...more }));

describe("evaluatePolicy: the seed scenario (PR #379)", () => {
  it("allows the exited-1 minio-init one-shot to be re-run with allow_stateful, the exact token and a fresh minio backup", () => {
    const d = evaluatePolicy(aPolicyInput(minioInit, [exited1]));
    expect(d).toEqual({
      module: "minio-init",
      stateful: true,
      eligible: true,
      reasons: [],
      drift_kinds: ["container.state.exited_success"],
      allowed_drift: [{ kind: "container.state.exited_success", service: "minio-init", rule: "stateful-oneshot-exception" }],
      rule: "stateful-oneshot-exception",
    });
  });

  it("blocks the healthy stateful minio module with image.changed drift under the same inputs", () => {
    const d = evaluatePolicy(aPolicyInput(minio, [aDrift("image.changed", "minio")]));
    expect(d.eligible).toBe(false);
    expect(d.rule).toBe("blocked");
    expect(d.allowed_drift).toEqual([]);
    expect(d.reasons).toEqual([
      {
        code: "drift.not_allowed",
        message: expect.stringContaining("image.changed on minio"),
        drift: [{ kind: "image.changed", service: "minio" }],
      },
    ]);
  });
});

describe("evaluatePolicy: rules", () => {
  it("allows any plan of a stateless module without any gate input (rule stateless)", () => {
    const drift = [aDrift("image.changed", "web"), aDrift("config.changed", "web"), aDrift("container.orphaned", "old")];
    const d = evaluatePolicy(
      aPolicyInput(web, drift, { inputs: { allowStateful: false, backupRef: undefined, confirm: undefined, bootstrap: false } }),
    );
    expect(d).toMatchObject({ eligible: true, stateful: false, rule: "stateless", reasons: [] });
    expect(d.allowed_drift).toEqual([
      { kind: "config.changed", service: "web", rule: "stateless" },
      { kind: "container.orphaned", service: "old", rule: "stateless" },
      { kind: "image.changed", service: "web", rule: "stateless" },
    ]);
  });

  it("ignores bootstrap, rerun and wrong inputs on a stateless module", () => {
    const inputs = { allowStateful: false, backupRef: "/etc/passwd", confirm: "nope", bootstrap: true, rerun: true };
    const d = evaluatePolicy(
      aPolicyInput(web, [aDrift("service.missing", "web")], { inputs, backup: undefined, bootstrap: ALREADY_APPLIED }),
    );
    expect(d).toMatchObject({ eligible: true, rule: "stateless" });
  });

  it("treats a module as stateful when only the plan says so", () => {
    const d = evaluatePolicy(
      aPolicyInput(web, [], {
        plan: aModulePlan(web, [], { stateful: true, actions: [aStartingWait("web")] }),
        inputs: goodInputs({ allowStateful: false }),
      }),
    );
    expect(d.stateful).toBe(true);
    expect(codes(d)).toContain("input.allow_stateful_missing");
  });

  it("allows an in-sync stateful module with actions (a healthcheck still starting) with every input and a verified backup (rule stateful-noop)", () => {
    const d = evaluatePolicy(aPolicyInput(minio, [], { plan: aModulePlan(minio, [], { actions: [aStartingWait("minio")] }) }));
    expect(d).toMatchObject({ eligible: true, rule: "stateful-noop", reasons: [], allowed_drift: [], drift_kinds: [] });
  });

  it("allows a stateful module whose plan has no actions without any input (rule nothing-to-apply): apply and scope agree", () => {
    const none = { allowStateful: false, backupRef: undefined, confirm: undefined, bootstrap: false };
    const d = evaluatePolicy(aPolicyInput(minio, [], { inputs: none, backup: undefined }));
    expect(d).toEqual({
      module: "minio",
      stateful: true,
      eligible: true,
      reasons: [],
      drift_kinds: [],
      allowed_drift: [],
      rule: "nothing-to-apply",
    });
  });

  it("ignores wrong inputs when there is nothing to apply: a blank backup ref, a wrong token, --rerun without a one-shot", () => {
    const d = evaluatePolicy(
      aPolicyInput(minio, [], { inputs: goodInputs({ backupRef: "  ", confirm: "nope", rerun: true }), backup: undefined }),
    );
    expect(d).toMatchObject({ eligible: true, rule: "nothing-to-apply" });
  });

  it("allows drift that plans no action (a duplicate without --prune) on a stateful module as nothing-to-apply, naming the drift", () => {
    const dup = aDrift("container.duplicate", "minio");
    const d = evaluatePolicy(
      aPolicyInput(minio, [dup], { plan: aModulePlan(minio, [dup], { actions: [] }), inputs: goodInputs({ allowStateful: false }) }),
    );
    expect(d).toMatchObject({
      eligible: true,
      rule: "nothing-to-apply",
      allowed_drift: [{ kind: "container.duplicate", service: "minio", rule: "nothing-to-apply" }],
    });
  });

  it("treats a re-run of an in-sync stateful one-shot like the one-shot exception", () => {
    const d = evaluatePolicy(aPolicyInput(minioInit, [], { inputs: goodInputs({ rerun: true }) }));
    expect(d).toMatchObject({ eligible: true, rule: "stateful-oneshot-exception", allowed_drift: [] });
  });

  it("still requires every input for a re-run of an in-sync one-shot", () => {
    const d = evaluatePolicy(aPolicyInput(minioInit, [], { inputs: goodInputs({ rerun: true, backupRef: undefined }) }));
    expect(codes(d)).toEqual(["input.backup_ref_missing"]);
  });

  it("allows exited_success on the one-shot service of a mixed module, but not on its long-running one", () => {
    const ok = evaluatePolicy(
      aPolicyInput(dbWithMigrate, [aDrift("container.state.exited_success", "migrate")], {
        backup: aBackup(SEED_REF.replace("minio", "db")),
        inputs: goodInputs({ backupRef: SEED_REF.replace("minio", "db") }),
      }),
    );
    expect(ok).toMatchObject({ eligible: true, rule: "stateful-oneshot-exception" });
    const bad = evaluatePolicy(
      aPolicyInput(dbWithMigrate, [aDrift("container.state.exited_success", "db")], {
        backup: aBackup(SEED_REF.replace("minio", "db")),
        inputs: goodInputs({ backupRef: SEED_REF.replace("minio", "db") }),
      }),
    );
    expect(bad.reasons).toEqual([
      {
        code: "drift.not_allowed",
        message: expect.stringContaining("container.state.exited_success on db (not a one-shot service)"),
        drift: [{ kind: "container.state.exited_success", service: "db" }],
      },
    ]);
  });

  it("allows the first creation of a stateful module with --bootstrap, allow_stateful and the token, without a backup (rule bootstrap)", () => {
    const d = evaluatePolicy(
      aPolicyInput(minio, [aDrift("service.missing", "minio")], {
        inputs: goodInputs({ backupRef: undefined, bootstrap: true }),
        backup: undefined,
        bootstrap: NOTHING_BEFORE,
      }),
    );
    expect(d).toMatchObject({
      eligible: true,
      rule: "bootstrap",
      allowed_drift: [{ kind: "service.missing", service: "minio", rule: "bootstrap" }],
    });
  });

  it("does not verify a backup ref given with a valid bootstrap: removing it must never unblock", () => {
    const d = evaluatePolicy(
      aPolicyInput(minio, [aDrift("service.missing", "minio")], {
        inputs: goodInputs({ backupRef: "/nowhere", bootstrap: true }),
        backup: undefined,
        bootstrap: NOTHING_BEFORE,
      }),
    );
    expect(d).toMatchObject({ eligible: true, rule: "bootstrap" });
  });

  it("still requires allow_stateful and the exact token for a bootstrap", () => {
    const d = evaluatePolicy(
      aPolicyInput(minio, [aDrift("service.missing", "minio")], {
        inputs: { allowStateful: false, backupRef: undefined, confirm: `${TOKEN} `, bootstrap: true },
        backup: undefined,
        bootstrap: NOTHING_BEFORE,
      }),
    );
    expect(codes(d)).toEqual(["input.allow_stateful_missing", "input.confirm_mismatch"]);
  });

  it("blocks service.missing on a stateful module without --bootstrap", () => {
    const d = evaluatePolicy(aPolicyInput(minio, [aDrift("service.missing", "minio")], { bootstrap: NOTHING_BEFORE }));
    expect(codes(d)).toEqual(["drift.not_allowed"]);
  });
});

describe("evaluatePolicy: gate inputs", () => {
  it("reports each missing input as its own reason (input.allow_stateful_missing, input.backup_ref_missing, input.confirm_missing)", () => {
    const d = evaluatePolicy(
      aPolicyInput(minioInit, [exited1], { inputs: { allowStateful: false, backupRef: undefined, confirm: undefined, bootstrap: false } }),
    );
    expect(codes(d)).toEqual(["input.allow_stateful_missing", "input.backup_ref_missing", "input.confirm_missing"]);
    expect(d.reasons.map((r) => r.input)).toEqual(["allow_stateful", "backup_ref", "confirm"]);
    expect(d.rule).toBe("blocked");
  });

  it.each([
    ["empty", ""],
    ["whitespace only", "  \t"],
  ])("treats an %s backup ref as missing", (_label, ref) => {
    expect(
      codes(evaluatePolicy(aPolicyInput(minioInit, [exited1], { inputs: goodInputs({ backupRef: ref }), backup: aBackup(ref) }))),
    ).toEqual(["input.backup_ref_missing"]);
  });

  it("treats an empty confirmation as missing", () => {
    expect(codes(evaluatePolicy(aPolicyInput(minioInit, [exited1], { inputs: goodInputs({ confirm: "" }) })))).toEqual([
      "input.confirm_missing",
    ]);
  });

  it.each([
    ["a trailing newline", `${TOKEN}\n`, "trailing newline"],
    ["a leading space", ` ${TOKEN}`, "whitespace"],
    ["lower case", TOKEN.toLowerCase(), "letter case"],
    ["a Cyrillic look-alike (В U+0412)", `\u0412${TOKEN.slice(1)}`, "non-ASCII"],
    ["full-width letters (equal under NFKC)", TOKEN.replace("B", "\uff22"), "non-ASCII"],
    ["a prefix of the token", TOKEN.slice(0, -1), "letter case"],
    ["a NUL byte appended", `${TOKEN}\0`, "control character"],
  ])("rejects a confirmation with %s without echoing it or the token", (_label, given, hint) => {
    const d = evaluatePolicy(aPolicyInput(minioInit, [exited1], { inputs: goodInputs({ confirm: given }) }));
    expect(codes(d)).toEqual(["input.confirm_mismatch"]);
    const msg = d.reasons[0]?.message ?? "";
    expect(msg).toContain(hint);
    expect(msg).not.toContain(TOKEN);
    expect(msg).not.toContain(given.trim());
    expect(msg).not.toContain(TOKEN.toLowerCase());
  });

  it("compares with the configured token, not the default", () => {
    const over = { confirmToken: "MINIO_BACKUP_OK" };
    expect(evaluatePolicy(aPolicyInput(minioInit, [exited1], over)).eligible).toBe(false);
    expect(
      evaluatePolicy(aPolicyInput(minioInit, [exited1], { ...over, inputs: goodInputs({ confirm: "MINIO_BACKUP_OK" }) })).eligible,
    ).toBe(true);
  });

  it("blocks a re-run of a stateful module without a one-shot service (input.rerun_not_one_shot)", () => {
    const d = evaluatePolicy(
      aPolicyInput(minio, [], { inputs: goodInputs({ rerun: true }), plan: aModulePlan(minio, [], { actions: [aStartingWait("minio")] }) }),
    );
    expect(d.reasons).toEqual([{ code: "input.rerun_not_one_shot", message: expect.stringContaining("no one-shot"), input: "rerun" }]);
  });

  it("blocks a plan entry of another module (plan.module_mismatch), even for a stateless module", () => {
    const d = evaluatePolicy(aPolicyInput(web, [], { plan: aModulePlan(aModule({ name: "api" }), []) }));
    expect(codes(d)).toEqual(["plan.module_mismatch"]);
  });
});

describe("evaluatePolicy: volume ownership", () => {
  const runWiper = aDrift("service.missing", "wiper");
  const noInputs = { allowStateful: false, backupRef: undefined, confirm: undefined, bootstrap: false };
  const withCatalog = (catalog: Module[], over: Partial<PolicyInput> = {}) =>
    evaluatePolicy(aPolicyInput(wiper, [runWiper], { catalog, ...over }));

  it("judges a stateless module that mounts a stateful module's volume read-write by the owner's gate, never by rule stateless", () => {
    const d = withCatalog([minio, wiper], { inputs: noInputs, backup: undefined });
    expect(d).toMatchObject({ stateful: true, eligible: false, rule: "blocked" });
    expect(codes(d)).toEqual([
      "drift.not_allowed",
      "input.allow_stateful_missing",
      "input.backup_ref_missing",
      "input.confirm_missing",
      "volume.foreign_stateful",
    ]);
    expect(d.reasons.find((r) => r.code === "volume.foreign_stateful")?.message).toBe(
      'Module "wiper" mounts volume minio-data of stateful module "minio" (read-write in wiper), so it is judged by the owner\'s gate: allow_stateful, the confirmation, a backup of minio.',
    );
  });

  it("lets the owner win whatever the catalog order: a stateful module owns its volume even when a stateless one declares it first", () => {
    expect(withCatalog([wiper, minio], { inputs: noInputs, backup: undefined }).stateful).toBe(true);
  });

  it("requires the owner's backup: a backup of the writer itself is the wrong module", () => {
    const own = `${ROOT}/wiper-20260517T010847Z.tar.gz`;
    const d = withCatalog([minio, wiper], { inputs: goodInputs({ backupRef: own }), backup: aBackup(own) });
    expect(codes(d)).toEqual(["backup.wrong_module", "drift.not_allowed", "volume.foreign_stateful"]);
  });

  it("allows a re-run of the writer's one-shot with the three inputs and a backup of the owner, like the owner's own one-shots", () => {
    const exited = aDrift("container.state.exited_success", "wiper");
    const d = evaluatePolicy(aPolicyInput(wiper, [exited], { catalog: [minio, wiper] }));
    expect(d).toMatchObject({ stateful: true, eligible: true, rule: "stateful-oneshot-exception", reasons: [] });
  });

  it("does not guard a read-only mount of the stateful volume, nor a volume no stateful module mounts", () => {
    const reader = aModule({
      name: "wiper",
      services: [aService({ name: "wiper", volumes: [{ type: "volume", source: "minio-data", target: "/data", readOnly: true }] })],
    });
    expect(
      evaluatePolicy(
        aPolicyInput(reader, [aDrift("service.missing", "wiper")], { catalog: [minio, reader], inputs: noInputs, backup: undefined }),
      ),
    ).toMatchObject({ stateful: false, rule: "stateless" });
    const scratch = aModule({
      name: "wiper",
      services: [aService({ name: "wiper", volumes: [{ type: "volume", source: "scratch", target: "/s", readOnly: false }] })],
    });
    const other = aModule({
      name: "other",
      services: [aService({ name: "other", volumes: [{ type: "volume", source: "scratch", target: "/s", readOnly: false }] })],
    });
    expect(evaluatePolicy(aPolicyInput(scratch, [], { catalog: [other, scratch], inputs: noInputs, backup: undefined })).rule).toBe(
      "stateless",
    );
  });

  it("adds no volume.foreign_stateful to a stateful sidecar that names the owner in backup_ref_modules: its gate is the owner's already", () => {
    const sidecar = aModule({
      name: "minio-init",
      stateful: true,
      backupRefModules: ["minio"],
      services: [
        aService({
          name: "minio-init",
          expectedState: "exited-success",
          volumes: [{ type: "volume", source: "minio-data", target: "/data", readOnly: false }],
        }),
      ],
    });
    const d = evaluatePolicy(
      aPolicyInput(sidecar, [aDrift("container.state.exited_success", "minio-init")], {
        catalog: [minio, sidecar],
        inputs: noInputs,
        backup: undefined,
      }),
    );
    expect(codes(d)).toEqual(["input.allow_stateful_missing", "input.backup_ref_missing", "input.confirm_missing"]);
  });

  it("needs one backup covering both when a stateful module also writes another stateful module's volume", () => {
    const db = aModule({
      name: "db2",
      stateful: true,
      backupRefModules: ["db2"],
      services: [aService({ name: "db2", volumes: [{ type: "volume", source: "minio-data", target: "/m", readOnly: false }] })],
    });
    const d = evaluatePolicy(
      aPolicyInput(db, [], { catalog: [minio, db], plan: aModulePlan(db, [], { actions: [aStartingWait("db2")] }) }),
    );
    expect(codes(d)).toEqual(["backup.wrong_module", "volume.foreign_stateful"]);
    expect(d.reasons[0]?.message).toContain("no module covers all the data it writes");
  });
});

describe("evaluatePolicy: dependencies", () => {
  const app = aModule({ name: "app", dependsOn: ["db"] });
  const down = { module: "db", readiness: "not-ready" as const, problems: ["db: container.state.not_running (exited 137)"] };
  const missing = [aDrift("service.missing", "app")];

  it("blocks a plan with actions whose dependency outside the run is not ready (dependency.not_ready), stateless or not", () => {
    const d = evaluatePolicy(aPolicyInput(app, missing, { dependencies: [down] }));
    expect(d).toMatchObject({ eligible: false, rule: "blocked", allowed_drift: [] });
    expect(d.reasons).toEqual([
      {
        code: "dependency.not_ready",
        message: 'Module "app" depends on "db", which is not in this run and not ready: db: container.state.not_running (exited 137).',
      },
    ]);
    const stateful = aModule({ name: "app", stateful: true, dependsOn: ["db"], backupRefModules: ["minio"] });
    const plan = aModulePlan(stateful, [], { actions: [aStartingWait("app")] });
    expect(codes(evaluatePolicy(aPolicyInput(stateful, [], { plan, dependencies: [down] })))).toEqual(["dependency.not_ready"]);
  });

  it("allows a dependency applied earlier in the same run, or one observed ready", () => {
    for (const readiness of ["in-this-run", "ready"] as const) {
      const d = evaluatePolicy(aPolicyInput(app, missing, { dependencies: [{ module: "db", readiness, problems: [] }] }));
      expect(d, readiness).toMatchObject({ eligible: true, rule: "stateless" });
    }
  });

  it("does not judge dependencies of a plan with no actions: it changes nothing", () => {
    expect(evaluatePolicy(aPolicyInput(app, [], { dependencies: [down] }))).toMatchObject({ eligible: true, rule: "stateless" });
    const stateful = aModule({ name: "app", stateful: true, dependsOn: ["db"] });
    expect(evaluatePolicy(aPolicyInput(stateful, [], { dependencies: [down] }))).toMatchObject({
      eligible: true,
      rule: "nothing-to-apply",
    });
  });

  it("reports every dependency that is not ready as its own reason", () => {
    const two = aModule({ name: "app", dependsOn: ["db", "cache"] });
    const d = evaluatePolicy(
      aPolicyInput(two, missing, {
        dependencies: [down, { module: "cache", readiness: "not-ready", problems: ["service cache is not healthy (starting)"] }],
      }),
    );
    expect(d.reasons.map((r) => r.message)).toEqual([
      'Module "app" depends on "cache", which is not in this run and not ready: service cache is not healthy (starting).',
      'Module "app" depends on "db", which is not in this run and not ready: db: container.state.not_running (exited 137).',
    ]);
  });
});

describe("evaluatePolicy: backup verification", () => {
  it("accepts a valid backup at exactly the maximum age", () => {
    const d = evaluatePolicy(aPolicyInput(minioInit, [exited1], { now: "2026-05-18T01:08:47.000Z" }));
    expect(d.eligible).toBe(true);
  });

  it("accepts a backup with no catalog entry when reading it found a complete gzip tar holding the covering module's volumes", () => {
    expect(withBackup(SEED_REF, { catalogEntry: undefined, archive: MINIO_ARCHIVE }).eligible).toBe(true);
  });

  it.each<[string, ArchiveFacts | undefined, string]>([
    ["not read at all", undefined, "it was not read to verify it"],
    [
      "junk (not gzip)",
      { complete: false, problem: "not a readable gzip stream (incorrect header check)", entries: 0, volumes: [] },
      "incorrect header check",
    ],
    [
      "truncated",
      { complete: false, problem: "the archive ends inside an entry (truncated)", entries: 3, volumes: ["minio-data"] },
      "truncated",
    ],
    ["an empty tar", { complete: true, problem: undefined, entries: 0, volumes: [] }, "holds nothing"],
    [
      "a tar without minio's volume",
      { complete: true, problem: undefined, entries: 2, volumes: ["other"] },
      'volume minio-data of module "minio"',
    ],
  ])("refuses a backup the catalog does not record that is %s (backup.unverified)", (_label, archive, says) => {
    const d = withBackup(SEED_REF, { catalogEntry: undefined, archive });
    expect(codes(d)).toEqual(["backup.unverified"]);
    expect(d.reasons[0]?.message).toContain("is not in the backup catalog");
    expect(d.reasons[0]?.message).toContain(says);
  });

  it("refuses an uncatalogued backup whose covering module is not in the catalog (what it must hold is unknown)", () => {
    const lone = aModule({ name: "lone", stateful: true, backupRefModules: ["ghost"] });
    const ref = `${ROOT}/ghost-20260517T010847Z.tar.gz`;
    const plan = aModulePlan(lone, [], { actions: [aStartingWait("lone")] }); // an empty plan would be nothing-to-apply
    const d = evaluatePolicy(aPolicyInput(lone, [], { inputs: goodInputs({ backupRef: ref }), backup: anUncataloguedBackup(ref), plan }));
    expect(codes(d)).toEqual(["backup.unverified"]);
  });

  it("blocks every backup while the catalog cannot be read, even a well-formed archive (backup.catalog_unreadable)", () => {
    const d = withBackup(SEED_REF, {
      catalogEntry: undefined,
      catalogUnreadable: "/state/backup-catalog.jsonl: EACCES",
      archive: undefined,
    });
    expect(codes(d)).toEqual(["backup.catalog_unreadable"]);
    expect(d.reasons[0]?.message).toContain("EACCES");
  });

  it("accepts a symlink inside the root that resolves to a valid backup inside the root", () => {
    expect(withBackup(`${ROOT}/latest`, { realPath: SEED_REF }).eligible).toBe(true);
  });

  it("reports facts gathered for another path, or none, as backup.unverified", () => {
    expect(codes(evaluatePolicy(aPolicyInput(minioInit, [exited1], { backup: undefined })))).toEqual(["backup.unverified"]);
    expect(codes(evaluatePolicy(aPolicyInput(minioInit, [exited1], { backup: aBackup(`${ROOT}/minio-20260517T000000Z.tar.gz`) })))).toEqual(
      ["backup.unverified"],
    );
  });

  it.each<[string, string, Parameters<typeof aBackup>[1], ReasonCode[]]>([
    ["a path that does not exist", SEED_REF, { realPath: undefined }, ["backup.not_found"]],
    ["a directory", `${ROOT}/minio-20260517T010847Z.tar.gz`, { isFile: false, isDirectory: true }, ["backup.not_regular_file"]],
    ["a FIFO (neither file nor directory)", SEED_REF, { isFile: false, isDirectory: false }, ["backup.not_regular_file"]],
    ["an empty file", SEED_REF, { size: 0, catalogEntry: undefined, archive: MINIO_ARCHIVE }, ["backup.empty"]],
    ["an unknown backup root", SEED_REF, { backupRoot: undefined }, ["backup.root_missing"]],
    ["a relative backup root", SEED_REF, { backupRoot: "backups" }, ["backup.root_missing"]],
    [
      "a prefix-collision root (/backups-evil is not inside /backups)",
      `${ROOT}-evil/minio-20260517T010847Z.tar.gz`,
      {},
      ["backup.outside_root"],
    ],
    [
      "a symlink inside the root escaping it",
      `${ROOT}/minio-20260517T010847Z.tar.gz`,
      { realPath: "/tmp/minio-20260517T010847Z.tar.gz" },
      ["backup.outside_root"],
    ],
    [
      "a traversal that resolves outside the root",
      `${ROOT}/../../../tmp/minio-20260517T010847Z.tar.gz`,
      { realPath: "/tmp/minio-20260517T010847Z.tar.gz" },
      ["backup.outside_root"],
    ],
    [
      "a realPath that is not clean",
      `${ROOT}/../x/minio-20260517T010847Z.tar.gz`,
      { realPath: `${ROOT}/../x/minio-20260517T010847Z.tar.gz` },
      ["backup.outside_root"],
    ],
    [
      "the backup root itself",
      ROOT,
      { isFile: false, isDirectory: true },
      ["backup.name_invalid", "backup.not_regular_file", "backup.outside_root"],
    ],
    ["an impossible date (month 13, day 40)", `${ROOT}/minio-20261340T010847Z.tar.gz`, {}, ["backup.name_invalid"]],
    ["29 February of a non-leap year", `${ROOT}/minio-20250229T010847Z.tar.gz`, {}, ["backup.name_invalid"]],
    ["a name without a timestamp", `${ROOT}/minio-latest.tar.gz`, {}, ["backup.name_invalid"]],
    ["a non-ASCII module name (Cyrillic і)", `${ROOT}/mini\u0456o-20260517T010847Z.tar.gz`, {}, ["backup.name_invalid"]],
    ["an upper-case module name", `${ROOT}/MINIO-20260517T010847Z.tar.gz`, {}, ["backup.name_invalid"]],
    ["a .tgz suffix", `${ROOT}/minio-20260517T010847Z.tgz`, {}, ["backup.name_invalid"]],
    ["a backup of minio-init (only minio covers it)", `${ROOT}/minio-init-20260517T010847Z.tar.gz`, {}, ["backup.wrong_module"]],
    ["a backup of another module", `${ROOT}/postgres-20260517T010847Z.tar.gz`, {}, ["backup.wrong_module"]],
    ["a timestamp in the future", `${ROOT}/minio-20260517T120001Z.tar.gz`, {}, ["backup.future"]],
    ["a timestamp older than 24 h", `${ROOT}/minio-20260516T115959Z.tar.gz`, {}, ["backup.stale"]],
    ["a sha256 that differs from the catalog", SEED_REF, { sha256: "b".repeat(64) }, ["backup.checksum_mismatch"]],
    ["a size that differs from the catalog", SEED_REF, { size: 10 }, ["backup.checksum_mismatch"]],
    ["a file that could not be read to check the catalog", SEED_REF, { sha256: undefined }, ["backup.checksum_mismatch"]],
  ])("blocks %s", (_label, path, over, expected) => {
    const d = withBackup(path, over);
    expect(codes(d)).toEqual(expected);
    expect(d.reasons.every((r) => r.input === "backup_ref")).toBe(true);
  });

  it("parses the module from the end of the name: minio-init-<ts> is not a backup of minio", () => {
    const ref = `${ROOT}/minio-init-20260517T010847Z.tar.gz`;
    const plan = aModulePlan(minio, [], { actions: [aStartingWait("minio")] });
    const d = evaluatePolicy(aPolicyInput(minio, [], { inputs: goodInputs({ backupRef: ref }), backup: aBackup(ref), plan }));
    expect(d.reasons).toEqual([
      { code: "backup.wrong_module", message: expect.stringContaining('of module "minio-init"'), input: "backup_ref" },
    ]);
  });

  it("honours the configured maximum age", () => {
    expect(evaluatePolicy(aPolicyInput(minioInit, [exited1], { maxBackupAgeSeconds: 3600 })).reasons.map((r) => r.code)).toEqual([
      "backup.stale",
    ]);
  });

  it("shows paths quoted and escaped, so a newline in a file name cannot forge output", () => {
    const path = `${ROOT}/x\nOK eligible`;
    const d = withBackup(path, { realPath: undefined });
    expect(d.reasons[0]?.message).toBe(`Backup ref ${JSON.stringify(path)} does not exist.`);
  });

  it("withholds the token and the confirmation where a path happens to contain them", () => {
    const path = `${ROOT}/${TOKEN}/and-${TOKEN.toLowerCase()}`;
    const d = evaluatePolicy(
      aPolicyInput(minioInit, [exited1], {
        inputs: goodInputs({ backupRef: path, confirm: TOKEN.toLowerCase() }),
        backup: aBackup(path, { realPath: undefined }),
      }),
    );
    expect(codes(d)).toEqual(["backup.not_found", "input.confirm_mismatch"]);
    for (const r of d.reasons) {
      expect(r.message).not.toContain(TOKEN);
      expect(r.message).not.toContain(TOKEN.toLowerCase());
    }
    expect(d.reasons[0]?.message).toContain("[withheld]");
  });
});

describe("evaluatePolicy: drift rule for stateful modules", () => {
  const others = (Object.keys(DRIFT_KINDS) as DriftKind[]).filter((k) => k !== "container.state.exited_success");

  it.each(others)("blocks %s on a stateful one-shot with every input given (drift.not_allowed)", (kind) => {
    const drift = aDrift(kind, "minio-init");
    // module.stateful_removed plans no action of its own: give the plan one, else it is nothing-to-apply.
    const recreate = { type: "recreate" as const, service: "minio-init", container: "p_minio-init", cause: "config.changed" as const };
    const actions = anActionFor(drift).length ? anActionFor(drift) : [recreate];
    const d = evaluatePolicy(aPolicyInput(minioInit, [drift], { plan: aModulePlan(minioInit, [drift], { actions }) }));
    expect(d.reasons).toEqual([{ code: "drift.not_allowed", message: expect.any(String), drift: [{ kind, service: "minio-init" }] }]);
  });

  it("blocks exited_success next to any other drift and lists only the offending items", () => {
    const d = evaluatePolicy(aPolicyInput(minioInit, [exited1, aDrift("config.changed", "minio-init")]));
    expect(d.reasons).toEqual([
      {
        code: "drift.not_allowed",
        message: expect.stringContaining("config.changed on minio-init"),
        drift: [{ kind: "config.changed", service: "minio-init" }],
      },
    ]);
  });

  it("blocks exited_success on a service the module does not declare", () => {
    const d = evaluatePolicy(aPolicyInput(minioInit, [aDrift("container.state.exited_success", "ghost")]));
    expect(d.reasons[0]?.drift).toEqual([{ kind: "container.state.exited_success", service: "ghost" }]);
  });

  it("gives the same decision whatever the order or repetition of drift items", () => {
    const a = [aDrift("image.changed", "minio-init"), exited1, aDrift("container.orphaned", "z"), aDrift("config.changed", "minio-init")];
    const b = [a[3]!, a[2]!, a[1]!, a[0]!, a[0]!, a[2]!];
    expect(evaluatePolicy(aPolicyInput(minioInit, b))).toEqual(evaluatePolicy(aPolicyInput(minioInit, a)));
  });
});

describe("evaluatePolicy: bootstrap", () => {
  const bootstrapInput = (over: Partial<PolicyInput> = {}, drift = [aDrift("service.missing", "minio")]) =>
    aPolicyInput(minio, drift, {
      inputs: goodInputs({ backupRef: undefined, bootstrap: true }),
      backup: undefined,
      bootstrap: NOTHING_BEFORE,
      ...over,
    });

  it.each([
    ["a container exists", { containersExist: true }, "a container of the module exists"],
    ["a volume exists (a pruned container does not make a first creation)", { volumesExist: true }, "a volume of the module exists"],
    ["the audit log records an earlier apply", { auditRecordsApply: true }, "the audit log records an earlier apply"],
  ])("refuses --bootstrap when %s (bootstrap.not_first_creation) and asks for a backup instead", (_label, facts, text) => {
    const d = evaluatePolicy(bootstrapInput({ bootstrap: { ...NOTHING_BEFORE, ...facts } }));
    expect(codes(d)).toEqual(["bootstrap.not_first_creation", "drift.not_allowed", "input.backup_ref_missing"]);
    expect(d.reasons[0]?.message).toContain(text);
  });

  it("refuses --bootstrap when the plan has drift other than service.missing", () => {
    const d = evaluatePolicy(bootstrapInput({}, [aDrift("service.missing", "minio"), aDrift("config.changed", "minio")]));
    expect(d.reasons.find((r) => r.code === "bootstrap.not_first_creation")?.drift).toEqual([{ kind: "config.changed", service: "minio" }]);
  });

  it("refuses --bootstrap together with --rerun", () => {
    const d = evaluatePolicy(
      aPolicyInput(minioInit, [aDrift("service.missing", "minio-init")], {
        inputs: goodInputs({ backupRef: undefined, bootstrap: true, rerun: true }),
        backup: undefined,
        bootstrap: NOTHING_BEFORE,
      }),
    );
    expect(codes(d)).toContain("bootstrap.not_first_creation");
  });

  it("treats an empty plan with --bootstrap as nothing to apply, whatever the history", () => {
    expect(evaluatePolicy(bootstrapInput({}, []))).toMatchObject({ eligible: true, rule: "nothing-to-apply" });
    expect(evaluatePolicy(bootstrapInput({ bootstrap: ALREADY_APPLIED }, []))).toMatchObject({ eligible: true, rule: "nothing-to-apply" });
  });

  it("falls back to the normal gate when --bootstrap is refused: a valid backup and exited_success drift still need --bootstrap dropped", () => {
    const d = evaluatePolicy(aPolicyInput(minioInit, [exited1], { inputs: goodInputs({ bootstrap: true }), bootstrap: ALREADY_APPLIED }));
    expect(codes(d)).toEqual(["bootstrap.not_first_creation"]);
  });
});

describe("evaluatePolicy: contract", () => {
  it("gives the same decision for now as a Date and as an ISO string", () => {
    expect(evaluatePolicy(aPolicyInput(minioInit, [exited1], { now: new Date(NOW) }))).toEqual(
      evaluatePolicy(aPolicyInput(minioInit, [exited1])),
    );
  });

  it("throws InternalError for an invalid now or maximum age (a caller bug, not a decision)", () => {
    expect(() => evaluatePolicy(aPolicyInput(minioInit, [exited1], { now: "yesterday" }))).toThrow(InternalError);
    expect(() => evaluatePolicy(aPolicyInput(minioInit, [exited1], { maxBackupAgeSeconds: -1 }))).toThrow(InternalError);
    expect(() => evaluatePolicy(aPolicyInput(minioInit, [exited1], { maxBackupAgeSeconds: Number.NaN }))).toThrow(InternalError);
  });

  it("sorts reasons by code, then message", () => {
    const d = evaluatePolicy(
      aPolicyInput(minioInit, [aDrift("image.changed", "minio-init")], {
        inputs: { allowStateful: false, backupRef: SEED_REF, confirm: "x", bootstrap: false },
        backup: aBackup(SEED_REF, { size: 0, sha256: SHA.replace("a", "c") }),
      }),
    );
    const cs = codes(d);
    expect(cs).toEqual([...cs].sort());
    expect(cs).toEqual([
      "backup.checksum_mismatch",
      "backup.empty",
      "drift.not_allowed",
      "input.allow_stateful_missing",
      "input.confirm_mismatch",
    ]);
  });
});

describe("evaluatePolicy: the maintenance lane", () => {
  const PLAN_AT = "2026-05-17T11:50:00.000Z";
  const after = aBackup(SEED_REF, { catalogEntry: { size: 4096, sha256: SHA, createdAt: "2026-05-17T11:55:00.000Z" } });
  const maintenance = (drift: Parameters<typeof aPolicyInput>[1], over: Parameters<typeof aPolicyInput>[2] = {}) =>
    evaluatePolicy(
      aPolicyInput(minio, drift, {
        inputs: goodInputs({ maintenance: true }),
        backup: after,
        savedPlan: { generatedAt: PLAN_AT },
        ...over,
      }),
    );

  it.each(["image.changed", "config.changed", "service.missing"] as DriftKind[])(
    "allows %s on a stateful service with a saved plan, a backup made after it and every input (rule stateful-maintenance)",
    (kind) => {
      const d = maintenance([aDrift(kind, "minio")]);
      expect(d.reasons).toEqual([]);
      expect(d.rule).toBe("stateful-maintenance");
      expect(d.allowed_drift).toEqual([{ kind, service: "minio", rule: "stateful-maintenance" }]);
    },
  );

  it("refuses --maintenance without a saved plan (no fresh-plan maintenance)", () => {
    const d = maintenance([aDrift("image.changed", "minio")], { savedPlan: undefined });
    expect(codes(d)).toEqual(["maintenance.plan_required"]);
  });

  it.each([
    ["made before the plan", "2026-05-17T11:40:00.000Z"],
    ["made at the plan's observation instant", PLAN_AT],
    ["of unknown creation time", undefined],
  ])("refuses a backup %s", (_what, createdAt) => {
    const backup = aBackup(SEED_REF, { catalogEntry: { size: 4096, sha256: SHA, createdAt } });
    const d = maintenance([aDrift("image.changed", "minio")], { backup });
    expect(codes(d)).toEqual(["maintenance.backup_before_plan"]);
  });

  it("refuses an uncatalogued backup, whose creation time nobody recorded", () => {
    const d = maintenance([aDrift("image.changed", "minio")], { backup: anUncataloguedBackup(SEED_REF) });
    expect(codes(d)).toEqual(["maintenance.backup_before_plan"]);
  });

  it("still needs the other F3 inputs", () => {
    const d = maintenance([aDrift("image.changed", "minio")], {
      inputs: { allowStateful: false, backupRef: SEED_REF, confirm: undefined, bootstrap: false, maintenance: true },
    });
    expect(codes(d)).toEqual(["input.allow_stateful_missing", "input.confirm_missing"]);
  });

  it.each(["image.updated", "container.state.not_running", "container.state.unhealthy", "container.duplicate"] as DriftKind[])(
    "still blocks %s (drift.not_allowed)",
    (kind) => {
      const d = maintenance([aDrift(kind, "minio")]);
      expect(codes(d)).toEqual(["drift.not_allowed"]);
    },
  );

  it("without --maintenance the same plan is blocked exactly as before, and the message names the maintenance lane", () => {
    const d = maintenance([aDrift("image.changed", "minio")], { inputs: goodInputs() });
    expect(codes(d)).toEqual(["drift.not_allowed"]);
    expect(d.reasons[0]?.message).toContain("maintenance lane");
  });

  it("judges module.stateful_removed stateful even though the manifest says stateful: false, and allows it only with --maintenance", () => {
    const flipped = aModule({ ...minio, stateful: false });
    const drift = [aDrift("module.stateful_removed", "minio"), aDrift("image.changed", "minio")];
    const plan = aModulePlan(flipped, drift, { stateful: true });
    const blocked = evaluatePolicy(aPolicyInput(flipped, drift, { plan, backup: after, savedPlan: { generatedAt: PLAN_AT } }));
    expect(blocked.stateful).toBe(true);
    expect(blocked.rule).toBe("blocked");
    expect(codes(blocked)).toEqual(["drift.not_allowed"]);
    const allowed = evaluatePolicy(
      aPolicyInput(flipped, drift, { plan, inputs: goodInputs({ maintenance: true }), backup: after, savedPlan: { generatedAt: PLAN_AT } }),
    );
    expect(allowed.rule).toBe("stateful-maintenance");
  });
});

describe("docs/policy.md", () => {
  const doc = readFileSync(new URL("../../docs/policy.md", import.meta.url), "utf8");
  const tableCodes = [...doc.matchAll(/^\| `([a-z_]+\.[a-z_]+)` \|/gm)].map((m) => m[1]);

  it("documents every reason code in its table, and no code that does not exist", () => {
    expect([...tableCodes].sort()).toEqual(Object.keys(REASON_CODES).sort());
  });

  it.each(Object.keys(REASON_CODES))("mentions %s", (code) => {
    expect(doc).toContain(`\`${code}\``);
  });

  it.each(Object.keys(POLICY_RULES))("documents the rule %s", (rule) => {
    expect(doc).toContain(`\`${rule}\``);
  });

  it("shows the decisions of the seed scenario exactly as evaluatePolicy returns them", () => {
    const example = doc.slice(doc.indexOf("## Example: the seed scenario"));
    const blocks = [...example.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] as string) as unknown);
    expect(blocks).toEqual([
      evaluatePolicy(aPolicyInput(minioInit, [exited1])),
      evaluatePolicy(aPolicyInput(minio, [aDrift("image.changed", "minio")])),
    ]);
  });
});

describe("src/policy purity", () => {
  const dir = new URL("../../src/policy/", import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));

  it.each(files)("%s imports no file system, process, engine or logger and reads no clock", (file) => {
    const src = readFileSync(new URL(file, dir), "utf8");
    expect(src).not.toMatch(
      /from "(node:)?(fs|fs\/promises|child_process|process|os)"|from "dockerode"|from "pino"|\bprocess\.|Date\.now\(|new Date\(\)|Math\.random/,
    );
    expect(src).not.toMatch(/from "\.\.\/(engine|cli|apply)\//);
  });
});
