// Test data builders for manifests: a valid base manifest as YAML text, edits to it, positions in it, temp catalogs.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** A value written as a literal env value in the base manifest: no output may ever contain it. */
export const CANARY = "SECRET_CANARY_9f3a";

/** Parts of the base manifest, each written into the YAML as given (raw YAML, not JSON). */
export interface ManifestParts {
  name?: string;
  /** `null` leaves the field out. */
  description?: string | null;
  stateful?: string;
  dependsOn?: string;
  backupRefModules?: string;
  expectedState?: string;
  timeout?: string;
  image?: string;
  /** `null` leaves the field out. */
  restart?: string | null;
  /** Lines of the service's `environment:` mapping (`KEY: value`); `null` leaves the field out. */
  environment?: string[] | null;
  /** Extra lines inside the service, written at service-field indentation. */
  serviceExtra?: string[];
  /** Extra lines inside `spec`, written at spec-field indentation. */
  specExtra?: string[];
  /** Lines of `spec.smoke` (a YAML list), written at spec-field indentation plus two. */
  smoke?: string[];
}

/**
 * The base manifest: valid, also in strict mode, with a literal env value {@link CANARY} under a key that does
 * not look secret (so only the rules under test change the verdict).
 */
export function aManifest(parts: ManifestParts = {}): string {
  const p = {
    name: "demo",
    description: "A module the manifest tests edit",
    stateful: "false",
    expectedState: "running",
    timeout: "30",
    image: "busybox:1.36",
    restart: "unless-stopped",
    environment: [`GREETING: ${CANARY}`, "DB_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD}"],
    ...parts,
  };
  const lines = [
    "# A manifest built by test/manifest/a-manifest.ts",
    "apiVersion: platformctl/v1",
    "kind: Module",
    "metadata:",
    `  name: ${p.name}`,
    ...(p.description === null ? [] : [`  description: ${p.description}`]),
    "spec:",
    `  stateful: ${p.stateful}`,
    ...(p.dependsOn === undefined ? [] : [`  depends_on: ${p.dependsOn}`]),
    ...(p.backupRefModules === undefined ? [] : [`  backup_ref_modules: ${p.backupRefModules}`]),
    ...(p.specExtra ?? []).map((l) => `  ${l}`),
    "  runtime:",
    `    expected_state: ${p.expectedState}`,
    `    timeout_seconds: ${p.timeout}`,
    "  services:",
    "    app:",
    `      image: ${p.image}`,
    ...(p.restart === null ? [] : [`      restart: ${p.restart}`]),
    ...(p.environment === null ? [] : ["      environment:", ...p.environment.map((l) => `        ${l}`)]),
    ...(p.serviceExtra ?? []).map((l) => `      ${l}`),
    ...(p.smoke === undefined ? [] : ["  smoke:", ...p.smoke.map((l) => `    ${l}`)]),
  ];
  return `${lines.join("\n")}\n`;
}

/** Replaces exactly one occurrence of `from`; fails loudly when the text does not hold it, so an edit can never silently do nothing. */
export function edit(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  if (i < 0 || text.indexOf(from, i + 1) >= 0) throw new Error(`edit: ${JSON.stringify(from)} must occur exactly once`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

/**
 * The 1-based line and column of `target` inside the only line containing `lineHolding`
 * (its first occurrence on that line; the first non-blank character when `target` is omitted), computed from the text alone.
 */
export function at(text: string, lineHolding: string, target?: string): { line: number; column: number } {
  const lines = text.split("\n");
  const hits = lines.flatMap((l, i) => (l.includes(lineHolding) ? [i] : []));
  if (hits.length !== 1) throw new Error(`at: ${JSON.stringify(lineHolding)} is on ${hits.length} lines`);
  const i = hits[0] as number;
  const line = lines[i] as string;
  const column = target === undefined ? line.search(/\S/) + 1 : line.indexOf(target) + 1;
  if (column === 0) throw new Error(`at: ${JSON.stringify(target)} not on the line of ${JSON.stringify(lineHolding)}`);
  return { line: i + 1, column };
}

/** A module directory name mapped to its manifest (text or raw bytes). */
export type Catalog = Record<string, string | Uint8Array>;

/** Temp directories for one test file; `cleanup()` in afterAll removes them all. */
export function tempDirs() {
  const made: string[] = [];
  return {
    async make(label: string): Promise<string> {
      const dir = await mkdtemp(path.join(tmpdir(), `platformctl-${label.replace(/[^a-z0-9-]/gi, "-").slice(0, 40)}-`));
      made.push(dir);
      return dir;
    },
    async cleanup(): Promise<void> {
      await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** Writes `<root>/<module>/module.yaml` for every module of the catalog and returns the root. */
export async function writeCatalog(root: string, catalog: Catalog): Promise<string> {
  for (const [name, content] of Object.entries(catalog)) {
    await mkdir(path.join(root, name), { recursive: true });
    await writeFile(path.join(root, name, "module.yaml"), content);
  }
  return root;
}

/** The bytes of a manifest: strings as UTF-8. */
export const bytesOf = (content: string | Uint8Array): Uint8Array =>
  typeof content === "string" ? new TextEncoder().encode(content) : content;

/** A stack frame line as Node prints it. */
export const STACK_FRAME = /^\s{4}at /m;
