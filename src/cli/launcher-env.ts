// What bin/platformctl changes in Node's environment to start faster, put back before anything else runs, so the
// command, and every process it starts (command probes, git), sees the environment as the operator gave it.
import { restoreExtraCaCerts } from "./extra-ca-certs.js";

/**
 * How the launcher hands over GLIBC_TUNABLES: `unset`, or `set:` and the operator's value. It adds
 * `glibc.malloc.hugetlb=1` for Node's own start: glibc's malloc then backs its large blocks with transparent huge pages,
 * and the start-up snapshot is read into one such block (about 2,500 page faults and 8 ms of system time fewer per
 * command on this project's machines, README "Performance"). An operator's own hugetlb setting is left alone.
 */
export const DEFERRED_GLIBC_TUNABLES = "PLATFORMCTL_DEFERRED_GLIBC_TUNABLES";

/** Puts GLIBC_TUNABLES back as the operator had it and drops the hand-over name. */
export function restoreGlibcTunables(env: NodeJS.ProcessEnv = process.env): void {
  const was = env[DEFERRED_GLIBC_TUNABLES];
  if (was === undefined) return;
  delete env[DEFERRED_GLIBC_TUNABLES];
  if (was === "unset") delete env.GLIBC_TUNABLES;
  else if (was.startsWith("set:")) env.GLIBC_TUNABLES = was.slice("set:".length);
}

/** Everything the launcher deferred, put back (both entries call this first). */
export function restoreLauncherEnv(env: NodeJS.ProcessEnv = process.env): void {
  restoreExtraCaCerts(env);
  restoreGlibcTunables(env);
}
