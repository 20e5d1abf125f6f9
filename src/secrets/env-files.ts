// Env files named by a service (KEY=VALUE lines): read at apply and health time; every value is a secret.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Module, Service } from "../manifest/module.js";
import { PlatformError } from "../errors.js";

/** Reads env files (KEY=VALUE lines; `#` comments) relative to the module directory. Values are secrets. */
export async function readEnvFiles(module: Module, service: Service): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of service.envFiles) {
    const file = path.resolve(module.dir, f);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      throw new PlatformError("apply.env_file", `${module.name}/${service.name}: env file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`, {
        hint: "Create the file or remove it from env_file.",
      });
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const t = line.trim();
      if (!t || t.startsWith("#")) return;
      const eq = t.indexOf("=");
      const key = eq > 0 ? t.slice(0, eq).replace(/^export\s+/, "") : "";
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new PlatformError("apply.env_file", `${file}:${i + 1}: expected KEY=VALUE`, { hint: "Fix the line (its value is not shown)." });
      out[key] = t.slice(eq + 1).replace(/^(["'])(.*)\1$/, "$2");
    });
  }
  return out;
}
