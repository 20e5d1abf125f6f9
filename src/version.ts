// The running platformctl's version, read once from its package.json (the nearest one above this file: src/ and dist/
// sit beside it, the CLI bundle one level deeper in dist/cli-bundle/).
import { readFileSync } from "node:fs";

function readVersion(): string {
  for (const rel of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "platformctl" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // Safe: the next candidate is tried; with none left, the error below names the problem.
    }
  }
  throw new Error("platformctl's package.json was not found beside its code");
}

/** `version` of package.json; recorded in every backup archive and printed by `platformctl --version`. */
export const PLATFORMCTL_VERSION: string = readVersion();
