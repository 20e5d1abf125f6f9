// The bad-input catalogue as plain data: one broken catalog per rule and exactly the problems it must produce.
// bad-input.test.ts checks each verdict; contract.test.ts replays every case that parses as YAML through ajv.
import type { ProblemCode } from "../../src/manifest/problems.js";
import { CANARY, aManifest, at, bytesOf, edit, type Catalog } from "./a-manifest.js";

/** One expected problem; `module` defaults to the case's first module. */
export interface ExpectedProblem {
  module?: string;
  code: ProblemCode;
  line: number;
  column: number;
  path: string;
  /** Substrings the message must contain. */
  message?: string[];
  /** Substrings the hint must contain. */
  hint?: string[];
}

export interface BadCase {
  /** A sentence: the test name. */
  rule: string;
  /** Directory name -> manifest; the first module is the one under test. */
  catalog: Catalog;
  strict?: boolean;
  /** Every problem the catalog must produce, no more and no fewer. */
  problems: ExpectedProblem[];
}

const B = aManifest();
const demo = (text: string | Uint8Array): Catalog => ({ demo: text });
const whole = { line: 0, column: 0, path: "" };

/** `text` with `marker` replaced by raw bytes (for input that is not valid UTF-8). */
function withBytes(text: string, marker: string, raw: number[]): Uint8Array {
  const [before, after] = text.split(marker) as [string, string];
  return new Uint8Array([...bytesOf(before), ...raw, ...bytesOf(after)]);
}

/** A position `n` columns to the right. */
const right = (p: { line: number; column: number }, n: number) => ({ line: p.line, column: p.column + n });

/** 1-based line number of the line equal to `exact`. */
function lineEqual(text: string, exact: string): number {
  const i = text.split("\n").indexOf(exact);
  if (i < 0) throw new Error(`no line equal to ${JSON.stringify(exact)}`);
  return i + 1;
}

function fileCases(): BadCase[] {
  const big = `${B}# ${"x".repeat(300 * 1024)}\n`;
  return [
    {
      rule: "refuses a manifest larger than 256 KiB before parsing it and names its real size",
      catalog: demo(big),
      problems: [{ code: "file.too_large", ...whole, message: [String(bytesOf(big).byteLength), "262144"] }],
    },
    {
      rule: "refuses bytes that are not UTF-8 instead of replacing them",
      catalog: demo(withBytes(B, "A module", [0xc0, 0xaf])),
      problems: [{ code: "file.not_utf8", ...whole }],
    },
    {
      rule: "refuses a UTF-8 byte-order mark at the start of the file",
      catalog: demo(`\uFEFF${B}`),
      problems: [{ code: "file.bad_character", line: 1, column: 1, path: "", message: ["U+FEFF"] }],
    },
    ...[
      ["a NUL character inside a quoted value", "\u0000", "U+0000"],
      ["a C0 control character (BEL)", "\u0007", "U+0007"],
      ["a C1 control character", "\u009B", "U+009B"],
      ["a right-to-left override that reorders how the line displays", "\u202E", "U+202E"],
    ].map(([what, ch, cp]): BadCase => {
      const text = edit(B, "description: A module", `description: "A${ch}module`).replace("tests edit\n", 'tests edit"\n');
      return {
        rule: `refuses ${what} anywhere in the file`,
        catalog: demo(text),
        problems: [{ code: "file.bad_character", ...at(text, "description:", ch), path: "", message: [cp as string] }],
      };
    }),
  ];
}

function yamlCases(): BadCase[] {
  const twoDocs = `${B}---\n${B}`;
  const dupStateful = edit(B, "  stateful: false\n", "  stateful: true\n  stateful: false\n");
  const dupNumber = aManifest({ serviceExtra: ["labels:", "  1: one", '  "1": uno'] });
  const dupBool = aManifest({ serviceExtra: ["labels:", "  true: yes", '  "true": no'] });
  const directive = `%YAML 1.1\n---\n${edit(B, "stateful: false", "stateful: no")}`;
  const proto = aManifest({ specExtra: ["__proto__: {stateful: true}"] });
  const ctor = edit(B, "  name: demo\n", "  name: demo\n  constructor: x\n");
  const merge = aManifest({ serviceExtra: ["<<: *defaults"] }).replace(
    "kind: Module\n",
    "kind: Module\nx-defaults: &defaults\n  restart: always\n",
  );
  const envTag = edit(B, `GREETING: ${CANARY}`, "GREETING: !env HOME");
  const strTag = edit(B, "image: busybox:1.36", "image: !!str busybox:1.36");
  const aliases = aManifest({ environment: ["A0: &v hello", ...Array.from({ length: 9 }, (_, i) => `A${i + 1}: *v`)] });
  const bombLine = `x-b: &b [${Array(9).fill("*a").join(", ")}]`;
  const bomb = `${B}x-a: &a [${Array(9).fill("x").join(", ")}]\n${bombLine}\n${["c", "d", "e", "f", "g"].map((n, i) => `x-${n}: &${n} [${Array(9).fill(`*${"bcdef"[i]}`).join(", ")}]`).join("\n")}\n`;
  const flowDeep = aManifest({ serviceExtra: [`labels: ${"[".repeat(5000)}${"]".repeat(5000)}`] });
  const blockDeep = `${B}x-deep:\n${Array.from({ length: 70 }, (_, i) => `${" ".repeat(2 * (i + 1))}k:`).join("\n")} end\n`;
  const compactDeep = `${B}x-deep:\n  ${"- ".repeat(5000)}x\n`;
  const manyKeys = aManifest({ serviceExtra: [`labels: {${Array.from({ length: 20000 }, (_, i) => `l${i}: x`).join(", ")}}`] });
  const manyBlockKeys = `${B}${Array.from({ length: 20000 }, (_, i) => `x${i}: 1`).join("\n")}\n`;
  return [
    { rule: "refuses an empty file: it holds no YAML document", catalog: demo(""), problems: [{ code: "yaml.document_count", ...whole }] },
    {
      rule: "refuses a file of comments only: it holds no YAML document",
      catalog: demo("# nothing here\n"),
      problems: [{ code: "yaml.document_count", ...whole }],
    },
    {
      rule: "refuses two YAML documents in one file and points at the second",
      catalog: demo(twoDocs),
      problems: [{ code: "yaml.document_count", ...at(twoDocs, "---"), path: "", message: ["2 YAML documents"] }],
    },
    {
      rule: "refuses a document that is a list, not a mapping",
      catalog: demo("- apiVersion: platformctl/v1\n- kind: Module\n"),
      problems: [{ code: "yaml.not_mapping", line: 1, column: 1, path: "" }],
    },
    {
      rule: "refuses a document that is a single scalar, not a mapping",
      catalog: demo("platformctl/v1\n"),
      problems: [{ code: "yaml.not_mapping", line: 1, column: 1, path: "" }],
    },
    {
      rule: "refuses a key written twice, pointing at the second one",
      catalog: demo(dupStateful),
      problems: [
        { code: "yaml.duplicate_key", ...at(dupStateful, "stateful: false", "stateful"), path: "spec.stateful", message: ['"stateful"'] },
      ],
    },
    {
      rule: 'treats 1 and "1" as the same key, which the YAML library would silently merge',
      catalog: demo(dupNumber),
      problems: [{ code: "yaml.duplicate_key", ...at(dupNumber, '"1": uno', '"1"'), path: "spec.services.app.labels.1" }],
    },
    {
      rule: 'treats true and "true" as the same key',
      catalog: demo(dupBool),
      problems: [{ code: "yaml.duplicate_key", ...at(dupBool, '"true": no', '"true"'), path: "spec.services.app.labels.true" }],
    },
    {
      rule: "refuses a %YAML 1.1 directive, which would turn `no` into false",
      catalog: demo(directive),
      problems: [{ code: "yaml.directive", line: 1, column: 1, path: "" }],
    },
    {
      rule: "refuses a __proto__ key, which a later merge would turn into prototype pollution",
      catalog: demo(proto),
      problems: [{ code: "yaml.prototype_key", ...at(proto, "__proto__", "__proto__"), path: "spec.__proto__" }],
    },
    {
      rule: "refuses a constructor key",
      catalog: demo(ctor),
      problems: [{ code: "yaml.prototype_key", ...at(ctor, "constructor:", "constructor"), path: "metadata.constructor" }],
    },
    {
      rule: "refuses a merge key <<, which injects keys a reviewer does not see",
      catalog: demo(merge),
      problems: [{ code: "yaml.merge_key", ...at(merge, "<<: *defaults", "<<"), path: "spec.services.app.<<" }],
    },
    {
      rule: "refuses a custom tag such as !env and points at the tag",
      catalog: demo(envTag),
      problems: [
        { code: "yaml.tag", ...at(envTag, "GREETING: !env", "!env"), path: "spec.services.app.environment.GREETING", message: ["!env"] },
      ],
    },
    {
      rule: "refuses an explicit core tag such as !!str",
      catalog: demo(strTag),
      problems: [{ code: "yaml.tag", ...at(strTag, "image: !!str", "!!str"), path: "spec.services.app.image" }],
    },
    {
      rule: "refuses more than 8 aliases and points at the ninth",
      catalog: demo(aliases),
      problems: [{ code: "yaml.alias_limit", ...at(aliases, "A9: *v", "*v"), path: "spec.services.app.environment.A9" }],
    },
    {
      rule: "refuses an alias bomb before expanding it",
      catalog: demo(bomb),
      problems: [{ code: "yaml.alias_limit", line: lineEqual(bomb, bombLine), column: bombLine.lastIndexOf("*a") + 1, path: "x-b[8]" }],
    },
    {
      rule: "refuses 5000 levels of flow nesting without crashing, at the 65th bracket",
      catalog: demo(flowDeep),
      problems: [{ code: "yaml.too_deep", ...right(at(flowDeep, "labels: [[[", "["), 64), path: "" }],
    },
    {
      rule: "refuses block mappings nested deeper than 64 levels",
      catalog: demo(blockDeep),
      // The root mapping is level 1 and `x-deep:`'s mapping level 2, so level 65 is the mapping indented 2 * 64.
      problems: [
        {
          code: "yaml.too_deep",
          line: lineEqual(blockDeep, `${" ".repeat(2 * 64)}k:`),
          column: 2 * 64 + 1,
          path: `x-deep${".k".repeat(63)}`,
        },
      ],
    },
    {
      rule: "refuses 5000 compact block sequences on one line without crashing, at the 65th dash",
      catalog: demo(compactDeep),
      problems: [{ code: "yaml.too_deep", line: lineEqual(compactDeep, `  ${"- ".repeat(5000)}x`), column: 3 + 2 * 64, path: "" }],
    },
    {
      rule: "refuses a flow mapping of 20,000 keys before parsing it",
      catalog: demo(manyKeys),
      problems: [{ code: "yaml.too_many_keys", ...at(manyKeys, "labels: {", "{"), path: "", message: ["more than 1000 keys"] }],
    },
    {
      rule: "refuses a block mapping of 20,000 keys without the quadratic duplicate check",
      catalog: demo(manyBlockKeys),
      problems: [{ code: "yaml.too_many_keys", ...at(manyBlockKeys, "apiVersion:"), path: "", message: ["20004 keys"] }],
    },
  ];
}

function schemaCases(): BadCase[] {
  const typo = edit(B, "  stateful: false", "  statefull: false");
  const yes = aManifest({ stateful: "yes" });
  const no = aManifest({ stateful: "no" });
  const quoted = aManifest({ stateful: '"true"' });
  const names: [string, string, string, boolean][] = [
    ["`..`", "demo", '".."', true],
    ["a slash", "demo", "a/b", true],
    ["upper case", "Demo", "Demo", false],
    ["a Cyrillic look-alike letter", "minio-init", "minio-\u0456nit", true],
  ];
  const image = aManifest({ image: "BusyBox:1.36" });
  const envKey = aManifest({ environment: ["1BAD: x"] });
  const envListKey = aManifest({ environment: null, serviceExtra: ['environment: ["1BAD=x"]'] });
  const refs: [string, string][] = [
    ["an unclosed ${", "${GREETING"],
    ["a reference whose name starts with a digit", "${1GREETING}"],
    ["a lone $", "costs $5"],
    ["a $ at the end", "'costs 5$'"],
  ];
  const dollarHealthcheck = aManifest({ serviceExtra: ["healthcheck:", '  test: ["CMD-SHELL", "test -n \\"$PW\\""]'] });
  const shortTarget = aManifest({ serviceExtra: ['volumes: ["data:data"]'] });
  const longTarget = aManifest({ serviceExtra: ["volumes:", "  - {type: volume, source: data, target: data}"] });
  const timeouts: [string, ProblemCode, string][] = [
    ["0", "schema.range", "at least 1"],
    ["86401", "schema.range", "at most 86400"],
    ["1.5", "schema.type", "integer"],
    ["1e400", "schema.range", "finite"],
    ['"30"', "schema.type", "number"],
  ];
  const noServices = edit(B, B.slice(B.indexOf("  services:")), "  services: {}\n");
  const many = aManifest({ image: "BusyBox:1.36", expectedState: "sometimes", timeout: "0" }).replace(
    "  stateful: false",
    "  statefull: false",
  );
  return [
    {
      rule: "refuses an unknown field and suggests the field it was probably meant to be",
      catalog: demo(typo),
      problems: [
        { code: "schema.unknown_field", ...at(typo, "statefull", "statefull"), path: "spec.statefull", hint: ['Did you mean "stateful"?'] },
      ],
    },
    {
      rule: 'refuses stateful: yes, which YAML 1.2 reads as the string "yes"',
      catalog: demo(yes),
      problems: [
        {
          code: "schema.type",
          ...at(yes, "stateful: yes", "yes"),
          path: "spec.stateful",
          message: ["boolean", '"yes"'],
          hint: ["true or false"],
        },
      ],
    },
    {
      rule: "keeps stateful: no a string instead of turning it into false",
      catalog: demo(no),
      problems: [{ code: "schema.type", ...at(no, "stateful: no", "no"), path: "spec.stateful", message: ['"no"'] }],
    },
    {
      rule: 'refuses stateful: "true", a quoted string',
      catalog: demo(quoted),
      problems: [{ code: "schema.type", ...at(quoted, 'stateful: "true"', '"true"'), path: "spec.stateful", message: ["boolean"] }],
    },
    ...names.map(([what, dir, name, mismatch]): BadCase => {
      const text = aManifest({ name });
      const pos = at(text, "  name:", name);
      return {
        rule: `refuses a module name with ${what}${mismatch ? " (and says it differs from the directory)" : ""}`,
        catalog: { [dir]: text },
        problems: [
          { code: "schema.pattern", ...pos, path: "metadata.name", message: ["lower-case ASCII"] },
          ...(mismatch ? [{ code: "module.name_mismatch" as const, ...pos, path: "metadata.name", message: [`"${dir}"`] }] : []),
        ],
      };
    }),
    {
      rule: "refuses a metadata.name that differs from its directory name",
      catalog: { demo: aManifest({ name: "other" }) },
      problems: [
        {
          code: "module.name_mismatch",
          ...at(aManifest({ name: "other" }), "name: other", "other"),
          path: "metadata.name",
          message: ['"demo"', '"other"'],
        },
      ],
    },
    ...(
      [
        ["INT", 'Did you mean "SIGINT"?'],
        ["sigquit", 'Did you mean "SIGQUIT"?'],
        ["SIGSTOP", "one of: SIGABRT, SIGALRM,"],
        ["SIGFOO", "SIGTERM, SIGTRAP"],
      ] as const
    ).map(([value, hint]): BadCase => {
      const text = aManifest({ serviceExtra: [`stop_signal: ${value}`] });
      return {
        rule: `refuses stop_signal: ${value}, listing the signals it accepts`,
        catalog: demo(text),
        problems: [
          {
            code: "schema.enum",
            ...at(text, "stop_signal:", value),
            path: "spec.services.app.stop_signal",
            message: ["must be one of SIGABRT,", "SIGINT", `(got a string "${value}")`],
            hint: [hint],
          },
        ],
      };
    }),
    {
      rule: "refuses an image reference that is not a valid Docker reference",
      catalog: demo(image),
      problems: [{ code: "image.invalid_reference", ...at(image, "image:", "BusyBox"), path: "spec.services.app.image" }],
    },
    {
      rule: "refuses an environment key that is not a variable name and points at the key",
      catalog: demo(envKey),
      problems: [{ code: "env.invalid_key", ...at(envKey, "1BAD:", "1BAD"), path: "spec.services.app.environment.1BAD" }],
    },
    {
      rule: "refuses an environment key that is not a variable name in list form",
      catalog: demo(envListKey),
      problems: [{ code: "env.invalid_key", ...at(envListKey, "1BAD=x", '"1BAD'), path: "spec.services.app.environment[0]" }],
    },
    ...refs.map(([what, value]): BadCase => {
      const text = aManifest({ environment: [`GREETING: ${value}`] });
      return {
        rule: `refuses ${what} in an environment value`,
        catalog: demo(text),
        problems: [{ code: "env.invalid_reference", ...at(text, "GREETING:", value), path: "spec.services.app.environment.GREETING" }],
      };
    }),
    {
      rule: "refuses a lone $ in a healthcheck, which is interpolated like command (write $$ for the container's shell)",
      catalog: demo(dollarHealthcheck),
      problems: [
        { code: "env.invalid_reference", ...at(dollarHealthcheck, "test:", '"test -n'), path: "spec.services.app.healthcheck.test[1]" },
      ],
    },
    {
      rule: "refuses a relative volume target in short syntax",
      catalog: demo(shortTarget),
      problems: [{ code: "volume.relative_target", ...at(shortTarget, "volumes:", '"data:data"'), path: "spec.services.app.volumes[0]" }],
    },
    {
      rule: "refuses a relative volume target in long syntax",
      catalog: demo(longTarget),
      problems: [
        {
          code: "volume.relative_target",
          ...right(at(longTarget, "type: volume", "target: data"), "target: ".length),
          path: "spec.services.app.volumes[0].target",
        },
      ],
    },
    ...timeouts.map(([value, code, words]): BadCase => {
      const text = aManifest({ timeout: value });
      return {
        rule: `refuses timeout_seconds: ${value}`,
        catalog: demo(text),
        problems: [{ code, ...at(text, "timeout_seconds:", value), path: "spec.runtime.timeout_seconds", message: [words] }],
      };
    }),
    {
      rule: "refuses a module without any service",
      catalog: demo(noServices),
      problems: [{ code: "schema.range", ...at(noServices, "services: {}", "{}"), path: "spec.services", message: ["at least 1"] }],
    },
    {
      rule: "reports every schema problem of a file in one run, not just the first",
      catalog: demo(many),
      problems: [
        { code: "schema.unknown_field", ...at(many, "statefull", "statefull"), path: "spec.statefull" },
        {
          code: "schema.enum",
          ...at(many, "expected_state:", "sometimes"),
          path: "spec.runtime.expected_state",
          message: ["running, healthy, exited-success"],
        },
        { code: "schema.range", ...at(many, "timeout_seconds:", "0"), path: "spec.runtime.timeout_seconds" },
        { code: "image.invalid_reference", ...at(many, "image:", "BusyBox"), path: "spec.services.app.image" },
      ],
    },
  ];
}

function backupSchemaCases(): BadCase[] {
  const method = aManifest({ specExtra: ["backup: {method: snapshot}"] });
  const noRestore = aManifest({ specExtra: ["backup:", "  method: exec", '  exec: {service: app, command: ["dump"]}'] });
  const verify = aManifest({ specExtra: ["backup: {verify: always}"] });
  return [
    {
      rule: "refuses a backup method other than stop, exec and archive",
      catalog: demo(method),
      problems: [
        { code: "schema.enum", ...at(method, "backup:", "snapshot"), path: "spec.backup.method", message: ["stop, exec, archive"] },
      ],
    },
    {
      rule: "refuses a backup exec block without restore_command",
      catalog: demo(noRestore),
      problems: [{ code: "schema.required", ...at(noRestore, "exec:", "{"), path: "spec.backup.exec.restore_command" }],
    },
    {
      rule: "refuses backup verify other than required and optional",
      catalog: demo(verify),
      problems: [{ code: "schema.enum", ...at(verify, "backup:", "always"), path: "spec.backup.verify", message: ["required, optional"] }],
    },
  ];
}

function semanticCases(): BadCase[] {
  const ghost = aManifest({ dependsOn: "[ghost]" });
  const backup = aManifest({ backupRefModules: "[ghost]" });
  const a = aManifest({ name: "a", dependsOn: "[b]" });
  const self = aManifest({ name: "a", dependsOn: "[a]" });
  const oneshot = aManifest({ expectedState: "exited-success", restart: "always" });
  const twoKinds = aManifest({ smoke: ["- name: probe", "  tcp: {host: 127.0.0.1, port: 80}", '  command: ["true"]'] });
  const unknownService = aManifest({ smoke: ["- name: probe", '  exec: {service: db, command: ["true"]}'] });
  const dupProbe = aManifest({
    smoke: ["- name: probe", "  tcp: {host: 127.0.0.1, port: 80}", "- name: probe # again", "  tcp: {host: 127.0.0.1, port: 81}"],
  });
  const badVolume = aManifest({ serviceExtra: ['volumes: ["bad name!:/data"]'] });
  const badBind = aManifest({ serviceExtra: ["volumes:", "  - {type: bind, source: relative/dir, target: /data}"] });
  const homeShort = aManifest({ serviceExtra: ['volumes: ["~/data:/data"]'] });
  const homeLong = aManifest({ serviceExtra: ["volumes:", "  - {type: bind, source: ~/data, target: /data}"] });
  const envFileUp = aManifest({ serviceExtra: ["env_file: ../../../../../etc/passwd"] });
  const envFileAbsolute = aManifest({ serviceExtra: ["env_file: [./app.env, /etc/passwd]"] });
  const envFileHome = aManifest({ serviceExtra: ["env_file: ~/app.env"] });
  const execMissing = aManifest({ specExtra: ["backup: {method: exec, verify: required}"] });
  const execUnused = aManifest({
    stateful: "true",
    specExtra: ["backup:", "  method: stop", '  exec: {service: app, command: ["dump"], restore_command: ["load"]}'],
  });
  const execUnknown = aManifest({
    specExtra: ["backup:", "  method: exec", '  exec: {service: db, command: ["dump"], restore_command: ["load"]}'],
  });
  const execOneShot = aManifest({
    expectedState: "exited-success",
    restart: '"no"',
    specExtra: ["backup:", "  method: exec", '  exec: {service: app, command: ["dump"], restore_command: ["load"]}'],
  });
  const execDefaultedUnused = aManifest({ specExtra: ["backup:", '  exec: {service: app, command: ["dump"], restore_command: ["load"]}'] });
  return [
    {
      rule: "refuses backup method exec without the exec block that says what to run",
      catalog: demo(execMissing),
      problems: [
        { code: "backup.exec_missing", ...at(execMissing, "backup:", "exec"), path: "spec.backup.method", message: ["restore_command"] },
      ],
    },
    {
      rule: "refuses a backup exec block under method stop, where it would be ignored",
      catalog: demo(execUnused),
      problems: [{ code: "backup.exec_unused", ...at(execUnused, "exec:", "{"), path: "spec.backup.exec", message: ["method is stop"] }],
    },
    {
      rule: "refuses a backup exec block when the default method (archive, for a stateless module) is not exec",
      catalog: demo(execDefaultedUnused),
      problems: [
        { code: "backup.exec_unused", ...at(execDefaultedUnused, "exec:", "{"), path: "spec.backup.exec", message: ["method is archive"] },
      ],
    },
    {
      rule: "refuses a backup exec service the module does not declare",
      catalog: demo(execUnknown),
      problems: [{ code: "backup.exec_service", ...at(execUnknown, "exec:", "db"), path: "spec.backup.exec.service", message: ['"db"'] }],
    },
    {
      rule: "refuses a backup exec service that is a one-shot, which is not running to exec into",
      catalog: demo(execOneShot),
      problems: [
        { code: "backup.exec_service", ...at(execOneShot, "exec:", "app"), path: "spec.backup.exec.service", message: ["one-shot"] },
      ],
    },
    {
      rule: "refuses depends_on naming a module that is not in the catalog",
      catalog: demo(ghost),
      problems: [{ code: "depends_on.unknown", ...at(ghost, "depends_on:", "ghost"), path: "spec.depends_on[0]", message: ['"ghost"'] }],
    },
    {
      rule: "refuses backup_ref_modules naming a module that is not in the catalog",
      catalog: demo(backup),
      problems: [{ code: "backup_ref.unknown", ...at(backup, "backup_ref_modules:", "ghost"), path: "spec.backup_ref_modules[0]" }],
    },
    {
      rule: "refuses a depends_on cycle between two modules, reported once",
      catalog: { a, b: aManifest({ name: "b", dependsOn: "[a]" }) },
      problems: [
        { module: "a", code: "depends_on.cycle", ...at(a, "depends_on:", "["), path: "spec.depends_on", message: ["a -> b -> a"] },
      ],
    },
    {
      rule: "refuses a module that depends on itself",
      catalog: { a: self },
      problems: [{ module: "a", code: "depends_on.cycle", ...at(self, "depends_on:", "["), path: "spec.depends_on", message: ["a -> a"] }],
    },
    {
      rule: "refuses a one-shot (exited-success) with restart: always",
      catalog: demo(oneshot),
      problems: [{ code: "oneshot.restart_policy", ...at(oneshot, "restart:", "always"), path: "spec.services.app.restart" }],
    },
    {
      rule: "refuses a smoke probe that declares two kinds",
      catalog: demo(twoKinds),
      problems: [{ code: "smoke.kind", ...at(twoKinds, "- name: probe", "name"), path: "spec.smoke[0]", message: ["tcp, command"] }],
    },
    {
      rule: "refuses an exec smoke probe naming a service the module does not declare",
      catalog: demo(unknownService),
      problems: [{ code: "smoke.unknown_service", ...at(unknownService, "exec:", "db"), path: "spec.smoke[0].exec.service" }],
    },
    {
      rule: "refuses two smoke probes with the same name, pointing at the second",
      catalog: demo(dupProbe),
      problems: [{ code: "smoke.duplicate_name", ...at(dupProbe, "# again", "probe"), path: "spec.smoke[1].name", message: ['"probe"'] }],
    },
    {
      rule: "refuses a short-syntax volume whose source is neither a volume name nor a host path",
      catalog: demo(badVolume),
      problems: [{ code: "volume.invalid", ...at(badVolume, "volumes:", '"bad'), path: "spec.services.app.volumes[0]" }],
    },
    {
      rule: "refuses a bind mount whose source is not a host path",
      catalog: demo(badBind),
      problems: [{ code: "volume.invalid", ...at(badBind, "type: bind", "relative/dir"), path: "spec.services.app.volumes[0].source" }],
    },
    {
      rule: "refuses a short-syntax bind source starting with ~ instead of binding <module dir>/~",
      catalog: demo(homeShort),
      problems: [{ code: "volume.home_path", ...at(homeShort, "volumes:", '"~'), path: "spec.services.app.volumes[0]", hint: ["${HOME}"] }],
    },
    {
      rule: "refuses a long-syntax bind source starting with ~",
      catalog: demo(homeLong),
      problems: [{ code: "volume.home_path", ...at(homeLong, "type: bind", "~/data"), path: "spec.services.app.volumes[0].source" }],
    },
    {
      rule: "refuses an env_file that climbs out of the catalog's directory tree, also without --strict",
      catalog: demo(envFileUp),
      problems: [
        {
          code: "env_file.outside_catalog",
          ...at(envFileUp, "env_file:", "../"),
          path: "spec.services.app.env_file",
          message: ["../../../../../etc/passwd"],
        },
      ],
    },
    {
      rule: "refuses an absolute env_file unless PLATFORMCTL_ENV_FILE_DIRS allows its directory",
      catalog: demo(envFileAbsolute),
      problems: [
        {
          code: "env_file.outside_catalog",
          ...at(envFileAbsolute, "env_file:", "/etc/passwd"),
          path: "spec.services.app.env_file[1]",
          hint: ["PLATFORMCTL_ENV_FILE_DIRS"],
        },
      ],
    },
    {
      rule: "refuses an env_file starting with ~, which would name <module dir>/~",
      catalog: demo(envFileHome),
      problems: [
        { code: "env_file.outside_catalog", ...at(envFileHome, "env_file:", "~"), path: "spec.services.app.env_file", message: ["~"] },
      ],
    },
  ];
}

function strictCases(): BadCase[] {
  const untagged = aManifest({ image: "busybox" });
  const latest = aManifest({ image: "busybox:latest" });
  const secretKeys = ["DB_PASSWORD", "api_secret", "GithubToken", "SSH_KEY", "aws_credentials"];
  const secretDefault = aManifest({ environment: [`DB_PASSWORD: \${DB_PASSWORD:-${CANARY}}`] });
  const secretList = aManifest({ environment: null, serviceExtra: [`environment: ["API_TOKEN=${CANARY}"]`] });
  const oneshot = aManifest({ expectedState: "exited-success", restart: null });
  const noDescription = aManifest({ description: null });
  const healthy = aManifest({ expectedState: "healthy" });
  return [
    {
      rule: "refuses an untagged image in strict mode",
      catalog: demo(untagged),
      strict: true,
      problems: [
        { code: "strict.image_unpinned", ...at(untagged, "image:", "busybox"), path: "spec.services.app.image", message: ["no tag"] },
      ],
    },
    {
      rule: "refuses an image tagged latest in strict mode",
      catalog: demo(latest),
      strict: true,
      problems: [
        { code: "strict.image_unpinned", ...at(latest, "image:", "busybox"), path: "spec.services.app.image", message: ["latest"] },
      ],
    },
    ...secretKeys.map((key): BadCase => {
      const text = aManifest({ environment: [`${key}: ${CANARY}`] });
      return {
        rule: `refuses a literal value under the secret-looking key ${key} in strict mode, without printing it`,
        catalog: demo(text),
        strict: true,
        problems: [
          { code: "strict.secret_literal", ...at(text, `${key}:`, CANARY), path: `spec.services.app.environment.${key}`, message: [key] },
        ],
      };
    }),
    {
      rule: "refuses a secret-looking key in list form holding a literal, without printing it",
      catalog: demo(secretList),
      strict: true,
      problems: [
        {
          code: "strict.secret_literal",
          ...at(secretList, "API_TOKEN=", '"API_TOKEN'),
          path: "spec.services.app.environment[0]",
          message: ["API_TOKEN"],
        },
      ],
    },
    {
      rule: "refuses a ${VAR:-literal} default for a secret-looking key, since the default is a committed secret",
      catalog: demo(secretDefault),
      strict: true,
      problems: [
        { code: "strict.secret_literal", ...at(secretDefault, "DB_PASSWORD:", "${"), path: "spec.services.app.environment.DB_PASSWORD" },
      ],
    },
    {
      rule: "refuses a one-shot without an explicit restart in strict mode",
      catalog: demo(oneshot),
      strict: true,
      problems: [{ code: "strict.oneshot_restart_implicit", ...at(oneshot, "image:", "image"), path: "spec.services.app" }],
    },
    {
      rule: "refuses a module without a description in strict mode",
      catalog: demo(noDescription),
      strict: true,
      problems: [{ code: "strict.description_missing", ...at(noDescription, "name: demo", "name"), path: "metadata" }],
    },
    {
      rule: "refuses a service expected healthy without a healthcheck in strict mode",
      catalog: demo(healthy),
      strict: true,
      problems: [{ code: "strict.healthcheck_missing", ...at(healthy, "image:", "image"), path: "spec.services.app" }],
    },
  ];
}

/** Every bad-input case, grouped by the layer that must catch it. */
export const BAD_CASES: { layer: string; cases: BadCase[] }[] = [
  { layer: "file", cases: fileCases() },
  { layer: "yaml", cases: yamlCases() },
  { layer: "schema", cases: [...schemaCases(), ...backupSchemaCases()] },
  { layer: "semantic", cases: semanticCases() },
  { layer: "strict", cases: strictCases() },
];
