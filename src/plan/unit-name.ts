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
 * The throwaway project a `restore --verify` runs under: `<project>.verify-<nonce>`. A real project name cannot hold a
 * `.` (the CLI refuses it), so no resource of it (`<scratch>_…`) can be a real project's; `isScratchProject` is how
 * cleanup recognises one by its project label.
 */
export function scratchProjectName(project: string, nonce: string): string {
  return `${project}.verify-${nonce}`;
}

/** True for a project name `scratchProjectName` made. */
export function isScratchProject(project: string): boolean {
  return /^[a-z][a-z0-9-]{0,39}\.verify-[a-z0-9-]{1,40}$/.test(project);
}
