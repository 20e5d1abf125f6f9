// The images engine tests run, all built locally by scripts/test-images.sh (nothing is pulled).

/** Debian's static busybox with its applets; the quick-start catalog names the same image. */
export const TEST_IMAGE = "platformctl-test/busybox:1";

/** PostgreSQL 15 from Debian bookworm packages; its entrypoint runs initdb on an empty PGDATA, then postgres as PID 1. */
export const PG_IMAGE = "platformctl-test/postgres:15";

/** A root filesystem holding only the static binary `/busybox`: no shell, no tar, no gzip, no applet links. */
export const NOSHELL_IMAGE = "platformctl-test/noshell:1";
