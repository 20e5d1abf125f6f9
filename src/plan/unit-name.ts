// The one place runtime units and project resources get their names; every runtime and every caller uses these.

/**
 * Name of the unit (a container on Docker) of one service. Project and module names cannot contain `_`, so the
 * name is unique per (project, module, service) and splits back at the first two underscores.
 */
export function unitName(project: string, module: string, service: string): string {
  return `${project}_${module}_${service}`;
}

/** Name of a project-scoped network or named volume declared as `name` in a manifest: `${project}_${name}`. */
export function resourceName(project: string, name: string): string {
  return `${project}_${name}`;
}

/**
 * Name a replacement unit is created under during a recreate, before the old unit goes and it is renamed to
 * `name`. A leftover of that name is a failed earlier recreate's and may be removed.
 */
export function replacementUnitName(name: string): string {
  return `${name}-next`;
}

/**
 * Name the replaced unit is kept under during a maintenance apply (stopped), until its successor is healthy (then it
 * is removed) or fails (then it is renamed back to `name` and started: the rollback). Never removed automatically
 * when found left over: it may be the only good copy.
 */
export function previousUnitName(name: string): string {
  return `${name}-previous`;
}

/** Name of a short-lived helper unit doing `role` (e.g. `backup`) for a module; `nonce` keeps parallel runs apart. */
export function helperUnitName(project: string, module: string, role: string, nonce: string | number): string {
  return `${project}_${module}_${role}-${nonce}`;
}

/**
 * The throwaway project a `restore --verify` runs under: `0verify-<nonce>-<project>`. A real project name starts with a
 * letter, so one starting with a digit is never a real project's; and it holds only what every runtime accepts in
 * every name (Swarm allows `[A-Za-z0-9_-]` in a service name and compares names case-insensitively, so neither `.` nor
 * upper case can mark it, and `_` would blur where the project ends in `<scratch>_<module>_<service>`). No resource of
 * it can be a real project's; `isScratchProject` is how cleanup recognises one by its project label. `nonce`: 1 to 16
 * characters of `[a-z0-9]`.
 */
export function scratchProjectName(project: string, nonce: string): string {
  return `0verify-${nonce}-${project}`;
}

const SCRATCH = /^0verify-[a-z0-9]{1,16}-([a-z][a-z0-9-]{0,39})$/;

/** True for a project name `scratchProjectName` made. */
export function isScratchProject(project: string): boolean {
  return SCRATCH.test(project);
}

/** The real project a scratch project was made for; undefined when `project` is not a scratch project. */
export function scratchOf(project: string): string | undefined {
  return SCRATCH.exec(project)?.[1];
}
