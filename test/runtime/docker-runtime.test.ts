// The Docker engine adapter against the real engine: the Runtime contract, and its helper request bodies on exact output.
import { describe, expect, it } from "vitest";
import { dockerRuntime, helperBody } from "../../src/engine/docker-runtime.js";
import { volumeHelperBody } from "../../src/engine/volume-archive.js";
import { testEngine } from "../helpers/docker.js";
import { describeRuntimeContract } from "./runtime-contract.js";
import { TEST_IMAGE } from "../helpers/test-image.js";

describeRuntimeContract("the Docker engine adapter", () => ({ runtime: dockerRuntime(testEngine()), image: TEST_IMAGE }));

describe("Docker adapter request bodies", () => {
  it("builds a helper unit's create body: entrypoint from the command, project volumes by their runtime name, no restart", () => {
    expect(
      helperBody({
        project: "p",
        module: "minio",
        role: "backup",
        nonce: 7,
        image: "img:1",
        command: ["/bin/sh", "-c", "tar czf /out/x ."],
        mounts: [
          { type: "volume", volume: "minio-data", target: "/backup/volumes/minio-data", readOnly: true },
          { type: "bind", source: "/srv/backups", target: "/out", readOnly: false },
        ],
      }),
    ).toStrictEqual({
      Image: "img:1",
      Entrypoint: ["/bin/sh"],
      Cmd: ["-c", "tar czf /out/x ."],
      Labels: { "dev.platformctl.project": "p", "dev.platformctl.module": "minio", "dev.platformctl.service": "_backup" },
      HostConfig: {
        Mounts: [
          { Type: "volume", Source: "p_minio-data", Target: "/backup/volumes/minio-data", ReadOnly: true },
          { Type: "bind", Source: "/srv/backups", Target: "/out", ReadOnly: false },
        ],
        RestartPolicy: { Name: "no" },
      },
    });
  });

  it("builds the never-started volume helper's create body: the volume at /volume, no network, an entrypoint that is never run", () => {
    expect(volumeHelperBody("p", "minio", "p_minio-data", "img:1", true)).toStrictEqual({
      Image: "img:1",
      Entrypoint: ["/platformctl-volume-helper-is-never-started"],
      Labels: { "dev.platformctl.project": "p", "dev.platformctl.module": "minio", "dev.platformctl.service": "_volume" },
      HostConfig: {
        Mounts: [{ Type: "volume", Source: "p_minio-data", Target: "/volume", ReadOnly: true }],
        NetworkMode: "none",
        RestartPolicy: { Name: "no" },
      },
    });
  });
});
