// `platformctl backup` of a module whose bind source is built from ${VAR}: the resolved path is a secret, never shown or stored.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCatalog, manifest } from "../helpers/platform.js";
import { testProject } from "../helpers/run-id.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

const CANARY = "bkp-canary-Zq7+Wm.r9";
let catalog: Awaited<ReturnType<typeof aCatalog>>;
let root: string;
let env: Record<string, string>;
const project = testProject("backup-secret");

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "platformctl-backup-secret-"));
  catalog = await aCatalog();
  await catalog.write(
    "binder",
    manifest("binder", {
      services: `    binder:\n      image: ${TEST_IMAGE}\n      command: ["sleep", "100"]\n      restart: "no"\n      volumes: ["${root}/data-\${BKP_SECRET}:/data"]\n`,
    }),
  );
  env = {
    STATE_DIR: path.join(root, "state"),
    PLATFORMCTL_BACKUP_DIR: path.join(root, "backups"),
    BKP_SECRET: CANARY,
    PLATFORMCTL_LOG_LEVEL: "debug",
  };
  await mkdir(env.PLATFORMCTL_BACKUP_DIR as string);
  await mkdir(path.join(root, `data-${CANARY}`));
  await writeFile(path.join(root, `data-${CANARY}`, "f"), "content\n");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await catalog.remove();
});

const backup = (args: string[] = [], more: Record<string, string> = {}) =>
  runCli(["backup", "binder", "--project", project, "--modules-dir", catalog.dir, ...args], { ...env, ...more });

/** The text of every file under `dir` (the archives gunzipped), so a canary anywhere in them is found. */
async function everything(dir: string): Promise<string> {
  let out = "";
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const bytes = await readFile(path.join(e.parentPath, e.name));
    out += e.name.endsWith(".gz") ? gunzipSync(bytes).toString("latin1") : bytes.toString("latin1");
  }
  return out;
}

describe("backup masks a bind source built from ${VAR}", () => {
  it("in its text and --json output, in the archive's manifest and catalog, and copies the directory all the same", async () => {
    const text = await backup();
    expect(text.code, text.stderr).toBe(0);
    const json = await backup(["--json"]);
    expect(json.code, json.stderr).toBe(0);
    expect(text.stderr).toContain(`${root}/data-***`);
    expect((JSON.parse(json.stdout) as { binds: string[] }).binds).toEqual([`${root}/data-***`]);
    const stored = (await everything(env.PLATFORMCTL_BACKUP_DIR as string)) + (await everything(env.STATE_DIR as string));
    expect(stored).toContain("content\n"); // the data itself was copied
    expect(stored).toContain(`${root}/data-***`);
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr, stored]) expect(out).not.toContain(CANARY);
  });

  it("in the error when the resolved directory is missing", async () => {
    const other = "bkp-other-Yt5+Qa.k2";
    const r = await backup([], { BKP_SECRET: other });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("data-***");
    expect(r.stdout + r.stderr).not.toContain(other);
  });
});
