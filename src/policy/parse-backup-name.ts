// Parses a backup file name `<module>-<YYYYMMDDTHHMMSSZ>[-<n>].tar.gz` into the module it covers and the UTC time it was taken.
import { PATTERNS } from "../manifest/vocabulary.js";

/** A parsed backup file name. */
export interface BackupName {
  module: string;
  /** The UTC instant written in the name. */
  time: Date;
  /** The sequence number of a later backup in the same second (`-1` … `-999`); 0 for the first. */
  seq: number;
}

/**
 * The timestamp is fixed-width and anchored at the end, so a module name containing `-` (minio-init) is whatever
 * precedes the last `-YYYYMMDDTHHMMSSZ[-n].tar.gz`. The optional `-n` (1-999, no leading zero) follows the `Z`; a
 * module name cannot hold the upper-case `T` and `Z`, so the split is unambiguous. ASCII only: `[0-9]` rather than
 * `\d`, no `i` or `u` flag.
 */
const NAME = /^(.+)-([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z(?:-([1-9][0-9]{0,2}))?\.tar\.gz$/;

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y: number, m: number): number => (m === 2 ? (isLeap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31);

/**
 * `minio-20260517T010847Z.tar.gz` -> `{ module: "minio", time: 2026-05-17T01:08:47Z }`. Returns undefined for anything
 * else: a path (only a bare file name is parsed), a module name the manifest schema would reject, non-ASCII, a date
 * that does not exist (`20261340`, `20250229`), hour 24, second 60 (no leap seconds), a year before 1970.
 */
export function parseBackupName(fileName: string): BackupName | undefined {
  const m = NAME.exec(fileName);
  if (!m) return undefined;
  const [, module, ys, mos, ds, hs, mis, ss, seq] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (!PATTERNS.moduleName.test(module)) return undefined;
  const [y, mo, d, h, mi, s] = [ys, mos, ds, hs, mis, ss].map(Number) as [number, number, number, number, number, number];
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  return { module, time: new Date(Date.UTC(y, mo - 1, d, h, mi, s)), seq: seq === undefined ? 0 : Number(seq) };
}

/** The file name `platformctl backup` writes for `module` at `time` (seconds precision, UTC); `seq` > 0 for a later backup in the same second. */
export function formatBackupName(module: string, time: Date, seq = 0): string {
  const iso = time.toISOString(); // 2026-05-17T01:08:47.000Z
  return `${module}-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z${seq > 0 ? `-${seq}` : ""}.tar.gz`;
}
