// scripts/engine.sh and test-all.sh in a temporary copy with a fake docker/dockerd on PATH (never the shared engine):
// an engine is stopped only by the command that started it.
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REPO } from "../helpers/repo.js";

/** Alive and not a zombie (a killed process may linger unreaped under this machine's init). */
function running(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
  } catch {
    return false;
  }
}

const checkouts: string[] = [];
afterEach(async () => {
  for (const dir of checkouts.splice(0)) {
    const pid = Number(await readFile(path.join(dir, "fake-dockerd.pid"), "utf8").catch(() => "0"));
    if (pid > 0 && running(pid)) process.kill(pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * A checkout holding copies of engine.sh and test-all.sh, a setup.sh that only ensures the engine, and a bin/ of fakes:
 * `dockerd` records its pid and sleeps; `docker info` answers while that process runs; `npm`/`npx` do nothing.
 */
async function aCheckout(): Promise<{
  dir: string;
  run: (script: string, args?: string[], env?: Record<string, string>) => Promise<{ code: number; stderr: string }>;
  dockerdPid: () => Promise<number>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), "platformctl-scripts-"));
  checkouts.push(dir);
  await mkdir(path.join(dir, "scripts"));
  await mkdir(path.join(dir, "bin"));
  for (const f of ["engine.sh", "test-all.sh"]) await copyFile(path.join(REPO, "scripts", f), path.join(dir, "scripts", f));
  await writeFile(
    path.join(dir, "scripts/setup.sh"),
    '#!/usr/bin/env bash\nset -euo pipefail\ncd "$(dirname "$0")/.."\nbash scripts/engine.sh ensure\n',
  );
  const up = path.join(dir, "fake-dockerd.pid");
  const fakes: Record<string, string> = {
    dockerd: `#!/bin/sh\necho $$ >'${up}'\nexec sleep 600\n`,
    docker: `#!/bin/sh\n[ "$1" = info ] && [ -f '${up}' ] && [ "$(cut -d' ' -f3 /proc/$(cat '${up}')/stat 2>/dev/null)" = S ]\n`,
    npm: "#!/bin/sh\nexit 0\n",
    npx: "#!/bin/sh\nexit 0\n",
  };
  for (const [name, text] of Object.entries(fakes)) {
    await writeFile(path.join(dir, "bin", name), text);
    await chmod(path.join(dir, "bin", name), 0o755);
  }
  const env = { PATH: `${path.join(dir, "bin")}:/usr/local/bin:/usr/bin:/bin`, HOME: dir };
  return {
    dir,
    run: (script, args = [], more = {}) =>
      new Promise((resolve) => {
        execFile("bash", [path.join(dir, "scripts", script), ...args], { env: { ...env, ...more }, cwd: dir }, (err, _stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr });
        });
      }),
    dockerdPid: async () => Number(await readFile(up, "utf8")),
  };
}

describe("scripts/engine.sh and test-all.sh", () => {
  it("leave running the engine a quick start started when test-all.sh runs afterwards in the same checkout", async () => {
    const c = await aCheckout();
    const quick = await c.run("engine.sh", ["ensure"]); // what quickstart.sh does (through setup.sh)
    expect(quick.code, quick.stderr).toBe(0);
    const pid = await c.dockerdPid();
    expect(running(pid)).toBe(true);
    const all = await c.run("test-all.sh");
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toContain("leaving the Docker engine running (this command did not start it)");
    expect(running(pid)).toBe(true);
  });

  it("stop the engine test-all.sh itself started once it is done", async () => {
    const c = await aCheckout();
    const all = await c.run("test-all.sh");
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toContain("stopping the dockerd this run started");
    expect(running(await c.dockerdPid())).toBe(false);
    expect(existsSync(path.join(c.dir, ".engine/started-by-platformctl"))).toBe(false);
  });

  it("stop-if-started stops the engine only for the token that started it", async () => {
    const c = await aCheckout();
    expect((await c.run("engine.sh", ["ensure"], { PLATFORMCTL_ENGINE_TOKEN: "run-a" })).code).toBe(0);
    const pid = await c.dockerdPid();
    expect(await readFile(path.join(c.dir, ".engine/started-by-platformctl"), "utf8")).toBe("run-a\n");
    for (const args of [["stop-if-started"], ["stop-if-started", "run-b"], ["stop-if-started", ""]]) {
      expect((await c.run("engine.sh", args)).code).toBe(0);
      expect(running(pid), args.join(" ")).toBe(true);
    }
    expect((await c.run("engine.sh", ["stop-if-started", "run-a"])).code).toBe(0);
    expect(running(pid)).toBe(false);
  });
});

describe("npm test", () => {
  it("builds dist/ first, since the CLI tests run the built CLI", async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe("npm run -s build");
    expect(pkg.scripts.build).toContain("tsc -p tsconfig.build.json");
  });
});
