// Suite-wide setup: a per-run id for labels, an engine check that fails (never skips) without Docker, and cleanup
// of every container, volume and network this run created.
import Docker from "dockerode";
import { randomBytes } from "node:crypto";

const runId = `t${randomBytes(3).toString("hex")}`;

function docker(): Docker {
  return new Docker();
}

export async function setup(): Promise<void> {
  process.env.PLATFORMCTL_TEST_RUN = runId;
  try {
    await docker().ping();
  } catch (e) {
    throw new Error(
      `No Docker engine answers (${process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"}): engine tests cannot run. ` +
        "Run `bash scripts/setup.sh` (installs and starts dockerd) and try again.",
      { cause: e },
    );
  }
}

/** Removes everything labelled with a project of this run (projects used by tests start with the run id). */
export async function teardown(): Promise<void> {
  const d = docker();
  const mine = (labels: Record<string, string> | undefined) => (labels?.["dev.platformctl.project"] ?? "").startsWith(runId);
  const containers = await d.listContainers({ all: true, filters: { label: ["dev.platformctl.project"] } });
  await Promise.all(containers.filter((c) => mine(c.Labels)).map((c) => d.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const { Volumes } = await d.listVolumes({ filters: { label: ["dev.platformctl.project"] } });
  await Promise.all((Volumes ?? []).filter((v) => mine(v.Labels as Record<string, string>)).map((v) => d.getVolume(v.Name).remove().catch(() => undefined)));
  const networks = await d.listNetworks({ filters: { label: ["dev.platformctl.project"] } });
  await Promise.all(networks.filter((n) => mine(n.Labels)).map((n) => d.getNetwork(n.Id).remove().catch(() => undefined)));
}
