// mountWarnings on plain facts, and the mountinfo reading the facts are built from.
import { describe, expect, it } from "vitest";
import {
  mountSeverity,
  mountWarnings,
  type DeclaredBind,
  type DeclaredVolume,
  type MountFacts,
  type NestedMountFact,
} from "../../src/health/mount-sanity.js";
import { deviceAt, makeDev, parseMountinfo } from "../../src/runtime/mountinfo.js";

function aBind(over: Partial<DeclaredBind> = {}): DeclaredBind {
  return { module: "app", service: "app", source: "/data/app", target: "/data", readOnly: false, sourceExists: true, ...over };
}

function aNested(over: Partial<NestedMountFact> = {}): NestedMountFact {
  return {
    module: "app",
    service: "app",
    container: "p_app_app",
    bindSource: "/data",
    bindTarget: "/data",
    bindReadOnly: false,
    hostPath: "/data/state",
    containerPath: "/data/state",
    fsType: "ext4",
    hostDev: 2081,
    containerDev: 2081,
    probeError: undefined,
    ...over,
  };
}

function facts(over: Partial<MountFacts> = {}): MountFacts {
  return { binds: [], nested: [], stateDir: "/var/lib/platformctl/state", modules: ["app", "db"], ...over };
}

const codes = (f: MountFacts) => mountWarnings(f).map((w) => w.code);

describe("mountWarnings", () => {
  it("finds nothing wrong in a flat layout", () => {
    const f = facts({
      binds: [aBind({ source: "/data" }), aBind({ module: "db", service: "db", source: "/data-state", target: "/data-state" })],
      nested: [aNested({ hostPath: "/data", containerPath: "/data" })],
      stateDir: "/srv/platformctl",
    });
    expect(mountWarnings(f)).toEqual([]);
  });

  it("reports a bind source missing on the host, with the mkdir to run", () => {
    const [w] = mountWarnings(facts({ binds: [aBind({ source: "/srv/gone", sourceExists: false })] }));
    expect(w).toMatchObject({ code: "bind.source_missing", module: "app", service: "app", path: "/srv/gone" });
    expect(w?.message).toBe("app/app: bind source /srv/gone (-> /data) does not exist on the host");
    expect(w?.remedy).toContain("mkdir -p /srv/gone");
  });

  it("does not report a source it could not check (remote engine), but says the checks were skipped", () => {
    const ws = mountWarnings(facts({ binds: [aBind({ sourceExists: undefined })], remoteEndpoint: "tcp://10.0.0.5:2376 (TLS)" }));
    expect(ws.map((w) => w.code)).toEqual(["mount.not_checked"]);
    expect(ws[0]?.message).toContain("tcp://10.0.0.5:2376");
  });

  it("reports a nested mount the container does not see as shadowed, with restart, remount and flat-layout remedies", () => {
    const [w] = mountWarnings(facts({ nested: [aNested({ fsType: "tmpfs", hostDev: 72, containerDev: 2049 })] }));
    expect(w).toMatchObject({ code: "mount.shadowed", module: "app", path: "/data/state" });
    expect(w?.message).toContain("does not see it at /data/state");
    expect(w?.message).toContain("reads and writes the directory hidden underneath");
    expect(w?.remedy).toContain("docker restart p_app_app");
    expect(w?.remedy).toContain("remount");
    expect(w?.remedy).toContain("flat layout");
  });

  it("says a read-only shadowed bind reads (not writes) the hidden directory", () => {
    const [w] = mountWarnings(facts({ nested: [aNested({ bindReadOnly: true, containerDev: 1 })] }));
    expect(w?.message).toContain("it reads the directory hidden underneath");
  });

  it("reports a nested mount it could not verify, with the probe error", () => {
    const [w] = mountWarnings(facts({ nested: [aNested({ containerDev: null, probeError: "stat: exit 127" })] }));
    expect(w).toMatchObject({ code: "mount.unverified", path: "/data/state" });
    expect(w?.message).toContain("stat: exit 127");
  });

  it("reports the same host path bound read-write into two modules", () => {
    const ws = mountWarnings(
      facts({
        binds: [aBind({ source: "/srv/shared" }), aBind({ module: "db", service: "db", source: "/srv/shared", target: "/var/db" })],
      }),
    );
    expect(ws).toHaveLength(1);
    expect(ws[0]).toMatchObject({ code: "bind.two_writers", module: "app", path: "/srv/shared" });
    expect(ws[0]?.message).toBe("/srv/shared is bound read-write into app/app (/data) and db/db (/var/db): two modules write one tree");
  });

  it("reports a read-write bind nested inside another module's read-write bind as two writers", () => {
    const ws = mountWarnings(
      facts({ binds: [aBind({ source: "/data" }), aBind({ module: "db", service: "db", source: "/data/state", target: "/state" })] }),
    );
    expect(ws.map((w) => [w.code, w.path])).toEqual([["bind.two_writers", "/data/state"]]);
    expect(ws[0]?.message).toContain("lies inside /data");
  });

  it("does not count read-only binds or two services of one module as two writers", () => {
    expect(
      codes(facts({ binds: [aBind({ source: "/srv/x" }), aBind({ module: "db", service: "db", source: "/srv/x", readOnly: true })] })),
    ).toEqual([]);
    expect(codes(facts({ binds: [aBind({ source: "/srv/x" }), aBind({ service: "worker", source: "/srv/x" })] }))).toEqual([]);
  });

  it("reports a named volume mounted read-write by two modules as two writers, at the selected module", () => {
    const v = (over: Partial<DeclaredVolume>): DeclaredVolume => ({
      module: "app",
      service: "app",
      volume: "minio-data",
      target: "/data",
      readOnly: false,
      backupRefModules: [],
      ...over,
    });
    const volumes = [v({ module: "minio", service: "minio" }), v({ module: "wiper", service: "wiper", target: "/wipe" })];
    const found = mountWarnings(facts({ volumes, modules: ["wiper"] }));
    expect(found).toEqual([
      expect.objectContaining({
        code: "volume.two_writers",
        module: "wiper",
        service: "wiper",
        path: "minio-data",
        message: "volume minio-data is mounted read-write into minio/minio (/data) and wiper/wiper (/wipe): two modules write one volume",
      }),
    ]);
    expect(mountSeverity("volume.two_writers", false)).toBe("warning");
    expect(mountSeverity("volume.two_writers", true)).toBe("unhealthy");
    expect(codes(facts({ volumes, modules: ["other"] }))).toEqual([]);
  });

  it("does not count a read-only mount, two services of one module, or a declared sidecar (backup_ref_modules) as two volume writers", () => {
    const v = (over: Partial<DeclaredVolume>): DeclaredVolume => ({
      module: "app",
      service: "app",
      volume: "minio-data",
      target: "/data",
      readOnly: false,
      backupRefModules: [],
      ...over,
    });
    const modules = ["minio", "minio-init", "app"];
    expect(codes(facts({ modules, volumes: [v({ module: "minio" }), v({ module: "app", readOnly: true })] }))).toEqual([]);
    expect(codes(facts({ modules, volumes: [v({ service: "a" }), v({ service: "b" })] }))).toEqual([]);
    expect(codes(facts({ modules, volumes: [v({ module: "minio" }), v({ module: "minio-init", backupRefModules: ["minio"] })] }))).toEqual(
      [],
    );
    expect(codes(facts({ modules, volumes: [v({ module: "minio" }), v({ module: "minio-init", volume: "other" })] }))).toEqual([]);
  });

  it("reports two writers when one of them is outside the selection, never when both are", () => {
    const binds = [aBind({ source: "/srv/x" }), aBind({ module: "other", service: "o", source: "/srv/x" })];
    expect(codes(facts({ binds, modules: ["app"] }))).toEqual(["bind.two_writers"]);
    expect(codes(facts({ binds, modules: ["db"] }))).toEqual([]);
  });

  it("reports STATE_DIR nested inside a module's read-write bind (the nested layout)", () => {
    const [w] = mountWarnings(facts({ binds: [aBind({ source: "/data" })], stateDir: "/data/state" }));
    expect(w).toMatchObject({ code: "state_dir.in_bind", module: "app", path: "/data/state" });
    expect(w?.remedy).toContain("flat layout");
    expect(codes(facts({ binds: [aBind({ source: "/data", readOnly: true })], stateDir: "/data/state" }))).toEqual([]);
    expect(codes(facts({ binds: [aBind({ source: "/data" })], stateDir: "/data-state" }))).toEqual([]);
  });

  it("reports only the selected modules' findings", () => {
    expect(codes(facts({ binds: [aBind({ module: "zzz", sourceExists: false })] }))).toEqual([]);
  });
});

describe("mountinfo", () => {
  const text = [
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
    "30 27 0:72 / /tmp/x/sub rw,relatime - tmpfs tmpfs rw",
    "31 27 8:17 / /mnt/my\\040disk rw - xfs /dev/sdb1 rw",
    "32 27 259:300 / /big rw shared:1 master:2 - ext4 /dev/nvme0n1p300 rw",
    "garbage",
  ].join("\n");

  it("parses mount points, fs types and encodes devices as stat does", () => {
    expect(parseMountinfo(text)).toEqual([
      { mountPoint: "/", dev: 65024, fsType: "ext4" },
      { mountPoint: "/tmp/x/sub", dev: 72, fsType: "tmpfs" },
      { mountPoint: "/mnt/my disk", dev: makeDev(8, 17), fsType: "xfs" },
      { mountPoint: "/big", dev: makeDev(259, 300), fsType: "ext4" },
    ]);
    expect(makeDev(8, 17)).toBe(2065);
    expect(makeDev(259, 300)).toBe(0x1 * 0x100 * 259 + 44 + 256 * 4096);
  });

  it("finds the device at a path from the longest mount-point prefix", () => {
    const entries = parseMountinfo(text);
    expect(deviceAt(entries, "/tmp/x/sub/file")).toBe(72);
    expect(deviceAt(entries, "/tmp/x/subway")).toBe(65024);
    expect(deviceAt(entries, "/mnt/my disk")).toBe(2065);
  });
});
