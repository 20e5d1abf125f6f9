// The one masker: literal and encoded forms of a secret are masked, base64 at every alignment down to the edge characters.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redact } from "../../src/secrets/masker.js";

const enc = (bytes: Uint8Array, url: boolean, pad: boolean): string => {
  const b = Buffer.from(bytes).toString(url ? "base64url" : "base64");
  return pad ? (url ? b + "=".repeat((4 - (b.length % 4)) % 4) : b) : b.replace(/=+$/, "");
};

describe("redact", () => {
  it("masks a secret as is, JSON-escaped, URL-encoded and line by line, and keeps the text around it", () => {
    const secret = 'pa"ss\\wo&rd\nsecond-line';
    const text = `LOG_ME a=${secret} b=${JSON.stringify(secret)} c=${encodeURIComponent(secret)} d=second-line LOG_ME`;
    const out = redact(text, [secret]);
    expect(out).toBe('LOG_ME a=*** b="***" c=*** d=*** LOG_ME');
  });

  it("leaves values shorter than four characters alone unless asked, and masks them when asked", () => {
    expect(redact("yes, abc", ["abc"])).toBe("yes, abc");
    expect(redact("yes, abc", ["abc"], { minLength: 1, placeholder: "[withheld]" })).toBe("yes, [withheld]");
  });

  it("never lets the placeholder spell a secret", () => {
    expect(redact("token=withheld", ["withheld"], { placeholder: "[withheld]" })).toBe("token=***");
  });

  it("masks the edge characters of a base64 encoding, not only its middle (the `***D4=` leak)", () => {
    const secret = "apply-canary-N4v8Qm2Lp";
    for (const prefix of ["", "u", "us", "user:"]) {
      const b64 = Buffer.from(prefix + secret).toString("base64");
      const out = redact(`auth ${b64} end`, [secret]);
      const a = Math.floor((prefix.length * 8) / 6);
      expect(out, `prefix ${JSON.stringify(prefix)}`).toBe(`auth ${b64.slice(0, a)}*** end`);
    }
  });

  it("masks a long secret's base64 wrapped over lines (base64 wraps at 76 columns, PEM at 64), also under a view's line prefixes", () => {
    const secret = "wrapped-canary-Kx9+Vb2/Lq7.".repeat(4); // 108 bytes: its base64 spans two lines or more
    for (const prefix of ["", "u", "us"]) {
      for (const width of [76, 64]) {
        const b64 = Buffer.from(prefix + secret).toString("base64");
        const lines = b64.match(new RegExp(`.{1,${width}}`, "g")) as string[];
        expect(lines.length).toBeGreaterThan(1);
        for (const indent of ["", "  ", "      | "]) {
          const text = `LOG_ME\n${lines.map((l) => indent + l).join("\n")}\nLOG_ME`;
          const out = redact(text, [secret]);
          // no line of the encoding survives whole, and no 8-character run of it does either
          for (let i = Math.ceil((prefix.length * 8) / 6) + 1; i + 8 <= b64.length - 4; i++)
            expect(out.replace(/\n[ |]*/g, ""), `${prefix} ${width} ${JSON.stringify(indent)}`).not.toContain(b64.slice(i, i + 8));
          // positive control: the markers keep their own lines
          expect(out.split("\n")[0]).toBe("LOG_ME");
          expect(out.split("\n").at(-1)).toBe("LOG_ME");
          expect(out).toContain("***");
        }
      }
    }
  });

  it("masks a secret split over two lines and its hex dump, lower and upper case", () => {
    const secret = "split-canary-77";
    expect(redact(`LOG_ME split-ca\nnary-77 LOG_ME`, [secret])).toBe("LOG_ME *** LOG_ME");
    const hex = Buffer.from(secret).toString("hex");
    expect(redact(`LOG_ME ${hex} ${hex.toUpperCase()} LOG_ME`, [secret])).toBe("LOG_ME *** *** LOG_ME");
    // over-redaction control: ordinary lines around are kept as they are
    expect(redact("first line\nsecond line", [secret])).toBe("first line\nsecond line");
  });

  it("masks every base64 character that carries a secret bit, for random secrets, prefixes, suffixes, alphabets and padding", () => {
    // Property: encode prefix+secret+suffix; a 4-character window of the encoding that covers at least one character
    // carrying secret bits, and that does not occur in the encoding of prefix+complement(secret)+suffix (every secret
    // bit flipped), is unique to the secret. None may survive redaction. Positive control: the characters made only
    // of prefix bits and the markers around the encoding survive exactly.
    const secretArb = fc.string({ unit: "binary", minLength: 4, maxLength: 40 }).filter((s) => Buffer.byteLength(s) >= 4);
    fc.assert(
      fc.property(
        secretArb,
        fc.uint8Array({ maxLength: 10 }),
        fc.uint8Array({ maxLength: 10 }),
        fc.boolean(),
        fc.boolean(),
        (secret, prefix, suffix, url, pad) => {
          const s = Buffer.from(secret, "utf8");
          const flipped = Buffer.from(s.map((x) => x ^ 0xff));
          const encoded = enc(Buffer.concat([prefix, s, suffix]), url, pad);
          const other = enc(Buffer.concat([prefix, flipped, suffix]), url, pad);
          const first = Math.floor((prefix.length * 8) / 6);
          const end = Math.ceil(((prefix.length + s.length) * 8) / 6);
          const out = redact(`LOG_ME ${encoded} LOG_ME`, [secret]);
          for (let i = Math.max(0, first - 3); i < Math.min(end, encoded.length - 3); i++) {
            const w = encoded.slice(i, i + 4);
            if (!other.includes(w)) expect(out, `window ${w} at ${i} of ${encoded}`).not.toContain(w);
          }
          expect(out.startsWith(`LOG_ME ${encoded.slice(0, first)}`), out).toBe(true);
          expect(out.endsWith(" LOG_ME"), out).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
