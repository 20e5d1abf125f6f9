// The merged, interpolated view of multi-file fixtures equals what Debian's docker-compose 1.29.2 prints with `config`.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { composeModel, loadCompose } from "../../../src/manifest/compose/load-compose.js";
import type { ComposeService } from "../../../src/manifest/compose/compose-service.js";
import type { Problem } from "../../../src/manifest/problems.js";
import { REPO } from "../../helpers/repo.js";

/** The supported subset in one neutral shape, so two renderings of the same model compare equal. */
interface Neutral {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: { type: string; source: string | null; target: string; read_only: boolean }[];
  ports?: { target: number; published: number | null; host_ip: string | null; protocol: string }[];
  healthcheck?: Record<string, unknown>;
  networks?: string[];
  [field: string]: unknown;
}

/** Python's shlex.split, the splitter docker-compose v1 hands string commands to (an oracle independent of ours). */
const shlex = (text: string): string[] =>
  JSON.parse(
    execFileSync("python3", ["-c", "import json,shlex,sys; print(json.dumps(shlex.split(sys.argv[1])))", text], { encoding: "utf8" }),
  );

/** docker-compose writes `$` back as `$$` so its output can be read again; the model holds the literal. */
const unescapeDollars = (v: unknown): unknown =>
  typeof v === "string"
    ? v.replaceAll("$$", "$")
    : Array.isArray(v)
      ? v.map(unescapeDollars)
      : v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unescapeDollars(x)]))
        : v;

const sortBy = <T>(list: T[], key: (t: T) => string) => [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
const portKey = (p: { target: number; published: number | null; host_ip: string | null; protocol: string }) =>
  `${p.target}|${p.published}|${p.host_ip}|${p.protocol}`;

function fromDockerCompose(s: Record<string, unknown>): Neutral {
  const out: Neutral = { ...(unescapeDollars(s) as Record<string, unknown>) };
  for (const f of ["command", "entrypoint"] as const) if (typeof out[f] === "string") out[f] = shlex(out[f] as string);
  if (out.networks) out.networks = Object.keys(out.networks as object).sort();
  if (out.volumes)
    out.volumes = sortBy(
      (out.volumes as unknown[]).map((v) => {
        if (typeof v !== "string") {
          const l = v as Record<string, unknown>;
          return { type: String(l.type), source: (l.source as string) ?? null, target: String(l.target), read_only: l.read_only === true };
        }
        const [source, target, mode] = v.split(":") as [string, string, string | undefined];
        return { type: source.startsWith("/") ? "bind" : "volume", source, target, read_only: mode === "ro" };
      }),
      (v) => v.target,
    );
  if (out.ports)
    out.ports = sortBy(
      (out.ports as unknown[]).map((p) => {
        if (typeof p !== "string") {
          const l = p as Record<string, unknown>;
          return {
            target: Number(l.target),
            published: l.published === undefined ? null : Number(l.published),
            host_ip: (l.host_ip as string) ?? null,
            protocol: String(l.protocol ?? "tcp"),
          };
        }
        const m = /^(?:(.+):)?([0-9]+):([0-9]+)\/(tcp|udp|sctp)$/.exec(p) as RegExpExecArray;
        return { target: Number(m[3]), published: Number(m[2]), host_ip: m[1] ?? null, protocol: m[4] as string };
      }),
      portKey,
    );
  const hc = out.healthcheck as Record<string, unknown> | undefined;
  if (hc && typeof hc.test === "string") hc.test = ["CMD-SHELL", hc.test];
  return out;
}

function fromOurs(s: ComposeService): Neutral {
  const out: Neutral = {};
  for (const [k, v] of Object.entries(s)) if (v !== undefined) out[k] = v;
  if (s.networks) out.networks = [...s.networks].sort();
  if (s.volumes)
    out.volumes = sortBy(
      s.volumes.map((v) => ({ ...v, source: v.source === undefined ? null : v.type === "bind" ? path.resolve(REPO, v.source) : v.source })),
      (v) => v.target,
    );
  if (s.ports)
    out.ports = sortBy(
      s.ports.map((p) => ({ target: p.target, published: p.published ?? null, host_ip: p.host_ip ?? null, protocol: p.protocol })),
      portKey,
    );
  if (s.healthcheck?.disable) out.healthcheck = { test: ["NONE"] };
  // We keep env_file a reference (read at apply time: its values are secrets); docker-compose config inlines it,
  // under the service's own environment.
  if (s.env_file) {
    const fromFiles = Object.fromEntries(s.env_file.flatMap((f) => readEnvFile(path.join(REPO, f))));
    out.environment = { ...fromFiles, ...s.environment };
    delete out.env_file;
  }
  return out;
}

/** `docker-compose config` for the files, run in a clean environment with only the env file for interpolation. */
function dockerComposeConfig(
  dir: string,
  files: string[],
  envFile: string,
  profiles: string[] = [],
): Record<string, Record<string, unknown>> {
  const args = ["--env-file", envFile, ...profiles.flatMap((p) => ["--profile", p]), ...files.flatMap((f) => ["-f", f]), "config"];
  const out = execFileSync("docker-compose", args, { cwd: path.join(REPO, dir), encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
  return (YAML.parse(out) as { services: Record<string, Record<string, unknown>> }).services;
}

/** KEY=value lines of a plain env file (the fixtures use no quotes or exports). */
const readEnvFile = (file: string): [string, string][] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]);

/** Our config view of the same files, with the same env file as the only variables. */
function ours(dir: string, files: string[], envFile: string): Record<string, ComposeService> {
  const env = Object.fromEntries(readEnvFile(path.join(REPO, dir, envFile)));
  const paths = files.map((f) => path.posix.join(dir, f));
  const read = new Map<string, Uint8Array | Problem>();
  for (let round = 0; round < 4; round++) {
    for (const f of paths) if (!read.has(f)) read.set(f, readFileSync(path.join(REPO, f)));
    const r = loadCompose({ files: paths, read, env, view: "config" });
    if (r.kind === "needs") {
      for (const f of r.files) read.set(f, readFileSync(path.join(REPO, f)));
      continue;
    }
    expect(r.problems).toEqual([]);
    expect(r.unsupported).toEqual([]);
    return composeModel(r.services).services;
  }
  throw new Error("extends did not settle");
}

/** `profiles`: the profiles docker-compose is asked to enable (a module names its services, which enables them). */
const CASES: { name: string; dir: string; files: string[]; envFile: string; profiles?: string[] }[] = [
  {
    name: "the platform's base file (extends from another file, a string command, a relative bind)",
    dir: "test/fixtures/compose/platform/compose",
    files: ["compose.yaml"],
    envFile: "../modules/platform.env",
  },
  {
    name: "the platform's base and production files",
    dir: "test/fixtures/compose/platform/compose",
    files: ["compose.yaml", "compose.prod.yaml"],
    envFile: "../modules/platform.env",
  },
  {
    name: "every supported field in short and long forms, merged with an override file",
    dir: "test/fixtures/compose/merge",
    files: ["compose.yaml", "compose.override.yaml"],
    envFile: "fixture.env",
  },
  {
    name: "stop_signal, extends within one file (both forms), ${VAR?err}, a completed-successfully dependency, env_file, profiles and x- extensions",
    dir: "test/fixtures/compose/extends",
    files: ["compose.yaml"],
    envFile: "fixture.env",
    profiles: ["jobs"],
  },
];

describe("side by side with docker-compose config (v1.29.2)", () => {
  for (const c of CASES) {
    it(`renders ${c.name} as docker-compose does`, () => {
      const theirs = dockerComposeConfig(c.dir, c.files, c.envFile, c.profiles);
      const mine = ours(c.dir, c.files, c.envFile);
      expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
      for (const name of Object.keys(theirs))
        expect(fromOurs(mine[name] as ComposeService), name).toEqual(fromDockerCompose(theirs[name] as Record<string, unknown>));
    });
  }
});
