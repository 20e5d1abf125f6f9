// The one test of whether a name looks secret, on plain names.
import { describe, expect, it } from "vitest";
import { looksSecret } from "../../src/manifest/secret-names.js";

describe("looksSecret", () => {
  it("finds the words anywhere in a name, in any case", () => {
    for (const n of [
      "DB_PASSWORD",
      "passwd",
      "GPG_PASSPHRASE",
      "client_secret",
      "GITHUB_TOKEN",
      "API_KEY",
      "AWS_CREDENTIALS",
      "PRIVATE_PEM",
      "SESSION_COOKIE",
      "PW_SALT",
      "SENTRY_DSN",
    ])
      expect(looksSecret(n), n).toBe(true);
  });

  it("takes PW and PASS only as whole parts of a name", () => {
    for (const n of ["CANARY_PW", "PW", "PW_ADMIN", "DB_PASS", "PASS"]) expect(looksSecret(n), n).toBe(true);
    for (const n of [
      "PASSAGE",
      "COMPASS_DIR",
      "SPW",
      "PWD_HOME_X",
      "AUTHOR",
      "MINIO_PROMETHEUS_AUTH_TYPE",
      "TZ",
      "MINIO_ROOT_USER",
      "BUCKET",
    ])
      expect(looksSecret(n), n).toBe(false);
  });
});
