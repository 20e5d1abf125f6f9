// The manifest v1 contract: one zod definition from which the TypeScript types, the JSON Schema and its docs are derived.
import { z } from "zod";
import { BACKUP_METHODS, BACKUP_VERIFY, EXPECTED_STATES, PATTERNS, RESTART_POLICIES, STOP_SIGNALS } from "./vocabulary.js";

export { BACKUP_METHODS, BACKUP_VERIFY, EXPECTED_STATES, PATTERNS, RESTART_POLICIES, STOP_SIGNALS };

/**
 * A string whose length bounds count characters (code points), as JSON Schema's `minLength`/`maxLength` do;
 * zod's own `.min()`/`.max()` count UTF-16 units, so `"😀".repeat(600)` would pass ajv and fail here. The bounds
 * are published through `.meta` so the JSON Schema keeps them.
 */
const text = (bounds: { min?: number; max: number }) =>
  z
    .string()
    .check((ctx) => {
      const length = [...ctx.value].length;
      if (bounds.min !== undefined && length < bounds.min) {
        ctx.issues.push({ code: "too_small", origin: "string", minimum: bounds.min, inclusive: true, input: ctx.value });
      } else if (length > bounds.max) {
        ctx.issues.push({ code: "too_big", origin: "string", maximum: bounds.max, inclusive: true, input: ctx.value });
      }
    })
    .meta(bounds.min === undefined ? { maxLength: bounds.max } : { minLength: bounds.min, maxLength: bounds.max });

const interpolated = (what: string) =>
  z
    .string()
    .regex(PATTERNS.interpolated)
    .describe(`${what}. \`\${VAR}\`, \`\${VAR:-default}\` and \`\${VAR:?message}\` are resolved at apply time; \`$$\` is a literal \`$\`.`);

const stringOrList = (what: string) => z.union([interpolated(what), z.array(interpolated(what)).max(256)]);

export const ExpectedStateSchema = z
  .enum(EXPECTED_STATES)
  .describe(
    "`running`: the container keeps running. `healthy`: running and its healthcheck reports healthy. `exited-success`: a one-shot that must run once and exit 0; an exited-0 container is in sync and healthy.",
  );

const TimeoutSchema = z
  .number()
  .int()
  .min(1)
  .max(86400)
  .describe("Seconds, 1..86400: the bound for a one-shot's run or for waiting until a service is running/healthy.");

const EnvValueSchema = z.union([interpolated("Environment value"), z.number().refine(Number.isFinite, "must be a finite number")]);

export const EnvironmentSchema = z
  .union([z.record(z.string().regex(PATTERNS.envKey), EnvValueSchema), z.array(z.string().regex(PATTERNS.envListItem)).max(1024)])
  .describe(
    'Map `KEY: value` or Compose list form `["KEY=value"]`. Keys are variable names (`^[A-Za-z_][A-Za-z0-9_]*$`). Values that look secret must be `${VAR}` references (strict mode).',
  );

const VolumeLongSchema = z.strictObject({
  type: z.enum(["volume", "bind", "tmpfs"]).describe("`volume` (named volume), `bind` (host path) or `tmpfs`."),
  source: text({ min: 1, max: 4096 }).optional().describe("Volume name or host path; not used for tmpfs."),
  target: text({ max: 4096 }).regex(PATTERNS.absolutePath).describe("Absolute path inside the container."),
  read_only: z.boolean().optional().describe("Mount read-only."),
});

export const VolumeSchema = z
  .union([text({ max: 4096 }).regex(PATTERNS.volumeShort), VolumeLongSchema])
  .describe(
    "Compose short syntax `SOURCE:TARGET[:ro]` (SOURCE a volume name or a host path starting with `/`, `.` or `${...}`; `./` and `../` are relative to the module directory, as Compose resolves them against the project directory; `~` is refused, write `${HOME}/…`) or long syntax. Targets are absolute.",
  );

export const HealthcheckSchema = z
  .strictObject({
    test: z
      .union([z.string().min(1).regex(PATTERNS.interpolated), z.array(z.string().regex(PATTERNS.interpolated)).min(1)])
      .describe(
        '`["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]` or a shell string. Interpolated like `command` (as in Compose): `${VAR}` is resolved at apply time and `$$` is a literal `$`, so write `$$VAR` for a variable the container\'s shell expands.',
      ),
    interval: z.string().regex(PATTERNS.duration).optional().describe("Duration between probes, e.g. `10s`."),
    timeout: z.string().regex(PATTERNS.duration).optional().describe("Probe timeout, e.g. `5s`."),
    start_period: z.string().regex(PATTERNS.duration).optional().describe("Grace period during which failures do not count."),
    retries: z.number().int().min(1).max(100).optional().describe("Consecutive failures before `unhealthy`."),
  })
  .describe("Container healthcheck (Compose subset). Required for services expected `healthy`.");

const PortLongSchema = z.strictObject({
  target: z.number().int().min(1).max(65535).describe("Container port."),
  published: z.number().int().min(1).max(65535).optional().describe("Host port."),
  host_ip: text({ min: 1, max: 64 }).optional().describe("Host address to bind, e.g. `127.0.0.1`."),
  protocol: z.enum(["tcp", "udp", "sctp"]).optional().describe("Protocol, default tcp."),
});

export const ServiceSchema = z
  .strictObject({
    image: text({ max: 512 })
      .regex(PATTERNS.image)
      .describe("Image reference `[registry/]name[:tag][@sha256:digest]`; strict mode requires a tag other than `latest` or a digest."),
    entrypoint: stringOrList("Entrypoint")
      .optional()
      .describe("Overrides the image entrypoint. A string is one argument; use a list for several."),
    command: stringOrList("Command").optional().describe("Overrides the image command. A string is one argument; use a list for several."),
    environment: EnvironmentSchema.optional(),
    env_file: z
      .union([z.string().min(1), z.array(z.string().min(1)).max(16)])
      .optional()
      .describe(
        "Env files read at apply time, relative to the module directory and inside the catalog's directory tree (symbolic links resolved); an absolute path only under a directory listed in `PLATFORMCTL_ENV_FILE_DIRS`. Their values are treated as secrets.",
      ),
    restart: z
      .enum(RESTART_POLICIES)
      .optional()
      .describe(
        'Restart policy; default `"no"`. One-shots (`exited-success`) must use `"no"` (quote it: YAML 1.2 keeps `no` a string, but quoting is clearer).',
      ),
    networks: z
      .array(z.string().regex(PATTERNS.networkName))
      .max(32)
      .optional()
      .describe("Networks to attach; platformctl creates them with its labels."),
    volumes: z.array(VolumeSchema).max(64).optional(),
    healthcheck: HealthcheckSchema.optional(),
    labels: z
      .record(z.string().regex(PATTERNS.labelKey), text({ max: 4096 }))
      .optional()
      .describe("Extra container labels. The `dev.platformctl.` prefix is reserved."),
    user: text({ min: 1, max: 256 }).optional().describe("`user[:group]` to run as."),
    working_dir: text({ max: 4096 }).regex(PATTERNS.absolutePath).optional().describe("Absolute working directory."),
    ports: z
      .array(z.union([z.string().regex(PATTERNS.port), PortLongSchema]))
      .max(64)
      .optional()
      .describe("Published ports, Compose short (`127.0.0.1:8080:80/tcp`) or long syntax."),
    stop_grace_period: z
      .string()
      .regex(PATTERNS.duration)
      .optional()
      .describe(
        "Time every stop and recreate waits after the stop signal (`stop_signal`, default SIGTERM) before SIGKILL, e.g. `30s`; default 10s. Give a database long enough for its shutdown checkpoint.",
      ),
    stop_signal: z
      .enum(STOP_SIGNALS)
      .optional()
      .describe(
        "Signal every stop and recreate sends first (Compose's `stop_signal`); SIGKILL follows after `stop_grace_period`. Default: the image's STOPSIGNAL, else SIGTERM. Databases need their fast-shutdown signal: PostgreSQL `SIGINT` (on SIGTERM it waits for every client to disconnect, so one connected client means SIGKILL and crash recovery at the next start); MySQL and MariaDB `SIGTERM` (the default); MongoDB `SIGINT` or `SIGTERM`; Redis `SIGTERM`; nginx `SIGQUIT` for a graceful stop. A change recreates the container; the old container is stopped with the signal it was created with.",
      ),
    mem_limit: z.string().regex(PATTERNS.memory).optional().describe("Memory limit, e.g. `256m`."),
    expected_state: ExpectedStateSchema.optional().describe("Overrides the module's `spec.runtime.expected_state` for this service."),
    replicas: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe(
        "Tasks the service runs on the Swarm runtime (`PLATFORMCTL_RUNTIME=swarm`), spread over the nodes; default 1. Ignored by the Docker runtime (one container). Not for one-shots: a job runs once.",
      ),
  })
  .describe("One container, a Compose-like subset.");

/** Compose service names (compose-spec: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`). */
export const COMPOSE_SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export const ComposeSourceSchema = z
  .strictObject({
    files: z
      .array(text({ min: 1, max: 4096 }))
      .min(1)
      .max(16)
      .describe(
        "Compose files, relative to the module directory, merged in order as `docker compose -f a -f b` does (later files override; see Compose below).",
      ),
    services: z
      .array(z.string().regex(COMPOSE_SERVICE_NAME))
      .min(1)
      .max(64)
      .describe(
        "The services of those files this module owns; each must be defined in them. Naming a service enables it whatever its `profiles`.",
      ),
    project: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
      .optional()
      .describe("The Compose project name (as `docker compose -p`); default: platformctl's `--project`."),
    env_file: text({ min: 1, max: 4096 })
      .optional()
      .describe(
        "Interpolation source like Compose's `.env`, relative to the module directory; the environment of the command wins over it. Confined like a service `env_file`.",
      ),
  })
  .describe("Take the module's services from Compose files instead of `spec.services` (see Compose below).");

export const SmokeProbeSchema = z
  .strictObject({
    name: z.string().regex(PATTERNS.serviceName).describe("Probe name, unique in the module."),
    exec: z
      .strictObject({
        service: z.string().regex(PATTERNS.serviceName).describe("Service whose container runs the command."),
        command: z
          .array(z.string())
          .min(1)
          .max(256)
          .describe(
            "Command run inside the container, as written: no `${VAR}` interpolation and no `$$` unescaping (unlike a service's `command`), so a shell in it sees `$$` as its own PID; exit 0 passes.",
          ),
      })
      .optional(),
    http: z
      .strictObject({
        url: text({ max: 2048 })
          .regex(/^https?:\/\/[^\s]+$/)
          .describe("URL requested with GET."),
        expect_status: z.number().int().min(100).max(599).optional().describe("Expected status, default 200."),
      })
      .optional(),
    tcp: z
      .strictObject({
        host: text({ min: 1, max: 255 }).describe("Host to connect to."),
        port: z.number().int().min(1).max(65535).describe("Port to connect to."),
      })
      .optional(),
    command: z.array(z.string()).min(1).max(256).optional().describe("Command run on the host (argv, no shell); exit 0 passes."),
    timeout_seconds: z.number().int().min(1).max(3600).optional().describe("Bound for this probe, default 30."),
    remote: z.boolean().optional().describe("Reported `skipped` when `PLATFORMCTL_SMOKE_REMOTE_MODE=skip`."),
  })
  .describe("A smoke probe: exactly one of `exec`, `http`, `tcp`, `command`.");

export const BackupSchema = z
  .strictObject({
    method: z
      .enum(BACKUP_METHODS)
      .optional()
      .describe(
        "How `platformctl backup` copies the module's data. `stop`: stop the services (dependents first), copy the volumes, start them again and wait until they are healthy: consistent, with downtime (printed). `exec`: run `exec.command` in the running service; its stdout is the backup (e.g. `pg_dumpall`): consistent if the command is, no downtime. `archive`: copy the volumes while the services run: not consistent for databases. Default: `stop` for stateful modules, `archive` otherwise.",
      ),
    exec: z
      .strictObject({
        service: z
          .string()
          .regex(PATTERNS.serviceName)
          .describe("The service whose running container runs the commands; one of the module's services."),
        command: z
          .array(z.string())
          .min(1)
          .max(256)
          .describe("argv run inside the service (no shell added); its stdout, byte for byte, is the backup; a non-zero exit fails it."),
        restore_command: z
          .array(z.string())
          .min(1)
          .max(256)
          .describe("argv run inside the service by `platformctl restore`; it receives the backup on stdin."),
      })
      .optional()
      .describe("Required for `method: exec`, and only there."),
    verify: z
      .enum(BACKUP_VERIFY)
      .default("optional")
      .describe(
        "`required`: the gate accepts a backup of this module only after `platformctl restore --verify` proved it restores. Default `optional`.",
      ),
  })
  .describe("How the module's data is backed up and restored.");

export const ModuleSchema = z
  .strictObject({
    apiVersion: z.literal("platformctl/v1").describe("Always `platformctl/v1`."),
    kind: z.literal("Module").describe("Always `Module`."),
    metadata: z.strictObject({
      name: z.string().regex(PATTERNS.moduleName).describe("Module name, equal to its directory name."),
      description: text({ min: 1, max: 1024 }).optional().describe("What the module is for; required by strict mode."),
    }),
    spec: z
      .strictObject({
        stateful: z.boolean().default(false).describe("Stateful modules are guarded by the backup-ref policy rule."),
        backup_ref_modules: z
          .array(z.string().regex(PATTERNS.moduleName))
          .min(1)
          .max(32)
          .optional()
          .describe("Modules whose backup covers this one; default: the module itself."),
        depends_on: z
          .array(z.string().regex(PATTERNS.moduleName))
          .max(64)
          .default([])
          .describe("Modules of the same catalog that must be in sync and healthy first; no cycles."),
        runtime: z.strictObject({
          expected_state: ExpectedStateSchema,
          timeout_seconds: TimeoutSchema.default(300),
        }),
        services: z
          .record(z.string().regex(PATTERNS.serviceName), ServiceSchema)
          .check((ctx) => {
            if (Object.keys(ctx.value).length === 0)
              ctx.issues.push({ code: "too_small", origin: "object", minimum: 1, inclusive: true, input: ctx.value });
          })
          // A check does not reach the JSON Schema; the bound is published here so ajv and editors enforce it too.
          .meta({ minProperties: 1 })
          .describe("Map of service name to service; at least one. Exactly one of `services` and `compose` is given.")
          .optional(),
        compose: ComposeSourceSchema.optional(),
        smoke: z.array(SmokeProbeSchema).max(64).default([]).describe("Smoke probes run by `platformctl smoke`."),
        backup: BackupSchema.optional(),
        placement: z
          .strictObject({
            constraints: z
              .array(text({ min: 3, max: 512 }).regex(/^node\.[a-zA-Z0-9_.-]+\s*(==|!=)\s*\S+$/))
              .min(1)
              .max(16)
              .describe(
                "Swarm placement constraints of every service of the module, e.g. `node.hostname==db1` or `node.labels.platformctl.store==minio`. A stateful module needs one that pins it to one node (`node.hostname==…`, `node.id==…` or `node.labels.…==…`): a `local` volume on another node is an empty volume.",
              ),
          })
          .optional()
          .describe("Where the module's services may run on the Swarm runtime; ignored by the Docker runtime."),
      })
      .check((ctx) => {
        const both = ctx.value.services !== undefined && ctx.value.compose !== undefined;
        if (both || (ctx.value.services === undefined && ctx.value.compose === undefined))
          ctx.issues.push({
            code: "custom",
            path: both ? ["compose"] : [],
            message: both
              ? "spec.services and spec.compose are mutually exclusive: declare the services in module.yaml or take them from Compose files, not both"
              : "spec needs services (declared here) or compose (taken from Compose files)",
            input: ctx.value,
          });
      })
      // A check does not reach the JSON Schema; the rule is published here so ajv and editors enforce it too.
      .meta({ oneOf: [{ required: ["services"] }, { required: ["compose"] }] }),
  })
  .describe("A platformctl module manifest (modules/<name>/module.yaml).");

/** A manifest as written (defaults not applied). */
export type ModuleManifestInput = z.input<typeof ModuleSchema>;
/** A manifest after schema validation, defaults applied. */
export type ModuleManifest = z.output<typeof ModuleSchema>;
export type ServiceManifest = z.output<typeof ServiceSchema>;
export type SmokeProbe = z.output<typeof SmokeProbeSchema>;
export type ComposeSourceManifest = z.output<typeof ComposeSourceSchema>;
export type ExpectedState = (typeof EXPECTED_STATES)[number];
export type RestartPolicy = (typeof RESTART_POLICIES)[number];
export type BackupMethod = (typeof BACKUP_METHODS)[number];
export type BackupVerify = (typeof BACKUP_VERIFY)[number];
export type StopSignal = (typeof STOP_SIGNALS)[number];
