// Reads a bind mount's host directory (or file) as a tar stream rooted at it, for the backup archive's `binds/<i>/`.
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";

/**
 * A tar of `source` with entries relative to it (`./`, `./a`, …): directories, regular files, symlinks (not
 * followed) with their modes, owners and times. Other file types (sockets, devices) are skipped. The host path is
 * read by platformctl itself: binds are host paths of the machine the runtime runs on (`Runtime.local`).
 */
export function readBind(source: string): Readable {
  const pack = tar.pack();
  const walk = async (rel: string): Promise<void> => {
    const abs = path.join(source, rel);
    const st = await lstat(abs);
    const name = rel === "" ? "./" : `./${rel}`;
    const common = { mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtime };
    const added = (header: Parameters<typeof pack.entry>[0], body?: Readable) =>
      new Promise<void>((resolve, reject) => {
        const sink = pack.entry(header, (e) => (e ? reject(e) : resolve()));
        if (body) {
          body.on("error", (e) => sink.destroy(e));
          body.pipe(sink as unknown as NodeJS.WritableStream);
        } else sink.end(undefined);
      });
    if (st.isDirectory()) {
      await added({ ...common, name, type: "directory" });
      for (const child of (await readdir(abs)).sort()) await walk(rel === "" ? child : `${rel}/${child}`);
    } else if (st.isFile()) {
      await added(
        { ...common, name: rel === "" ? `./${path.basename(source)}` : name, type: "file", size: st.size },
        createReadStream(abs),
      );
    } else if (st.isSymbolicLink()) {
      await added({ ...common, name, type: "symlink", linkname: await readlink(abs) });
    }
  };
  walk("").then(
    () => pack.finalize(),
    (e: unknown) => pack.destroy(e as Error),
  );
  return Readable.from(pack as AsyncIterable<Buffer>);
}
