// Contracts: the committed schema files equal the ones generated from zod, and ajv with the published JSON Schema
// judges every fixture exactly as the CLI's schema layer does.
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYaml } from "../../src/manifest/parse-yaml.js";
import { PROBLEM_CODES, type ProblemCode } from "../../src/manifest/problems.js";
import { moduleJsonSchema, moduleSchemaMarkdown } from "../../src/manifest/schema-export.js";
import { validateManifest } from "../../src/manifest/validate.js";
import { aManifest, bytesOf, tempDirs, writeCatalog } from "./a-manifest.js";
import { BAD_CASES } from "./bad-cases.js";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";

const REGENERATE = "schema/ is out of date with src/manifest/schema.ts: run `npm run gen` and commit the result";
const committedJson = () => JSON.parse(readFileSync(path.join(REPO, "schema/module.schema.json"), "utf8")) as Record<string, unknown>;

/** ajv exactly as an editor or CI script would use it: draft 2020-12, the committed file, default options. */
function publishedValidator() {
  const Ajv = Ajv2020 as unknown as typeof Ajv2020.default;
  return new Ajv({ allErrors: true }).compile(committedJson());
}

const isSchemaProblem = (code: string) => PROBLEM_CODES[code as ProblemCode]?.layer === "schema";

describe("the committed schema files", () => {
  it("schema/module.schema.json equals the JSON Schema generated from the zod definition", () => {
    expect(committedJson(), REGENERATE).toEqual(moduleJsonSchema());
  });

  it("schema/module.schema.md equals the reference generated from the zod definition", () => {
    expect(readFileSync(path.join(REPO, "schema/module.schema.md"), "utf8"), REGENERATE).toBe(moduleSchemaMarkdown());
  });

  it("documents every problem code in the reference", () => {
    const md = moduleSchemaMarkdown();
    for (const code of Object.keys(PROBLEM_CODES)) expect(md).toContain(`| \`${code}\` |`);
  });

  it("compiles under ajv's strict mode as draft 2020-12", () => {
    expect(committedJson().$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(typeof publishedValidator()).toBe("function");
  });
});

describe("ajv and the CLI judge every fixture the same way", () => {
  const temp = tempDirs();
  afterAll(() => temp.cleanup());

  /** Every module.yaml under a directory, recursively. */
  const manifestsUnder = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) return manifestsUnder(p);
      return name === "module.yaml" ? [p] : [];
    });

  let fixtures: { file: string; target: string }[] = [];

  beforeAll(async () => {
    assertFreshBuild();
    const root = await temp.make("contract");
    let i = 0;
    for (const { cases } of BAD_CASES) {
      for (const c of cases) {
        const target = path.join(root, `case-${i++}`);
        await writeCatalog(target, c.catalog);
        fixtures.push(...Object.keys(c.catalog).map((m) => ({ file: path.join(target, m, "module.yaml"), target })));
      }
    }
    for (const dir of ["modules", "examples/quickstart/modules", "examples/compose/modules", "test/fixtures/manifests"]) {
      for (const file of manifestsUnder(path.join(REPO, dir))) fixtures.push({ file, target: path.dirname(path.dirname(file)) });
    }
    fixtures = fixtures.sort((a, b) => a.file.localeCompare(b.file));
  });

  it("agrees on every bad-input fixture that parses as YAML and on every valid example manifest", async () => {
    const targets = [...new Set(fixtures.map((f) => f.target))];
    const run = await runCli(["validate", "--json", ...targets]);
    expect(run.stderr).toBe("");
    const report = JSON.parse(run.stdout) as { errors: { file: string; code: string }[] };
    const validate = publishedValidator();

    const judged = fixtures.flatMap(({ file }) => {
      const read = parseYaml(file, readFileSync(file));
      if (!read.ok) return [];
      const ajv = validate(read.parsed.value) ? "valid" : "invalid";
      const cli = report.errors.some((e) => e.file === file && isSchemaProblem(e.code)) ? "invalid" : "valid";
      return [
        {
          file: path.relative(REPO, file).replace(/^\.\.\/.*?(case-\d+)/, "$1"),
          ajv,
          cli,
          ajvErrors: ajv === cli ? undefined : validate.errors,
        },
      ];
    });

    expect(judged.filter((j) => j.ajv !== j.cli)).toEqual([]);
    // The comparison means something only if both verdicts occur.
    expect(judged.filter((j) => j.ajv === "valid").length).toBeGreaterThanOrEqual(10);
    expect(judged.filter((j) => j.ajv === "invalid").length).toBeGreaterThanOrEqual(20);
  });

  it("agrees on manifests with astral characters counted as one character each, as JSON Schema counts them", () => {
    const validate = publishedValidator();
    for (const [description, valid] of [
      ["😀".repeat(1024), true],
      ["😀".repeat(1025), false],
    ] as const) {
      const text = aManifest({ description: JSON.stringify(description) });
      const read = parseYaml("m/demo/module.yaml", bytesOf(text));
      if (!read.ok) throw new Error("the fixture must parse");
      const cli = validateManifest({ file: "m/demo/module.yaml", dir: "m/demo", dirName: "demo", bytes: bytesOf(text) });
      expect(validate(read.parsed.value)).toBe(valid);
      expect(cli.problems.some((p) => isSchemaProblem(p.code))).toBe(!valid);
    }
  });

  it("agrees on thousands of random edits of the example manifests", () => {
    const validate = publishedValidator();
    const bases = ["modules", "examples/quickstart/modules"].flatMap((d) => manifestsUnder(path.join(REPO, d))).sort();
    // Edits that keep the YAML readable but move values across schema boundaries.
    const values = [
      "0",
      "1",
      "-1",
      "1.5",
      "86400",
      "86401",
      "1e400",
      ".nan",
      "true",
      "no",
      '""',
      '"x"',
      "[]",
      "{}",
      "null",
      "~",
      "running",
      "Module",
      "a-b",
      "A",
      "busybox",
      "busybox:latest",
      '"/abs"',
      '"rel"',
      '"${X}"',
      '"$"',
      '"😀"',
    ];
    const edit = fc.record({
      base: fc.constantFrom(...bases),
      line: fc.nat(),
      value: fc.constantFrom(...values),
      mode: fc.constantFrom("value", "drop", "add"),
    });
    let parsedCount = 0;
    fc.assert(
      fc.property(edit, ({ base, line, value, mode }) => {
        const lines = readFileSync(base, "utf8").split("\n");
        const i = line % lines.length;
        const l = lines[i] as string;
        if (mode === "drop") lines.splice(i, 1);
        else if (mode === "add") lines.splice(i, 0, `${l.match(/^\s*(?:- )?/)?.[0] ?? ""}extra_field: ${value}`);
        else lines[i] = l.replace(/:\s.*$/, `: ${value}`);
        const bytes = bytesOf(lines.join("\n"));
        const read = parseYaml(base, bytes);
        if (!read.ok) return;
        parsedCount++;
        const cli = validateManifest({ file: base, dir: path.dirname(base), dirName: path.basename(path.dirname(base)), bytes });
        expect(validate(read.parsed.value), `ajv on ${lines[i] ?? "(dropped)"}`).toBe(!cli.problems.some((p) => isSchemaProblem(p.code)));
      }),
      { numRuns: 1500, seed: 4_242_017 },
    );
    expect(parsedCount).toBeGreaterThan(500);
  });
});
