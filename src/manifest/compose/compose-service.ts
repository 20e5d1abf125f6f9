// The Compose service model after reading one file: short forms expanded, values interpolated, ready to merge.

/** Where a value was written. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface ComposeVolume {
  type: "volume" | "bind" | "tmpfs";
  /** Volume name, or a host path joined onto the directory relative paths resolve against; undefined for tmpfs/anonymous. */
  source: string | undefined;
  target: string;
  read_only: boolean;
}

export interface ComposePort {
  target: number;
  published: number | undefined;
  host_ip: string | undefined;
  protocol: "tcp" | "udp" | "sctp";
}

export interface ComposeHealthcheck {
  /** Docker form (`["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]`). */
  test?: string[];
  interval?: string;
  timeout?: string;
  start_period?: string;
  retries?: number;
  disable?: boolean;
}

/**
 * One service of the supported Compose subset, in the shape merging works on: list forms of `environment`, `labels`,
 * `networks` and `depends_on` are mappings, `volumes` and `ports` are parsed (merged by their unique keys), string
 * `command`/`entrypoint` are split into words. Values are interpolated already (per file, before merging, as the
 * spec says); in a module's view the fields resolved at apply time keep `${VAR}` references instead.
 */
export interface ComposeService {
  image?: string;
  /** `null`: the image's own; `[]`: overridden to empty. */
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string>;
  env_file?: string[];
  volumes?: ComposeVolume[];
  networks?: string[];
  ports?: ComposePort[];
  healthcheck?: ComposeHealthcheck;
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  labels?: Record<string, string>;
  user?: string;
  working_dir?: string;
  stop_signal?: string;
  stop_grace_period?: string;
  mem_limit?: string;
  profiles?: string[];
}

export type ComposeField = keyof ComposeService;

/** A service as one file writes it: its fields, what `!reset`/`!override` tag, `extends`, and where each field is. */
export interface ComposeServiceLayer {
  service: ComposeService;
  /** `field` or `field.key` (an entry of a mapping field) tagged `!reset`: removed from what the layer is merged onto. */
  resets: Set<string>;
  /** Fields tagged `!override`: replace instead of merging. */
  overrides: Set<string>;
  extends: { service: string; file: string | undefined; at: SourceLocation } | undefined;
  /** Where each field was last written (for problems found after merging). */
  origins: Partial<Record<ComposeField, SourceLocation>>;
  /** Where the service itself is declared. */
  at: SourceLocation;
}
