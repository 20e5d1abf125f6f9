// Table tests of the restore gate (evaluateRestore), with plain data: inputs, backup facts, archive manifest, drift, verification.
import { describe, expect, it } from "vitest";
import { evaluateRestore, type RestoreArchive, type RestoreInput } from "../../src/policy/evaluate-restore.js";
import type { Decision } from "../../src/policy/policy.js";
import { evaluatePolicy } from "../../src/policy/evaluate-policy.js";
import type { Module } from "../../src/manifest/module.js";
import { aBackup, aDrift, aPolicyInput, anUncataloguedBackup, minio, minioInit, NOW, ROOT, SEED_REF, TOKEN } from "./policy-data.js";

/** A minio archive in format 1, as `platformctl backup minio` writes it. */
const MINIO_STOP: RestoreArchive = { module: "minio", method: "stop", volumes: ["minio-data"], dump: false };
/** What reading a truncated archive finds. */
const TRUNCATED = { complete: false, problem: "the archive ends inside an entry (truncated)", entries: 3, volumes: ["minio-data"] };
/** A backup from two weeks before NOW: too old for apply's gate, fine for a restore. */
const OLD_REF = `${ROOT}/minio-20260503T010847Z.tar.gz`;

function aRestoreInput(over: Partial<RestoreInput> = {}): RestoreInput {
  return {
    module: minio,
    catalog: [minio, minioInit],
    mode: "live",
    inputs: { allowStateful: true, confirm: TOKEN, backupRef: SEED_REF },
    backup: aBackup(SEED_REF),
    archive: MINIO_STOP,
    archiveProblem: undefined,
    restoreCommand: false,
    drift: [],
    now: NOW,
    confirmToken: TOKEN,
    ...over,
  };
}

/** The module with `backup.verify: required` (spec.backup), as the manifest model carries it. */
const requiringVerification = (m: Module): Module => ({ ...m, backup: { ...m.backup, verify: "required" } });

const codes = (d: Decision) => d.reasons.map((r) => r.code);

describe("evaluateRestore", () => {
  it("allows a live restore with allow_stateful, the exact token and a verified backup of the module (rule restore)", () => {
    const d = evaluateRestore(aRestoreInput());
    expect(d).toMatchObject({ module: "minio", eligible: true, rule: "restore", reasons: [] });
  });

  it("blocks a live restore without allow_stateful and the confirmation, naming both inputs", () => {
    const d = evaluateRestore(aRestoreInput({ inputs: { allowStateful: false, confirm: undefined, backupRef: SEED_REF } }));
    expect(d.rule).toBe("blocked");
    expect(codes(d)).toEqual(["input.allow_stateful_missing", "input.confirm_missing"]);
  });

  it("never shows the confirmation given or the token in a mismatch", () => {
    const d = evaluateRestore(aRestoreInput({ inputs: { allowStateful: true, confirm: "BACKUP_DONE_F3\n", backupRef: SEED_REF } }));
    expect(codes(d)).toEqual(["input.confirm_mismatch"]);
    expect(JSON.stringify(d)).not.toContain(TOKEN);
  });

  it("needs no input for --verify, which touches nothing live (rule restore-verify)", () => {
    const d = evaluateRestore(
      aRestoreInput({
        mode: "verify",
        inputs: { allowStateful: false, confirm: undefined, backupRef: SEED_REF },
        drift: [aDrift("image.changed", "minio")],
      }),
    );
    expect(d).toMatchObject({ eligible: true, rule: "restore-verify", allowed_drift: [] });
  });

  it("accepts a backup older than the maximum age: restoring an older backup is what a restore is for", () => {
    expect(
      evaluateRestore(aRestoreInput({ inputs: { allowStateful: true, confirm: TOKEN, backupRef: OLD_REF }, backup: aBackup(OLD_REF) }))
        .eligible,
    ).toBe(true);
  });

  it("blocks a ref missing, outside the root or changed since the catalog recorded it, like the apply gate", () => {
    expect(codes(evaluateRestore(aRestoreInput({ inputs: { allowStateful: true, confirm: TOKEN, backupRef: "  " } })))).toEqual([
      "input.backup_ref_missing",
    ]);
    const outside = "/tmp/minio-20260517T010847Z.tar.gz";
    expect(
      codes(
        evaluateRestore(aRestoreInput({ inputs: { allowStateful: true, confirm: TOKEN, backupRef: outside }, backup: aBackup(outside) })),
      ),
    ).toEqual(["backup.outside_root"]);
    expect(codes(evaluateRestore(aRestoreInput({ backup: aBackup(SEED_REF, { sha256: "b".repeat(64) }) })))).toEqual([
      "backup.checksum_mismatch",
    ]);
    expect(codes(evaluateRestore(aRestoreInput({ backup: undefined })))).toEqual(["backup.unverified"]);
  });

  it("refuses another module's backup, by its file name or by its manifest, even when that module covers this one", () => {
    // minio-init is covered by minio's backups for apply; restoring minio's data into minio-init is not a restore of it.
    const d = evaluateRestore(aRestoreInput({ module: minioInit }));
    expect(codes(d)).toContain("backup.wrong_module");
    const renamed = `${ROOT}/minio-20260517T010847Z-1.tar.gz`;
    const byManifest = evaluateRestore(
      aRestoreInput({
        inputs: { allowStateful: true, confirm: TOKEN, backupRef: renamed },
        backup: aBackup(renamed),
        archive: { ...MINIO_STOP, module: "web" },
      }),
    );
    expect(codes(byManifest)).toEqual(["backup.wrong_module"]);
    expect(byManifest.reasons[0]?.message).toContain('is of module "web"');
  });

  it("refuses an archive that lacks a volume of the module, or a dump without a restore_command", () => {
    expect(codes(evaluateRestore(aRestoreInput({ archive: { ...MINIO_STOP, volumes: [] } })))).toEqual(["restore.archive_incomplete"]);
    const dump: RestoreArchive = { module: "minio", method: "exec", volumes: [], dump: true };
    expect(codes(evaluateRestore(aRestoreInput({ archive: dump })))).toEqual(["restore.archive_incomplete"]);
    expect(evaluateRestore(aRestoreInput({ archive: dump, restoreCommand: true })).eligible).toBe(true);
  });

  it("refuses an archive it could not read as a platformctl archive, saying why", () => {
    const d = evaluateRestore(aRestoreInput({ archive: undefined, archiveProblem: "not a gzip stream" }));
    expect(codes(d)).toEqual(["restore.archive_incomplete"]);
    expect(d.reasons[0]?.message).toContain("not a gzip stream");
  });

  it("judges an uncatalogued archive by its content, as the apply gate does", () => {
    expect(evaluateRestore(aRestoreInput({ backup: anUncataloguedBackup(SEED_REF) })).eligible).toBe(true);
    expect(codes(evaluateRestore(aRestoreInput({ backup: anUncataloguedBackup(SEED_REF, TRUNCATED) })))).toEqual(["backup.unverified"]);
  });

  it("allows state drift and a missing container on a live restore (it recreates them) but blocks spec drift it would apply along", () => {
    const state = evaluateRestore(
      aRestoreInput({ drift: [aDrift("container.state.unhealthy", "minio"), aDrift("container.state.not_running", "minio")] }),
    );
    expect(state.eligible).toBe(true);
    expect(state.allowed_drift).toEqual([
      { kind: "container.state.not_running", service: "minio", rule: "restore" },
      { kind: "container.state.unhealthy", service: "minio", rule: "restore" },
    ]);
    // A missing container is created like the others: that is how a restore that failed part-way is run again.
    expect(evaluateRestore(aRestoreInput({ drift: [aDrift("service.missing", "minio")] })).eligible).toBe(true);
    for (const kind of ["image.changed", "config.changed", "image.updated", "container.duplicate", "container.orphaned"] as const) {
      const d = evaluateRestore(aRestoreInput({ drift: [aDrift(kind, "minio")] }));
      expect(codes(d), kind).toEqual(["restore.spec_drift"]);
      expect(d.reasons[0]?.drift).toEqual([{ kind, service: "minio" }]);
    }
  });

  it("with verify: required, refuses a live restore from a backup never verified or whose last verification failed", () => {
    const strict = requiringVerification(minio);
    expect(codes(evaluateRestore(aRestoreInput({ module: strict, catalog: [strict, minioInit] })))).toEqual(["backup.not_verified"]);
    const failed = aBackup(SEED_REF, { verification: { verified_at: NOW, outcome: "failed" } });
    const blocked = evaluateRestore(aRestoreInput({ module: strict, catalog: [strict, minioInit], backup: failed }));
    expect(codes(blocked)).toEqual(["backup.not_verified"]);
    expect(blocked.reasons[0]?.message).toContain("last verification");
    const passed = aBackup(SEED_REF, { verification: { verified_at: NOW, outcome: "passed" } });
    expect(evaluateRestore(aRestoreInput({ module: strict, catalog: [strict, minioInit], backup: passed })).eligible).toBe(true);
    // --verify is how a backup gets verified: it is never refused for not being verified yet.
    expect(evaluateRestore(aRestoreInput({ module: strict, catalog: [strict, minioInit], mode: "verify" })).eligible).toBe(true);
    // Without verify: required, an unverified backup is fine.
    expect(evaluateRestore(aRestoreInput()).eligible).toBe(true);
  });
});

describe("evaluatePolicy with verify: required", () => {
  it("refuses a backup ref never verified when the module whose backup it is requires verification (backup.not_verified)", () => {
    const strict = requiringVerification(minio);
    const input = aPolicyInput(minioInit, [aDrift("container.state.exited_success", "minio-init")]);
    const catalog = [strict, minioInit];
    expect(evaluatePolicy(input).eligible).toBe(true);
    expect(evaluatePolicy({ ...input, catalog }).reasons.map((r) => r.code)).toEqual(["backup.not_verified"]);
    const verified = aBackup(SEED_REF, { verification: { verified_at: NOW, outcome: "passed" } });
    expect(evaluatePolicy({ ...input, catalog, backup: verified }).eligible).toBe(true);
  });
});
