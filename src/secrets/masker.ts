// Masking of secret values in anything platformctl shows (container logs, probe output, engine messages). Pure.

export const MASK = "***";

/** The forms a value commonly takes in output: as is, JSON-escaped, URL-encoded, and base64 at each alignment. */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  forms.add(JSON.stringify(secret).slice(1, -1));
  forms.add(encodeURIComponent(secret));
  for (const enc of ["base64", "base64url"] as const) {
    for (let shift = 0; shift < 3; shift++) {
      // Base64 of the secret at three byte alignments; drop the edges that depend on neighbouring bytes.
      const padded = Buffer.concat([Buffer.alloc(shift, 0), Buffer.from(secret, "utf8")]);
      const b = padded.toString(enc).replace(/=+$/, "");
      const start = Math.ceil((shift * 4) / 3);
      const end = b.length - ((padded.length % 3) ? 2 : 0);
      const core = b.slice(start, end);
      if (core.length >= 6) forms.add(core);
    }
  }
  for (const line of secret.split(/\r?\n/)) if (line.length >= 4) forms.add(line);
  return [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
}

/**
 * Replaces every occurrence of every secret (and its encoded forms) with `***`. Values shorter than 4 characters
 * are not masked (they would blank out ordinary text, and are too short to be a credential).
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  const forms = [...new Set(secrets.filter((s) => s.length >= 4).flatMap(secretForms))].sort((a, b) => b.length - a.length);
  for (const f of forms) out = out.split(f).join(MASK);
  return out;
}
