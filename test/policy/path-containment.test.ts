// Path containment, the one function backups, bind mounts and mountinfo share: plain strings in, a boolean out.
import { describe, expect, it } from "vitest";
import { isCleanAbsolute, isWithin } from "../../src/policy/path-containment.js";

describe("isWithin", () => {
  it("matches the path itself and paths below it, never a sibling with the same prefix", () => {
    expect(isWithin("/data", "/data")).toBe(true);
    expect(isWithin("/data/state", "/data")).toBe(true);
    expect(isWithin("/data-state", "/data")).toBe(false);
    expect(isWithin("/anything", "/")).toBe(true);
    expect(isWithin("/", "/")).toBe(true);
  });

  it("with strict, never counts the root itself, with or without trailing slashes", () => {
    expect(isWithin("/backups", "/backups", { strict: true })).toBe(false);
    expect(isWithin("/backups/", "/backups", { strict: true })).toBe(false);
    expect(isWithin("/backups/x.tar.gz", "/backups/", { strict: true })).toBe(true);
    expect(isWithin("/backups-evil/x.tar.gz", "/backups", { strict: true })).toBe(false);
    expect(isWithin("/x", "/", { strict: true })).toBe(true);
    expect(isWithin("/", "/", { strict: true })).toBe(false);
  });

  it("never trusts a relative path or one with '.', '..', empty segments or a NUL, on either side", () => {
    for (const [p, root] of [
      ["/backups/../etc/passwd", "/backups"],
      ["/backups/./x", "/backups"],
      ["/backups//x", "/backups"],
      ["backups/x", "backups"],
      ["/backups/x\0", "/backups"],
      ["/backups/x", "/backups/../backups"],
    ] as const) {
      expect(isWithin(p, root), `${p} in ${root}`).toBe(false);
    }
  });
});

describe("isCleanAbsolute", () => {
  it("accepts the shape realpath returns and refuses anything else", () => {
    expect(isCleanAbsolute("/")).toBe(true);
    expect(isCleanAbsolute("/srv/backups/")).toBe(true);
    expect(isCleanAbsolute("srv/backups")).toBe(false);
    expect(isCleanAbsolute("/srv/../backups")).toBe(false);
    expect(isCleanAbsolute("")).toBe(false);
  });
});
