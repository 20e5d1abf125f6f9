// Validation problems: the closed set of codes, what each means and how to fix it (the schema doc is generated from this).

/**
 * Every code a manifest problem can carry. Codes are stable: CI scripts and editors match on them.
 * `layer` says where the problem is found: `file` and `yaml` before the document is read, `schema` by the
 * published JSON Schema (ajv agrees), `semantic` by rules that need more than one field or file, `strict` only with --strict.
 */
export const PROBLEM_CODES = {
  "file.unreadable": { layer: "file", meaning: "The file or directory could not be read.", fix: "Check the path and its permissions." },
  "file.not_found": {
    layer: "file",
    meaning: "The path given does not exist or holds no module.yaml.",
    fix: "Pass a modules directory, a module directory or a module.yaml.",
  },
  "file.too_large": {
    layer: "file",
    meaning: "The manifest is larger than 256 KiB.",
    fix: "Manifests are small; split the module or remove generated content.",
  },
  "file.not_utf8": { layer: "file", meaning: "The file is not valid UTF-8.", fix: "Save the file as UTF-8." },
  "file.bad_character": {
    layer: "file",
    meaning: "A byte-order mark, NUL, control or bidirectional character is in the file.",
    fix: "Remove the character; save as UTF-8 without BOM.",
  },
  "file.symlink": {
    layer: "file",
    meaning: "The manifest is a symbolic link.",
    fix: "Commit the manifest itself inside the modules directory.",
  },
  "yaml.syntax": { layer: "yaml", meaning: "The file is not valid YAML.", fix: "Fix the syntax at the position shown." },
  "yaml.document_count": {
    layer: "yaml",
    meaning: "The file holds no YAML document, or more than one.",
    fix: "Keep exactly one document per module.yaml.",
  },
  "yaml.not_mapping": {
    layer: "yaml",
    meaning: "The document is not a mapping.",
    fix: "Start the file with `apiVersion: platformctl/v1`.",
  },
  "yaml.directive": {
    layer: "yaml",
    meaning: "A `%YAML` or `%TAG` directive is present.",
    fix: "Remove it: manifests are read with the YAML 1.2 core schema only.",
  },
  "yaml.duplicate_key": {
    layer: "yaml",
    meaning: 'A key appears twice in one mapping (`1` and `"1"` count as the same key).',
    fix: "Keep one of them.",
  },
  "yaml.non_scalar_key": { layer: "yaml", meaning: "A key is a list or mapping.", fix: "Use plain string keys." },
  "yaml.prototype_key": { layer: "yaml", meaning: "A `__proto__`, `constructor` or `prototype` key.", fix: "Remove it." },
  "yaml.merge_key": { layer: "yaml", meaning: "A YAML merge key `<<`.", fix: "Write the keys out; merges hide values from reviewers." },
  "yaml.tag": {
    layer: "yaml",
    meaning: "An explicit or custom tag such as `!!str` or `!env`.",
    fix: "Remove the tag; quote strings instead.",
  },
  "yaml.alias_limit": { layer: "yaml", meaning: "More than 8 aliases (`*name`).", fix: "Write the values out." },
  "yaml.too_deep": { layer: "yaml", meaning: "Nesting deeper than 64 levels.", fix: "Flatten the structure." },
  "yaml.too_many_keys": { layer: "yaml", meaning: "A mapping with more than 1000 keys.", fix: "Split the module." },
  "schema.required": { layer: "schema", meaning: "A required field is missing.", fix: "Add the field." },
  "schema.unknown_field": {
    layer: "schema",
    meaning: "A field that manifest v1 does not define (often a typo).",
    fix: "Use the suggested name or remove the field.",
  },
  "schema.type": {
    layer: "schema",
    meaning: 'A value of the wrong type (`stateful: yes` and `stateful: "true"` are strings, not booleans).',
    fix: "Write the type shown: booleans are `true`/`false`, numbers unquoted.",
  },
  "schema.enum": { layer: "schema", meaning: "A value outside the allowed set.", fix: "Use one of the values listed." },
  "schema.pattern": {
    layer: "schema",
    meaning: "A name or value does not match its pattern.",
    fix: "Follow the pattern shown (lower-case ASCII names).",
  },
  "schema.range": { layer: "schema", meaning: "A number or list outside its allowed range.", fix: "Use a value inside the range shown." },
  "schema.invalid": { layer: "schema", meaning: "A value the schema rejects for another reason.", fix: "See the message." },
  "image.invalid_reference": {
    layer: "schema",
    meaning: "The image is not a valid Docker reference.",
    fix: "Write `[registry/]name[:tag][@sha256:digest]` with a lower-case name.",
  },
  "env.invalid_key": {
    layer: "schema",
    meaning: "An environment key is not a valid variable name.",
    fix: "Use letters, digits and `_`, not starting with a digit.",
  },
  "env.invalid_reference": {
    layer: "schema",
    meaning: "A malformed `${...}` reference or a lone `$`.",
    fix: "Write `${VAR}`, `${VAR:-default}` or `${VAR:?message}`; write `$$` for a literal `$`.",
  },
  "volume.relative_target": {
    layer: "schema",
    meaning: "A volume target is not an absolute path.",
    fix: "Targets are paths inside the container and start with `/`.",
  },
  "volume.invalid": {
    layer: "semantic",
    meaning: "A volume whose source does not fit its type.",
    fix: "Named volumes match `^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`; bind sources start with `/`, `.` (`./`, `../`: relative to the module directory) or `${`; tmpfs has no source.",
  },
  "volume.home_path": {
    layer: "semantic",
    meaning:
      "A bind source starting with `~`: Compose would expand it to the home directory of whoever runs it, which differs between an operator's shell and the CI runner; platformctl does not expand it.",
    fix: "Write an absolute path, or `${HOME}/…` to mean the home directory of the apply's environment explicitly.",
  },
  "env_file.outside_catalog": {
    layer: "semantic",
    meaning:
      "An `env_file` outside the catalog's directory tree (`../` climbing out of the modules directory, a `~` path, or an absolute path in no directory the operator allowed): its values would be handed to a container.",
    fix: "Keep env files inside the modules directory (paths relative to the module directory), or list the file's directory in `PLATFORMCTL_ENV_FILE_DIRS` (absolute directories, `:`-separated) on the host that validates and applies.",
  },
  "module.name_mismatch": {
    layer: "semantic",
    meaning: "`metadata.name` differs from the module's directory name.",
    fix: "Rename one so both are equal.",
  },
  "module.duplicate_name": {
    layer: "semantic",
    meaning: "Two manifests declare the same module name.",
    fix: "Give each module its own name.",
  },
  "depends_on.unknown": {
    layer: "semantic",
    meaning: "`depends_on` names a module that is not in the catalog.",
    fix: "Add that module or remove the entry.",
  },
  "depends_on.cycle": { layer: "semantic", meaning: "`depends_on` forms a cycle.", fix: "Remove one edge of the cycle." },
  "backup_ref.unknown": {
    layer: "semantic",
    meaning: "`backup_ref_modules` names a module that is not in the catalog.",
    fix: "Name a module of this catalog.",
  },
  "oneshot.restart_policy": {
    layer: "semantic",
    meaning: 'A service expected `exited-success` has a restart policy other than `"no"`.',
    fix: 'Set `restart: "no"`: a restarting one-shot never settles.',
  },
  "env.duplicate_key": { layer: "semantic", meaning: "An environment key appears twice in list form.", fix: "Keep one." },
  "backup.exec_missing": {
    layer: "semantic",
    meaning: "`spec.backup.method` is `exec` but `spec.backup.exec` is not declared.",
    fix: "Declare `exec: {service, command, restore_command}` under spec.backup, or choose method stop or archive.",
  },
  "backup.exec_unused": {
    layer: "semantic",
    meaning: "`spec.backup.exec` is declared but the method is not `exec`: it would be ignored.",
    fix: "Set `method: exec`, or remove the `exec` block.",
  },
  "backup.exec_service": {
    layer: "semantic",
    meaning: "`spec.backup.exec.service` is not a long-running service of the module (unknown, or a one-shot).",
    fix: "Name a service of this module that keeps running (expected running or healthy).",
  },
  "smoke.kind": {
    layer: "semantic",
    meaning: "A smoke probe declares none or more than one of `exec`, `http`, `tcp`, `command`.",
    fix: "Declare exactly one.",
  },
  "smoke.unknown_service": {
    layer: "semantic",
    meaning: "An `exec` probe names a service the module does not declare.",
    fix: "Use one of the module's services.",
  },
  "smoke.duplicate_name": { layer: "semantic", meaning: "Two smoke probes share a name.", fix: "Rename one." },
  "strict.image_unpinned": {
    layer: "strict",
    meaning: "An image without a tag, or tagged `latest`.",
    fix: "Pin a version tag or a digest.",
  },
  "strict.secret_literal": {
    layer: "strict",
    meaning:
      "An environment key that looks secret (its name holds PASSWORD, PASSWD, PASSPHRASE, SECRET, TOKEN, KEY, CREDENTIAL, PRIVATE, COOKIE, SALT or DSN, or the part PW or PASS) holds a literal.",
    fix: "Use a `${VAR}` reference and provide the value at apply time.",
  },
  "strict.oneshot_restart_implicit": {
    layer: "strict",
    meaning: 'A one-shot service without an explicit `restart: "no"`.',
    fix: 'Add `restart: "no"`.',
  },
  "strict.description_missing": {
    layer: "strict",
    meaning: "The module has no `metadata.description`.",
    fix: "Say what the module is for.",
  },
  "strict.volume_two_writers": {
    layer: "strict",
    meaning:
      "A named volume is mounted read-write by services of two modules: two modules write one tree (and a stateless writer of a stateful module's volume is judged by the owner's gate).",
    fix: "Mount it read-only (`:ro`) in all modules but its owner, or give each module its own volume.",
  },
  "strict.healthcheck_missing": {
    layer: "strict",
    meaning: "A service expected `healthy` declares no healthcheck.",
    fix: "Add a `healthcheck`, or expect `running`.",
  },
  "compose.unsupported_field": {
    layer: "strict",
    meaning:
      "A Compose field outside the subset platformctl supports (see Compose in the module reference), or a volume/network definition it does not apply: a warning, an error with --strict (the compose-spec's strict mode).",
    fix: "Remove the field from the Compose file, or declare the service in module.yaml if it needs it.",
  },
  "compose.invalid": {
    layer: "semantic",
    meaning: "A Compose value platformctl cannot read or map onto its service model.",
    fix: "Change the value in the Compose file as the message says.",
  },
  "compose.interpolation": {
    layer: "semantic",
    meaning:
      "A Compose `${...}` that cannot be used: a required variable (`:?`, `?`) is unset, the syntax is malformed, a nested reference sits in a field kept for apply time, or a variable that looks secret is used in a field resolved when the module is read (it would appear in plans).",
    fix: "Set the variable (environment or `spec.compose.env_file`), fix the syntax, or move the secret into an environment value.",
  },
  "compose.unset_variable": {
    layer: "semantic",
    meaning: "A Compose `${VAR}` without a default whose variable is unset: it becomes an empty string, as in Compose (a warning).",
    fix: "Set the variable or give it a default (`${VAR:-default}`).",
  },
  "compose.extends": {
    layer: "semantic",
    meaning: "An `extends` names a service or file that is not there, or the chain loops.",
    fix: "Name a service defined in that file; extends chains must not loop.",
  },
  "compose.unknown_service": {
    layer: "semantic",
    meaning: "`spec.compose.services` names a service the Compose files do not define.",
    fix: "Use a service name from the files, or add the file that defines it.",
  },
  "compose.depends_on": {
    layer: "semantic",
    meaning:
      "A Compose `depends_on` names a service that no module in this module's `spec.depends_on` owns (platformctl orders modules, and starts a module only when the modules it depends on are in sync and healthy, which covers every Compose condition).",
    fix: "Add the owning module to `spec.depends_on`, or move the service into its own module.",
  },
  "runtime.ignored_field": {
    layer: "semantic",
    meaning:
      "A field the selected runtime does not use: the Docker runtime runs one container per service on one engine, so a service's `replicas` other than 1 (a Swarm field) runs one container there (a warning: one catalog may serve both runtimes). `spec.placement` is not warned about: one engine is one node.",
    fix: "Nothing, if the catalog also serves a Swarm (`--runtime swarm`); otherwise remove the field.",
  },
  "compose.file": {
    layer: "file",
    meaning:
      "A Compose file or `spec.compose.env_file` that cannot be read, is absent, is a symbolic link, or is outside where a module may read.",
    fix: "Check the path (relative to the module directory) and its permissions.",
  },
} as const satisfies Record<string, { layer: ProblemLayer; meaning: string; fix: string }>;

export type ProblemLayer = "file" | "yaml" | "schema" | "semantic" | "strict";
export type ProblemCode = keyof typeof PROBLEM_CODES;

/** One thing wrong with a manifest, located precisely. Messages never contain an environment value. */
export interface Problem {
  file: string;
  /** 1-based; 0 when the problem concerns the file as a whole. */
  line: number;
  /** 1-based; 0 when the problem concerns the file as a whole. */
  column: number;
  /** Field path such as `spec.services.minio-init.image`; empty for the whole file. */
  path: string;
  code: ProblemCode;
  message: string;
  hint: string;
}

/** The usual one-line rendering: `file:line:column path: message`. */
export function formatProblem(p: Problem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where} ${p.path ? `${p.path}: ` : ""}${p.message} [${p.code}]`;
}

/** Problems sorted by file, then position, then code, so output is stable. */
export function sortProblems(ps: readonly Problem[]): Problem[] {
  return [...ps].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      a.path.localeCompare(b.path) ||
      a.code.localeCompare(b.code),
  );
}
