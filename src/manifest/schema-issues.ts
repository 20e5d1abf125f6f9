// Turns zod issues into located, user-facing problems: codes, plain messages, did-you-mean hints, and no secret values.
import { z } from "zod";
import { ModuleSchema, PATTERNS } from "./schema.js";
import type { Problem, ProblemCode } from "./problems.js";
import type { ParsedYaml } from "./parse-yaml.js";

type Issue = z.core.$ZodIssue;
type PathSeg = string | number;

/** Renders a field path the way the docs write it: `spec.services.web.volumes[0]`. */
export function formatPath(path: readonly PathSeg[]): string {
  return path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

/** Values shown back to the user only where they cannot be secrets: never under environment, command, entrypoint, labels or healthcheck. */
function isSensitivePath(path: readonly PathSeg[]): boolean {
  return path.some(
    (s) =>
      s === "environment" ||
      s === "command" ||
      s === "entrypoint" ||
      s === "labels" ||
      s === "healthcheck" ||
      s === "exec" ||
      s === "env_file",
  );
}

function valueAt(root: unknown, path: readonly PathSeg[]): unknown {
  let v: unknown = root;
  for (const s of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `a ${typeof v}`;
}

const YAML11_BOOLEANS = new Set([
  "yes",
  "no",
  "on",
  "off",
  "y",
  "n",
  "true",
  "false",
  "True",
  "False",
  "TRUE",
  "FALSE",
  "Yes",
  "No",
  "YES",
  "NO",
  "On",
  "Off",
  "ON",
  "OFF",
]);

function shown(v: unknown, path: readonly PathSeg[]): string {
  if (isSensitivePath(path)) return describeType(v);
  if (typeof v === "string") {
    const s = v.length > 40 ? `${v.slice(0, 40)}…` : v;
    return `${describeType(v)} ${JSON.stringify(s)}`;
  }
  if (typeof v === "number" || typeof v === "boolean") return `${describeType(v)} ${String(v)}`;
  return describeType(v);
}

/** Messages and codes for the schema's patterns, keyed by the regular expression itself. */
const PATTERN_TEXT = new Map<string, { code: ProblemCode; message: string; hint: string }>([
  [
    PATTERNS.moduleName.source,
    {
      code: "schema.pattern",
      message: "must be a module name: lower-case ASCII letters, digits and '-', starting with a letter, at most 63 characters",
      hint: "e.g. minio-init",
    },
  ],
  [
    PATTERNS.serviceName.source,
    {
      code: "schema.pattern",
      message: "must be a name of lower-case ASCII letters, digits, '-' and '_', starting with a letter, at most 63 characters",
      hint: "e.g. minio_init or minio-init",
    },
  ],
  [
    PATTERNS.image.source,
    {
      code: "image.invalid_reference",
      message: "is not a valid image reference",
      hint: "Write [registry/]name[:tag][@sha256:digest]; repository names are lower-case.",
    },
  ],
  [
    PATTERNS.envKey.source,
    {
      code: "env.invalid_key",
      message: "is not a valid environment variable name",
      hint: "Use letters, digits and '_', not starting with a digit.",
    },
  ],
  [
    PATTERNS.interpolated.source,
    {
      code: "env.invalid_reference",
      message: "holds a malformed ${...} reference or a lone '$'",
      hint: "Write ${VAR}, ${VAR:-default} or ${VAR:?message}; write $$ for a literal $.",
    },
  ],
  [
    PATTERNS.absolutePath.source,
    { code: "volume.relative_target", message: "must be an absolute path", hint: "Paths inside the container start with '/'." },
  ],
  [
    PATTERNS.volumeShort.source,
    {
      code: "volume.relative_target",
      message: "must be SOURCE:TARGET[:ro|:rw] with an absolute TARGET",
      hint: "e.g. minio-data:/data or /srv/app:/app:ro",
    },
  ],
  [
    PATTERNS.duration.source,
    { code: "schema.pattern", message: "must be a duration such as 10s, 1m30s or 500ms", hint: "Units: ns, us, ms, s, m, h." },
  ],
  [PATTERNS.memory.source, { code: "schema.pattern", message: "must be a size such as 256m or 1g", hint: "Units: b, k, m, g." }],
  [
    PATTERNS.port.source,
    { code: "schema.pattern", message: "must be a port mapping such as 8080:80 or 127.0.0.1:8080:80/tcp", hint: "Compose short syntax." },
  ],
  [
    PATTERNS.labelKey.source,
    {
      code: "schema.pattern",
      message: "must be a label key (letters, digits, '.', '_', '/', '-'); the dev.platformctl. prefix is reserved",
      hint: "Use your own prefix, e.g. org.example.team.",
    },
  ],
]);

let jsonSchemaCache: Record<string, unknown> | undefined;
function jsonSchema(): Record<string, unknown> {
  jsonSchemaCache ??= z.toJSONSchema(ModuleSchema, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
  return jsonSchemaCache;
}

/** The property names the schema allows for the object at `path` (used for did-you-mean hints). */
export function allowedKeysAt(path: readonly PathSeg[]): string[] {
  const candidates = (node: unknown): Record<string, unknown>[] => {
    if (!node || typeof node !== "object") return [];
    const n = node as Record<string, unknown>;
    const subs = [...((n.anyOf as unknown[]) ?? []), ...((n.oneOf as unknown[]) ?? [])];
    return [n, ...subs.flatMap(candidates)];
  };
  let nodes: Record<string, unknown>[] = candidates(jsonSchema());
  for (const seg of path) {
    const next: unknown[] = [];
    for (const n of nodes) {
      if (typeof seg === "number") next.push(n.items);
      else {
        const props = n.properties as Record<string, unknown> | undefined;
        if (props && seg in props) next.push(props[seg]);
        else if (n.additionalProperties && typeof n.additionalProperties === "object") next.push(n.additionalProperties);
      }
    }
    nodes = next.flatMap(candidates);
  }
  return [...new Set(nodes.flatMap((n) => Object.keys((n.properties as object) ?? {})))].sort();
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] as number;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = Math.min((dp[j] as number) + 1, (dp[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}

/** The closest allowed name, when it is close enough to be a likely typo. */
export function didYouMean(name: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(name.toLowerCase(), a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Picks the union branch that best explains the failure: the one whose issues go deepest and are not mere type mismatches. */
function bestBranch(branches: Issue[][], path: readonly PathSeg[]): Issue[] | undefined {
  let best: Issue[] | undefined;
  let bestScore = -1;
  for (const b of branches) {
    const typeOnly = b.every((i) => i.code === "invalid_type" && i.path.length === 0);
    const score = typeOnly ? 0 : 1 + Math.max(0, ...b.map((i) => i.path.length));
    if (score > bestScore) {
      bestScore = score;
      best = b;
    }
  }
  return bestScore > 0 ? best?.map((i) => ({ ...i, path: [...path, ...i.path] }) as Issue) : undefined;
}

/** Converts zod issues for one manifest into problems, with positions from the YAML source. */
export function issuesToProblems(file: string, issues: readonly Issue[], parsed: ParsedYaml): Problem[] {
  const out: Problem[] = [];
  const push = (path: readonly PathSeg[], code: ProblemCode, message: string, hint: string, atKey = false) => {
    const { line, column } = parsed.locate(path, atKey);
    out.push({ file, line, column, path: formatPath(path), code, message, hint });
  };
  const visit = (issue: Issue) => {
    const path = issue.path as PathSeg[];
    const value = valueAt(parsed.value, path);
    switch (issue.code) {
      case "unrecognized_keys": {
        const allowed = allowedKeysAt(path);
        for (const key of issue.keys) {
          const guess = didYouMean(key, allowed);
          push(
            [...path, key],
            "schema.unknown_field",
            `unknown field "${key}"`,
            guess ? `Did you mean "${guess}"?` : `Allowed fields here: ${allowed.join(", ")}.`,
            true,
          );
        }
        return;
      }
      case "invalid_union": {
        const branch = bestBranch(issue.errors as Issue[][], path);
        if (branch) {
          branch.forEach(visit);
          return;
        }
        const expected = [
          ...new Set(
            (issue.errors as Issue[][]).flatMap((b) => b.map((i) => (i.code === "invalid_type" ? typeName(String(i.expected)) : "value"))),
          ),
        ];
        push(
          path,
          value === undefined ? "schema.required" : "schema.type",
          value === undefined ? "is required" : `must be ${expected.map((e) => `a ${e}`).join(" or ")} (got ${shown(value, path)})`,
          typeHint(value),
        );
        return;
      }
      case "invalid_type": {
        if (value === undefined) {
          push(path, "schema.required", "is required", `Add "${String(path[path.length - 1] ?? "")}".`);
          return;
        }
        const expected = typeName(String(issue.expected));
        if (typeof value === "number" && Number.isNaN(value)) {
          push(path, "schema.type", `must be ${expected === "int" ? "an integer" : "a number"} (got .nan)`, "Write a number.");
          return;
        }
        if (typeof value === "number" && !Number.isFinite(value)) {
          // `1e400` and `.inf` read as Infinity: out of every range, so not a type mix-up.
          push(
            path,
            "schema.range",
            `must be a finite number (got ${value > 0 ? "" : "-"}infinity)`,
            "Use a value inside the documented range.",
          );
          return;
        }
        push(
          path,
          "schema.type",
          `must be ${expected === "int" ? "an integer" : `a ${expected}`} (got ${shown(value, path)})`,
          typeHint(value, expected),
        );
        return;
      }
      case "invalid_value": {
        if (value === undefined) {
          push(path, "schema.required", "is required", `Add "${String(path[path.length - 1] ?? "")}".`);
          return;
        }
        const allowed = issue.values.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
        // `INT`, `sigint`, `SigInt`: the signal meant, written without its prefix or in another case.
        const guess =
          typeof value === "string" && !isSensitivePath(path)
            ? allowed.find((a) => a.startsWith("SIG") && [a, a.slice(3)].includes(value.toUpperCase()))
            : undefined;
        push(
          path,
          "schema.enum",
          `must be ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(", ")}`} (got ${shown(value, path)})`,
          guess ? `Did you mean "${guess}"?` : `Use ${allowed.length === 1 ? allowed[0] : `one of: ${allowed.join(", ")}`}.`,
        );
        return;
      }
      case "invalid_format": {
        const raw = (issue as { pattern?: string }).pattern ?? "";
        const pattern = /^\/.*\/[a-z]*$/s.test(raw) ? raw.slice(1, raw.lastIndexOf("/")) : raw;
        if (pattern === PATTERNS.envListItem.source) {
          // Name whichever half is wrong; the value itself is never shown.
          const item = typeof value === "string" ? value : "";
          const eq = item.indexOf("=");
          if (eq < 0) push(path, "env.invalid_key", "must be KEY=value", "Write KEY=value, or use the mapping form.");
          else if (!PATTERNS.envKey.test(item.slice(0, eq)))
            push(
              path,
              "env.invalid_key",
              "the name before '=' is not a valid environment variable name",
              "Use letters, digits and '_', not starting with a digit.",
            );
          else
            push(
              path,
              "env.invalid_reference",
              `the value of ${item.slice(0, eq)} holds a malformed \${...} reference or a lone '$'`,
              "Write ${VAR}, ${VAR:-default} or ${VAR:?message}; write $$ for a literal $.",
            );
          return;
        }
        const text = PATTERN_TEXT.get(pattern);
        if (text) push(path, text.code, text.message, text.hint, text.code === "env.invalid_key");
        else push(path, "schema.pattern", `must match ${pattern}`, "See schema/module.schema.md.");
        return;
      }
      case "too_small":
      case "too_big": {
        const small = issue.code === "too_small";
        const bound = Number(small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum);
        const origin = issue.origin;
        if (origin === "number" || origin === "int") {
          const min = small ? bound : undefined;
          push(
            path,
            "schema.range",
            `must be ${small ? `at least ${min}` : `at most ${bound}`} (got ${shown(value, path)})`,
            "Use a value inside the documented range.",
          );
        } else {
          const unit = origin === "array" ? "items" : origin === "object" || origin === "record" ? "entries" : "characters";
          push(
            path,
            "schema.range",
            `must have ${small ? `at least ${bound}` : `at most ${bound}`} ${unit}`,
            "See schema/module.schema.md for limits.",
          );
        }
        return;
      }
      case "invalid_key": {
        for (const sub of issue.issues) visit({ ...sub, path: [...path, ...sub.path] } as Issue);
        return;
      }
      case "invalid_element": {
        for (const sub of issue.issues) visit({ ...sub, path: [...path, ...sub.path] } as Issue);
        return;
      }
      default: {
        // number checks such as NaN/Infinity arrive here as `custom` or `not_multiple_of`.
        const msg = issue.message && !isSensitivePath(path) ? issue.message : "is not valid here";
        push(path, path.at(-1) === "timeout_seconds" ? "schema.range" : "schema.invalid", msg, "See schema/module.schema.md.");
      }
    }
  };
  issues.forEach(visit);
  // A failed parse must never look like a pass.
  if (issues.length > 0 && out.length === 0)
    push([], "schema.invalid", "does not match the manifest schema", "See schema/module.schema.md.");
  return out;
}

function typeName(expected: string): string {
  return expected === "record" || expected === "object" ? "mapping" : expected === "array" ? "list" : expected;
}

function typeHint(value: unknown, expected?: string): string {
  if (typeof value === "string" && YAML11_BOOLEANS.has(value) && (expected === "boolean" || expected === undefined)) {
    return "Booleans are written true or false, unquoted (YAML 1.2: yes/no/on/off are strings).";
  }
  if (typeof value === "string" && expected === "number") return "Write the number without quotes.";
  if (typeof value === "string" && expected === "int") return "Write a whole number without quotes.";
  if (typeof value === "number" && expected === "int") return "Write a whole number.";
  if (typeof value === "boolean" && expected === "string") return "Quote the value if it is meant as text.";
  if (value === null) return "The field has no value; give it one or remove it.";
  return "See schema/module.schema.md.";
}
