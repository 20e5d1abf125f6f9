// Writes the module files `import compose` generated: refused when one exists (unless forced); staged in a temporary directory, then renamed into place.
import { lstat, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { PlatformError } from "../errors.js";
import { MANIFEST_FILE } from "./load-modules.js";

export interface ModuleFile {
  module: string;
  text: string;
}

/** The module files under `outDir` that exist already (what `--force` would overwrite). */
export async function existingModuleFiles(outDir: string, modules: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const m of modules) {
    const f = path.join(outDir, m, MANIFEST_FILE);
    // Safe: only "does not exist" counts as absent; any other failure is reported as present, so nothing is overwritten blindly.
    const st = await lstat(f).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" || e.code === "ENOTDIR" ? undefined : true));
    if (st) out.push(f);
  }
  return out;
}

/**
 * Writes every file into a temporary directory inside `outDir` first (so a full disk or a permission problem leaves
 * nothing half-written), then renames each into `outDir/<module>/module.yaml`; renaming onto an existing file
 * replaces it in one step. Returns the paths written.
 */
export async function writeModuleFiles(outDir: string, files: readonly ModuleFile[]): Promise<string[]> {
  const failed = (e: unknown, what: string) =>
    new PlatformError("catalog.import_write_failed", `${what} (${(e as NodeJS.ErrnoException).code ?? "error"})`, {
      hint: "Check that --out is a directory you can write to.",
      cause: e,
    });
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw failed(e, `cannot create ${outDir}`);
  }
  let staging: string;
  try {
    staging = await mkdtemp(path.join(outDir, ".platformctl-import-"));
  } catch (e) {
    throw failed(e, `cannot write in ${outDir}`);
  }
  try {
    for (const f of files) {
      await mkdir(path.join(staging, f.module));
      await writeFile(path.join(staging, f.module, MANIFEST_FILE), f.text, { flag: "wx", mode: 0o644 });
    }
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw failed(e, `cannot write the module files in ${outDir}`);
  }
  const written: string[] = [];
  try {
    for (const f of files) {
      await mkdir(path.join(outDir, f.module), { recursive: true });
      const target = path.join(outDir, f.module, MANIFEST_FILE);
      await rename(path.join(staging, f.module, MANIFEST_FILE), target);
      written.push(target);
    }
  } catch (e) {
    throw failed(
      e,
      `wrote ${written.length} of ${files.length} module files in ${outDir}${written.length ? `: ${written.join(", ")}` : ""}`,
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return written;
}
