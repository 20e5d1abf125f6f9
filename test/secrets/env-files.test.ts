// Env files read at apply and health time: confined to the catalog's tree (symlinks resolved) or an allowed directory.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envFileDirs, moduleEnv, readEnvFiles } from "../../src/secrets/env-files.js";
import { aModule, aService } from "../helpers/plan-data.js";

let root: string;
let catalog: string;
let outside: string;

beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), "platformctl-env-files-")));
  catalog = path.join(root, "modules");
  outside = path.join(root, "host-secrets");
  await mkdir(path.join(catalog, "app"), { recursive: true });
  await mkdir(path.join(catalog, "shared"), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(catalog, "app/app.env"), "A=1\n");
  await writeFile(path.join(catalog, "shared/common.env"), "B=2\n");
  await writeFile(path.join(outside, "host.env"), "C=env-canary-77xq\n");
  await symlink(path.join(outside, "host.env"), path.join(catalog, "app/linked.env"));
});

afterAll(() => rm(root, { recursive: true, force: true }));

const read = (files: string[], allowed: string[] = []) => {
  const service = aService({ envFiles: files });
  return readEnvFiles(aModule({ name: "app", dir: path.join(catalog, "app"), services: [service] }), service, allowed);
};

describe("reading env files", () => {
  it("reads files of the module and of the catalog's tree", async () => {
    expect(await read(["app.env", "../shared/common.env"])).toEqual({ A: "1", B: "2" });
  });

  it("refuses a symbolic link that leads out of the catalog's tree, naming the file but no value", async () => {
    const err = await read(["linked.env"]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "apply.env_file" });
    expect(String((err as Error).message)).toContain("outside the catalog");
    expect(JSON.stringify({ m: (err as Error).message, h: (err as { hint?: string }).hint })).not.toContain("env-canary-77xq");
  });

  it("refuses an env file that is a FIFO instead of waiting for a writer forever", async () => {
    execFileSync("mkfifo", [path.join(catalog, "app/piped.env")]);
    const err = await read(["piped.env"]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "apply.env_file" });
    expect(String((err as Error).message)).toContain("cannot be read (not a regular file)");
  });

  it("reads an absolute file, or a link to one, under a directory the operator allowed", async () => {
    expect(await read([path.join(outside, "host.env")], [outside])).toEqual({ C: "env-canary-77xq" });
    expect(await read(["linked.env"], [outside])).toEqual({ C: "env-canary-77xq" });
    await expect(read([path.join(outside, "host.env")], [path.join(root, "elsewhere")])).rejects.toMatchObject({ code: "apply.env_file" });
  });
});

describe("PLATFORMCTL_ENV_FILE_DIRS", () => {
  it("lists absolute directories separated by colons; empty means none", () => {
    expect(envFileDirs({})).toEqual([]);
    expect(envFileDirs({ PLATFORMCTL_ENV_FILE_DIRS: "" })).toEqual([]);
    expect(envFileDirs({ PLATFORMCTL_ENV_FILE_DIRS: "/etc/platformctl/env:/run/secrets/" })).toEqual([
      "/etc/platformctl/env",
      "/run/secrets",
    ]);
  });

  it("refuses a relative directory with a clear error", () => {
    expect(() => envFileDirs({ PLATFORMCTL_ENV_FILE_DIRS: "/etc/ok:relative/dir" })).toThrow(/PLATFORMCTL_ENV_FILE_DIRS.*relative\/dir/);
  });
});

describe("the environment a module's references resolve against", () => {
  const compose = (envFile: string) => ({ files: ["../c.yaml"], services: ["app"], project: undefined, envFile, dependsOn: {} });

  it("adds a Compose module's env_file under the command's environment, which wins as in Compose", async () => {
    const m = aModule({ name: "app", dir: path.join(catalog, "app"), services: [], compose: compose("../shared/common.env") });
    expect(await moduleEnv(m, { B: "from-shell", D: "4", E: undefined })).toEqual({ B: "from-shell", D: "4" });
    expect(await moduleEnv(m, { D: "4" })).toEqual({ B: "2", D: "4" });
  });

  it("leaves a native module's environment as it is, and refuses an env_file outside the catalog", async () => {
    const env = { X: "1" };
    expect(await moduleEnv(aModule({ name: "app", dir: path.join(catalog, "app"), services: [] }), env)).toBe(env);
    const escaped = aModule({ name: "app", dir: path.join(catalog, "app"), services: [], compose: compose("linked.env") });
    const err = await moduleEnv(escaped, {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "apply.env_file" });
    expect(String((err as Error).message)).not.toContain("env-canary-77xq");
  });
});
