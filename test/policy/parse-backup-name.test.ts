// Table tests of the backup file name grammar `<module>-<YYYYMMDDTHHMMSSZ>.tar.gz`.
import { describe, expect, it } from "vitest";
import { formatBackupName, parseBackupName } from "../../src/policy/parse-backup-name.js";

describe("parseBackupName", () => {
  it.each([
    ["minio-20260517T010847Z.tar.gz", "minio", "2026-05-17T01:08:47.000Z"],
    ["minio-init-20260517T010847Z.tar.gz", "minio-init", "2026-05-17T01:08:47.000Z"],
    ["a-b-c-20240229T235959Z.tar.gz", "a-b-c", "2024-02-29T23:59:59.000Z"],
    ["db2-19700101T000000Z.tar.gz", "db2", "1970-01-01T00:00:00.000Z"],
    ["x--20001231T120000Z.tar.gz", "x-", "2000-12-31T12:00:00.000Z"],
  ])("parses %s as module %s at %s, taking the timestamp from the end", (name, module, iso) => {
    expect(parseBackupName(name)).toEqual({ module, time: new Date(iso), seq: 0 });
  });

  it.each([
    ["minio-20260517T010847Z-1.tar.gz", "minio", 1],
    ["minio-init-20260517T010847Z-2.tar.gz", "minio-init", 2],
    ["x-1-20260517T010847Z-999.tar.gz", "x-1", 999],
  ])("parses %s, a later backup in the same second, as module %s with sequence %i", (name, module, seq) => {
    expect(parseBackupName(name)).toEqual({ module, time: new Date("2026-05-17T01:08:47.000Z"), seq });
  });

  it.each([
    ["month 13, day 40", "minio-20261340T010847Z.tar.gz"],
    ["30 February", "minio-20260230T010847Z.tar.gz"],
    ["29 February of a non-leap year", "minio-20250229T010847Z.tar.gz"],
    ["29 February 1900 (not a leap year)", "minio-19000229T010847Z.tar.gz"],
    ["day 0", "minio-20260500T010847Z.tar.gz"],
    ["hour 24", "minio-20260517T240000Z.tar.gz"],
    ["minute 60", "minio-20260517T016000Z.tar.gz"],
    ["a leap second", "minio-20261231T235960Z.tar.gz"],
    ["a year before 1970", "minio-19691231T235959Z.tar.gz"],
    ["no Z", "minio-20260517T010847.tar.gz"],
    ["a lower-case t", "minio-20260517t010847Z.tar.gz"],
    ["a short timestamp", "minio-2026517T010847Z.tar.gz"],
    ["an ISO timestamp with separators", "minio-2026-05-17T01:08:47Z.tar.gz"],
    ["a .tgz suffix", "minio-20260517T010847Z.tgz"],
    ["a trailing newline", "minio-20260517T010847Z.tar.gz\n"],
    ["no module", "-20260517T010847Z.tar.gz"],
    ["an upper-case module", "Minio-20260517T010847Z.tar.gz"],
    ["a module starting with a digit", "1minio-20260517T010847Z.tar.gz"],
    ["a module with an underscore", "minio_init-20260517T010847Z.tar.gz"],
    ["a Cyrillic look-alike in the module", "m\u0456nio-20260517T010847Z.tar.gz"],
    ["Arabic-Indic digits", "minio-\u0662\u0660\u0662\u0666\u0660\u0665\u0661\u0667T010847Z.tar.gz"],
    ["full-width digits", "minio-\uff12\uff10\uff12\uff16\uff10\uff15\uff11\uff17T010847Z.tar.gz"],
    ["a path", "backups/minio-20260517T010847Z.tar.gz"],
    ["a module name longer than 63 characters", `${"a".repeat(64)}-20260517T010847Z.tar.gz`],
    ["the empty string", ""],
    ["sequence 0", "minio-20260517T010847Z-0.tar.gz"],
    ["a sequence with a leading zero", "minio-20260517T010847Z-01.tar.gz"],
    ["a sequence above 999", "minio-20260517T010847Z-1000.tar.gz"],
    ["an empty sequence", "minio-20260517T010847Z-.tar.gz"],
    ["a sequence before the Z", "minio-20260517T010847-1Z.tar.gz"],
  ])("rejects %s", (_label, name) => {
    expect(parseBackupName(name)).toBeUndefined();
  });

  it("round-trips the names formatBackupName writes", () => {
    const time = new Date("2026-05-17T01:08:47.000Z");
    const name = formatBackupName("minio-init", time);
    expect(name).toBe("minio-init-20260517T010847Z.tar.gz");
    expect(parseBackupName(name)).toEqual({ module: "minio-init", time, seq: 0 });
    expect(formatBackupName("minio-init", time, 7)).toBe("minio-init-20260517T010847Z-7.tar.gz");
    expect(parseBackupName(formatBackupName("minio-init", time, 7))).toEqual({ module: "minio-init", time, seq: 7 });
  });
});
