// The quick-start catalog (examples/quickstart) on a real 3-node Swarm, step by step as scripts/quickstart.sh runs it on Docker.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/repo.js";
import { assertFreshBuild, runCli } from "../helpers/run-cli.js";
import { testProject } from "../helpers/run-id.js";

const run = promisify(execFile);
const SWARM = path.join(REPO, "scripts/swarm.sh");
const CATALOG = path.join(REPO, "examples/quickstart/modules");
const PASSWORD = "qs-swarm-canary-Vb93kq";

let dockerHost = "";
let manager: Docker;
let work = "";
let nodeHosts = "";

/** Brings the cluster up; a cluster that cannot form fails every test here (never skips). */
beforeAll(async () => {
  assertFreshBuild();
  work = mkdtempSync(path.join(tmpdir(), "pctl-swarm-qs-"));
  const { stdout } = await run("bash", [SWARM, "up"], { timeout: 600_000, maxBuffer: 1 << 20 });
  dockerHost = stdout.trim().split("\n").at(-1) ?? "";
  expect(dockerHost).toMatch(/^tcp:\/\/[0-9.]+\.11:2375$/);
  const u = new URL(dockerHost.replace("tcp://", "http://"));
  manager = new Docker({ host: u.hostname, port: Number(u.port), version: "v1.41" });
  const net = u.hostname.replace(/\.11$/, "");
  nodeHosts = [1, 2, 3].map((n) => `node${n}=tcp://${net}.${10 + n}:2375`).join(",");
}, 660_000);

/** Tears the whole cluster down, also when a test failed: containers, their volumes, the network. */
afterAll(async () => {
  await run("bash", [SWARM, "down"], { timeout: 120_000 });
  if (work) rmSync(work, { recursive: true, force: true });
}, 180_000);

interface Task {
  NodeID: string;
  Status: { State: string };
}

describe("the quick-start catalog on a 3-node Swarm", () => {
  it("validates, plans, applies (the stateful store by its guarded bootstrap, on the node labelled for it), is healthy, passes smoke and re-plans in sync", async () => {
    const project = testProject("swarm-qs");
    // The catalog pins the stateful store to the node labelled platformctl.store=minio: label node2.
    const node = manager.getNode("node2");
    const n = (await node.inspect()) as { ID: string; Version: { Index: number }; Spec: { Labels?: Record<string, string> } };
    await node.update({ version: n.Version.Index, ...n.Spec, Labels: { ...(n.Spec.Labels ?? {}), "platformctl.store": "minio" } });

    const env = {
      DOCKER_HOST: dockerHost,
      PLATFORMCTL_RUNTIME: "swarm",
      PLATFORMCTL_MODULES_DIR: CATALOG,
      PLATFORMCTL_PROJECT: project,
      STATE_DIR: path.join(work, "state"),
      PLATFORMCTL_SWARM_NODE_HOSTS: nodeHosts,
      PLATFORMCTL_SMOKE_REMOTE_MODE: undefined,
      MINIO_ROOT_USER: "quickstart",
      MINIO_ROOT_PASSWORD: PASSWORD,
    };
    const outputs: string[] = [];
    const pctl = async (args: string[]) => {
      const r = await runCli(args, env);
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    const ok = async (args: string[]) => {
      const r = await pctl(args);
      expect(r.code, `${args.join(" ")}\n${r.stdout}${r.stderr}`).toBe(0);
      return r;
    };

    await ok(["validate", "--strict"]);
    await ok(["plan"]);
    await ok(["apply", "--module", "migrate", "--module", "web"]);
    // Not yet created: drift, so the first creation of the stateful modules is the guarded bootstrap.
    expect((await pctl(["plan", "--module", "minio", "--module", "minio-init", "--detailed-exitcode"])).code).toBe(2);
    await ok(["apply", "--module", "minio", "--module", "minio-init", "--allow-stateful", "--confirm", "BACKUP_DONE_F3", "--bootstrap"]);
    await ok(["health"]);
    for (const m of ["migrate", "web", "minio", "minio-init"]) {
      const smoke = await ok(["smoke", m, "--json"]);
      expect((JSON.parse(smoke.stdout) as { probes: { status: string }[] }).probes.every((p) => p.status === "passed")).toBe(true);
    }
    await ok(["plan", "--detailed-exitcode"]);
    // A second run of the script's stateful step: in sync, so a plain apply with no inputs is a no-op.
    await ok(["apply", "--module", "minio", "--module", "minio-init"]);
    await ok(["plan", "--detailed-exitcode"]);

    // The store and its init job ran on the labelled node, so they share one minio-data volume.
    for (const service of [`${project}_minio_minio`, `${project}_minio-init_minio-init`]) {
      const tasks = (await manager.listTasks({ filters: { service: [service] } })) as Task[];
      expect(tasks.length, service).toBeGreaterThan(0);
      expect(new Set(tasks.map((t) => t.NodeID)), service).toEqual(new Set([n.ID]));
    }
    for (const text of outputs) expect(text).not.toContain(PASSWORD);
  });
});
