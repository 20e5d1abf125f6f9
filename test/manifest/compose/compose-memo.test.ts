// A Compose file shared by many modules is read and merged once per distinct input: the same bytes, file, view, base
// directory and environment give the same result; any difference gives its own.
import { describe, expect, it } from "vitest";
import { loadCompose } from "../../../src/manifest/compose/load-compose.js";
import { readComposeFile } from "../../../src/manifest/compose/read-compose-file.js";

const bytes = Buffer.from("services:\n  a:\n    image: a:${TAG}\n  b:\n    image: b:1\n");

describe("readComposeFile over shared bytes", () => {
  it("returns the one result for the same bytes and options, so N modules of one file read it once", () => {
    const first = readComposeFile("/p/c.yaml", bytes, { view: "module", env: { TAG: "1" }, baseDir: "/p" });
    const again = readComposeFile("/p/c.yaml", bytes, { view: "module", env: { TAG: "1" }, baseDir: "/p" });
    expect(again).toBe(first);
    expect(first.services.get("a")?.service.image).toBe("a:1");
  });

  it("reads again for another environment, file name or view, never serving another input's result", () => {
    const one = readComposeFile("/p/c.yaml", bytes, { view: "module", env: { TAG: "1" }, baseDir: "/p" });
    const two = readComposeFile("/p/c.yaml", bytes, { view: "module", env: { TAG: "2" }, baseDir: "/p" });
    expect(two.services.get("a")?.service.image).toBe("a:2");
    const renamed = readComposeFile("/q/c.yaml", bytes, { view: "module", env: { TAG: "1" }, baseDir: "/p" });
    expect(renamed).not.toBe(one);
    expect(renamed.file).toBe("/q/c.yaml");
    expect(readComposeFile("/p/c.yaml", bytes, { view: "config", env: { TAG: "1" }, baseDir: "/p" })).not.toBe(one);
    expect(readComposeFile("/p/c.yaml", Buffer.from(bytes), { view: "module", env: { TAG: "1" }, baseDir: "/p" })).not.toBe(one);
  });
});

describe("loadCompose over shared reads", () => {
  const main = Buffer.from("services:\n  a:\n    extends:\n      file: base.yaml\n      service: b\n    image: a:${TAG}\n");
  const base = Buffer.from('services:\n  b:\n    command: ["true"]\n');

  it("merges one set of files once for every module that names them, and again for another environment", () => {
    const read = new Map<string, Uint8Array>([
      ["/p/c.yaml", main],
      ["/p/base.yaml", base],
    ]);
    const first = loadCompose({ files: ["/p/c.yaml"], read, env: { TAG: "1" }, view: "module" });
    // Another module's own map holding the same bytes.
    const again = loadCompose({ files: ["/p/c.yaml"], read: new Map(read), env: { TAG: "1" }, view: "module" });
    expect(again).toBe(first);
    const other = loadCompose({ files: ["/p/c.yaml"], read, env: { TAG: "2" }, view: "module" });
    expect(other).not.toBe(first);
    expect(other.kind === "loaded" && other.services.get("a")?.service.image).toBe("a:2");
  });

  it("never keeps a load that still needs files: asked again with them read, it completes", () => {
    const partial = new Map<string, Uint8Array>([["/q/c.yaml", main]]);
    expect(loadCompose({ files: ["/q/c.yaml"], read: partial, env: { TAG: "1" }, view: "module" })).toEqual({
      kind: "needs",
      files: ["/q/base.yaml"],
    });
    partial.set("/q/base.yaml", base);
    const done = loadCompose({ files: ["/q/c.yaml"], read: partial, env: { TAG: "1" }, view: "module" });
    expect(done.kind === "loaded" && done.services.get("a")?.service.command).toEqual(["true"]);
  });
});
