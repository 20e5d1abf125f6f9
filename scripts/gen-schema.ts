// Writes the published schemas and their docs from the zod definitions (`npm run gen`).
import { writeFileSync } from "node:fs";
import { moduleJsonSchema, moduleSchemaMarkdown } from "../src/manifest/schema-export.js";
import { planJsonSchema } from "../src/plan/plan-schema-export.js";

const write = (file: string, text: string) => writeFileSync(new URL(`../${file}`, import.meta.url), text);
write("schema/module.schema.json", `${JSON.stringify(moduleJsonSchema(), null, 2)}\n`);
write("schema/module.schema.md", moduleSchemaMarkdown());
write("schema/plan.schema.json", `${JSON.stringify(planJsonSchema(), null, 2)}\n`);
console.log("wrote schema/module.schema.json, schema/module.schema.md, schema/plan.schema.json");
