// After `tsc`: writes dist/build-id.json, a digest of every compiled file, so caches keyed on it are never trusted by
// another build (the package version alone does not change between development builds).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const dist = path.resolve(import.meta.dirname, "..", "dist");
const files = readdirSync(dist, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith(".js") && !e.parentPath.startsWith(path.join(dist, "snapshot")))
  .map((e) => path.join(e.parentPath, e.name))
  .sort();
const hash = createHash("sha256");
for (const f of files) hash.update(path.relative(dist, f)).update("\0").update(readFileSync(f)).update("\0");
writeFileSync(path.join(dist, "build-id.json"), `${JSON.stringify({ build_id: hash.digest("hex").slice(0, 32) })}\n`);
