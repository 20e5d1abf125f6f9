// The running platformctl's version, read once from its package.json (dist/ and src/ both sit beside it).
import { readFileSync } from "node:fs";

/** `version` of package.json; recorded in every backup archive and printed by `platformctl --version`. */
export const PLATFORMCTL_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
