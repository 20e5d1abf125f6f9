// A Compose file shared by many modules is read once per distinct input: the same bytes, file, view, base directory
// and environment give the same result; any difference gives its own.
import { describe, expect, it } from "vitest";
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
