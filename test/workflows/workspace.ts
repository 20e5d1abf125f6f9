// One scenario's platform for workflow and runbook tests: a temp copy of the quick-start catalog, STATE_DIR, a backup root.
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { testProject } from "../helpers/run-id.js";
import { REPO } from "../helpers/repo.js";

/** The secret the scenarios run with; tests assert it never shows up in any output. */
export const PASSWORD = "wf-canary-Qz7pL2vX9";

export interface Workspace {
  project: string;
  root: string;
  modulesDir: string;
  stateDir: string;
  backupDir: string;
  /** The environment an operator's shell (or `cli()`) has on the controller host. */
  env: Record<string, string>;
  /** Repository variables the workflows read (`vars.*`). */
  vars: Record<string, string>;
  secrets: Record<string, string>;
  remove: () => Promise<void>;
}

export async function aWorkspace(label: string): Promise<Workspace> {
  const project = testProject(label);
  const root = await mkdtemp(path.join(tmpdir(), `platformctl-${label}-`));
  const modulesDir = path.join(root, "modules");
  const stateDir = path.join(root, "state");
  const backupDir = path.join(root, "backups");
  await cp(path.join(REPO, "examples/quickstart/modules"), modulesDir, { recursive: true });
  await mkdir(backupDir);
  const secrets = { MINIO_ROOT_USER: "admin", MINIO_ROOT_PASSWORD: PASSWORD };
  return {
    project,
    root,
    modulesDir,
    stateDir,
    backupDir,
    env: {
      PLATFORMCTL_PROJECT: project,
      PLATFORMCTL_MODULES_DIR: modulesDir,
      STATE_DIR: stateDir,
      PLATFORMCTL_BACKUP_DIR: backupDir,
      ...secrets,
    },
    vars: {
      PLATFORMCTL_PROJECT: project,
      PLATFORMCTL_MODULES_DIR: modulesDir,
      PLATFORMCTL_STATE_DIR: stateDir,
      PLATFORMCTL_BACKUP_DIR: backupDir,
    },
    secrets,
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** The runner's own environment: what a runner process inherits, nothing of the test's platformctl settings. */
export function runnerEnv(pathPrefix?: string): Record<string, string> {
  const keep = ["HOME", "USER", "LANG", "TMPDIR", "DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  env.PATH = [pathPrefix, process.env.PATH].filter(Boolean).join(":");
  return env;
}
