// Derives the published JSON Schema and its field reference from the zod definition (committed files are checked against these).
import { z } from "zod";
import { ModuleSchema } from "./schema.js";
import { PROBLEM_CODES } from "./problems.js";

type Json = Record<string, unknown>;

/** The JSON Schema (draft 2020-12) for manifests as written, i.e. with defaults optional. */
export function moduleJsonSchema(): Json {
  const generated = z.toJSONSchema(ModuleSchema, { io: "input", target: "draft-2020-12" }) as Json;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://platformctl.dev/schema/module.schema.json",
    title: "platformctl module manifest v1",
    ...withoutKey(generated, "$schema"),
  };
}

function withoutKey(o: Json, key: string): Json {
  const { [key]: _drop, ...rest } = o;
  return rest;
}

function typeOf(node: Json): string {
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (Array.isArray(node.enum)) return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" \\| ");
  const alts = (node.anyOf ?? node.oneOf) as Json[] | undefined;
  if (alts) return alts.map(typeOf).join(" or ");
  const t = node.type;
  if (t === "array") return `list of ${typeOf((node.items as Json) ?? {})}`;
  if (t === "object") return node.properties ? "mapping" : `map of ${typeOf((node.additionalProperties as Json) ?? {})}`;
  if (t === "integer") {
    const range = node.minimum !== undefined || node.maximum !== undefined ? ` ${node.minimum ?? ""}..${node.maximum ?? ""}` : "";
    return `integer${range}`;
  }
  return String(t ?? "any");
}

function rows(node: Json, path: string, required: boolean, out: string[][]): void {
  const alts = ((node.anyOf ?? node.oneOf) as Json[] | undefined) ?? [];
  const desc = String(node.description ?? alts.map((a) => a.description).find(Boolean) ?? "")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, " ");
  const def = node.default !== undefined ? `\`${JSON.stringify(node.default)}\`` : "";
  if (path) out.push([`\`${path}\``, typeOf(node), required ? "yes" : "", def, desc]);
  const objects = [node, ...alts, ...alts.flatMap((a) => (a.type === "array" ? [a.items as Json] : []))].filter(
    (n) => n && n.type === "object",
  );
  if (node.type === "array" && node.items) objects.push(node.items as Json);
  for (const obj of objects) {
    const props = obj.properties as Record<string, Json> | undefined;
    const req = new Set((obj.required as string[]) ?? []);
    const prefix = obj === node.items || alts.some((a) => a.items === obj) ? `${path}[]` : path;
    if (props) for (const [k, v] of Object.entries(props)) rows(v, prefix ? `${prefix}.${k}` : k, req.has(k), out);
    else if (
      obj.additionalProperties &&
      typeof obj.additionalProperties === "object" &&
      (obj.additionalProperties as Json).type === "object"
    ) {
      rows(obj.additionalProperties as Json, `${prefix}.<name>`, false, out);
    }
  }
}

/** The field reference and the problem-code table, as Markdown. */
export function moduleSchemaMarkdown(): string {
  const schema = moduleJsonSchema();
  const table: string[][] = [];
  rows(schema, "", true, table);
  const seen = new Set<string>();
  const unique = table.filter((r) => {
    if (seen.has(r[0] as string)) return false;
    seen.add(r[0] as string);
    return true;
  });
  const lines = [
    "<!-- Generated from src/manifest/schema.ts by `npm run gen`; a test fails when this file is out of date. -->",
    "# Module manifest v1 reference",
    "",
    "One file per module at `modules/<name>/module.yaml`, read as YAML 1.2 (core schema) with the hardening described below.",
    "Editors validate with [`module.schema.json`](module.schema.json) (add `# yaml-language-server: $schema=../../schema/module.schema.json`);",
    "`platformctl validate [--strict]` applies the same schema plus the rules that need more than one field or file.",
    "",
    "## Fields",
    "",
    "| field | type | required | default | meaning |",
    "|---|---|---|---|---|",
    ...unique.map((r) => `| ${r.join(" | ")} |`),
    "",
    "## Interpolation",
    "",
    "Environment values, `command`, `entrypoint`, `healthcheck.test` and volume sources may reference the environment of the apply:",
    "`${VAR}` (must be set), `${VAR:-default}` (default when unset or empty), `${VAR-default}` (default when unset),",
    "`${VAR:?message}` / `${VAR?message}` (fail with the message). `$$` is a literal `$` (as in Compose), so a variable",
    'the container\'s shell should expand is written `$$VAR` (`test: ["CMD-SHELL", "pg_isready -U $$POSTGRES_USER"]`).',
    "A lone `$` or a malformed `${...}` is an error. Resolved values are treated as secrets: they never appear in",
    "plans, labels, logs or errors. An unset `${VAR}` without a default fails the apply instead of becoming empty.",
    "",
    "## Compose",
    "",
    "A module may take its services from Docker Compose files instead of `spec.services` (never both): `spec.compose.files`",
    "(relative to the module directory) are merged in order like `docker compose -f a -f b`, and `spec.compose.services`",
    "names the services this module owns. `stateful`, `runtime`, `depends_on`, `backup_ref_modules` and `smoke` stay in",
    "module.yaml. The owned services become the same services a native manifest declares, so plan, apply and health",
    "treat them alike (units are named and labelled as native ones; adopting containers Compose created is not done yet).",
    "",
    "- **Supported subset**: `image`, `command` and `entrypoint` (lists, or strings split into words as POSIX shells and",
    "  `shlex.split` do), `environment` (map or `KEY=value` list; a bare `KEY` becomes the reference `${KEY}`), `env_file`,",
    "  `volumes` (short and long; `volume`, `bind`, `tmpfs`; modes `ro`/`rw`), `networks` (list or map without options;",
    "  none means Compose's `default` network), `ports` (short and long, no ranges), `healthcheck` (`test`, `interval`,",
    "  `timeout`, `start_period`, `retries`, `disable`), `restart` (`no`, `always`, `unless-stopped`, `on-failure`),",
    "  `depends_on` (short, or long with `condition`), `labels`, `user`, `working_dir`, `stop_grace_period`, `mem_limit`,",
    "  `profiles`, `extends` (same file or `file:`, relative to the file holding it). `x-` fields are ignored; YAML",
    "  anchors and merge keys `<<` are allowed in Compose files. Any other field, and options of top-level `volumes`/",
    "  `networks` (platformctl creates them with its own names), is a warning (`compose.unsupported_field`), an error with",
    "  `--strict` (the compose-spec's strict mode). `stop_signal` is refused until the service model carries it; a value",
    "  the model cannot carry (`restart: on-failure:3`, a port range, a fractional duration) is an error, never dropped.",
    "- **Merging** (compose-spec `13-merge.md`): mappings merge by key, later files win (`environment`, `labels`,",
    "  `healthcheck`, `depends_on`); `volumes` merge by target and `ports` by {ip, target, published, protocol};",
    "  `command`, `entrypoint` and `healthcheck.test` are replaced; `env_file` appends; `networks` and `profiles` append",
    "  without duplicates; scalars are replaced. `!reset` removes a field (or one entry of a mapping); `!override` replaces",
    "  a field instead of merging. `extends` merges the referenced service first and the extending one over it.",
    "- **Interpolation**: `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}` and `$$`,",
    "  per file before merging, from the command's environment over `spec.compose.env_file` (like Compose's `.env`; confined",
    "  like a service `env_file`). Secrets stay references exactly as in native manifests: environment values, `command`,",
    "  `entrypoint`, `healthcheck.test` and bind sources keep their `${VAR}` and are resolved at apply time (with the same",
    "  env_file); every other field is resolved when the module is read, may not name a variable that looks secret",
    "  (`compose.interpolation`), and an unset variable there becomes empty with a warning, as in Compose.",
    "- **Paths**: relative bind sources and `env_file`s resolve against the first file's directory (Compose's project",
    "  directory) and are then rewritten relative to the module directory; the confinement rules below apply to them.",
    "- **Order**: a Compose `depends_on` must name a service owned by a module in `spec.depends_on` (`compose.depends_on`),",
    "  whose readiness (in sync and healthy, exited 0 for one-shots) covers every Compose `condition`.",
    "- Naming a service in `spec.compose.services` enables it whatever its `profiles`, as `docker compose up SERVICE` does.",
    "",
    "## Paths",
    "",
    "- **Bind sources** starting with `/` are host paths; starting with `.` (`./data`, `../shared`, `.`) they are relative",
    "  to the module directory, as Compose resolves them against the project directory. A source starting with `~` is",
    "  refused (`volume.home_path`): Compose expands it to the home directory of whoever runs it, which differs between",
    "  an operator's shell and the CI runner; write an absolute path, or `${HOME}/…` to say so explicitly.",
    "- **`env_file`** paths are relative to the module directory and must stay inside the catalog's directory tree (the",
    "  modules directory): `../shared/common.env` is fine, `../../../etc/passwd` and `~/x.env` are refused",
    "  (`env_file.outside_catalog`). An absolute path is accepted only under a directory the operator lists in",
    "  `PLATFORMCTL_ENV_FILE_DIRS` (absolute directories separated by `:`, set on the host that validates and applies;",
    "  a manifest cannot grant it to itself). Apply and health re-check the real path with symbolic links resolved.",
    "",
    "## Reading rules (always on)",
    "",
    "A manifest is refused when it is larger than 256 KiB, is not UTF-8, contains NUL/control/bidi characters or a BOM,",
    'holds other than exactly one YAML document or a document that is not a mapping, has duplicate keys (`1` and `"1"`',
    "are the same key), a `%YAML`/`%TAG` directive, a `__proto__`/`constructor`/`prototype` key, a merge key `<<`,",
    "any explicit tag, more than 8 aliases, nesting deeper than 64 levels, or more than 1000 keys in one mapping.",
    "Types follow the YAML 1.2 core schema: `yes`, `no`, `on`, `off` are strings, so `stateful: yes` is an error.",
    "",
    "## Problem codes",
    "",
    "Every problem is reported as `file:line:column field.path: message [code]` with a hint; `--json` gives",
    '`{"valid", "modules", "errors": [{"file","line","column","path","code","message","hint"}], "warnings": [same shape]}`;',
    "warnings (unsupported Compose fields without `--strict`, unset Compose variables) never make a catalog invalid.",
    "The layer says who finds it: `file`/`yaml` before the document is read, `schema` also by ajv with the published",
    "JSON Schema, `semantic` only by platformctl, `strict` only with `--strict`.",
    "",
    "| code | layer | meaning | fix |",
    "|---|---|---|---|",
    ...Object.entries(PROBLEM_CODES).map(
      ([code, d]) => `| \`${code}\` | ${d.layer} | ${d.meaning.replace(/\|/g, "\\|")} | ${d.fix.replace(/\|/g, "\\|")} |`,
    ),
    "",
  ];
  return lines.join("\n");
}
