// Writes schema/module.schema.json and schema/module.schema.md from the zod definition (`npm run gen`).
import { writeFileSync } from "node:fs";
import { moduleJsonSchema, moduleSchemaMarkdown } from "../src/manifest/schema-export.js";

writeFileSync(new URL("../schema/module.schema.json", import.meta.url), `${JSON.stringify(moduleJsonSchema(), null, 2)}\n`);
writeFileSync(new URL("../schema/module.schema.md", import.meta.url), moduleSchemaMarkdown());
console.log("wrote schema/module.schema.json and schema/module.schema.md");
