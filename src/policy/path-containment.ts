// Path containment, the one home for "does this path lie inside that one": used for backups, bind mounts and mountinfo.

/** Drops trailing slashes (`/backups/` -> `/backups`), keeping `/` itself. */
const trimSlashes = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, "") || "/" : p);

/**
 * True for an absolute POSIX path with no empty, `.` or `..` segment and no NUL: the shape realpath returns. A path of
 * another shape is never trusted for containment (trailing slashes are allowed and ignored).
 */
export function isCleanAbsolute(p: string): boolean {
  const t = trimSlashes(p);
  if (!t.startsWith("/") || t.includes("\0")) return false;
  if (t === "/") return true;
  return t
    .slice(1)
    .split("/")
    .every((seg) => seg !== "" && seg !== "." && seg !== "..");
}

/**
 * `path` is `root` or lies below it, compared segment-wise as clean absolute paths (a separator check:
 * `/backups-evil/x` is not inside `/backups`). With `strict`, `root` itself does not count. Either path not clean
 * (relative, `.`/`..`/empty segments, NUL) -> false. Callers that care about symlinks pass realpaths: a link inside
 * the root that points elsewhere is then judged by its target.
 */
export function isWithin(path: string, root: string, options: { strict?: boolean } = {}): boolean {
  if (!isCleanAbsolute(path) || !isCleanAbsolute(root)) return false;
  const p = trimSlashes(path);
  const r = trimSlashes(root);
  if (p === r) return !options.strict;
  return p.startsWith(r === "/" ? "/" : `${r}/`);
}
