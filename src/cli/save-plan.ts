// Writes a plan file for `apply --plan`: atomically, only over nothing or a regular file; `-` prints it instead.
import { lstat, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { InternalError, PlatformError, UsageError } from "../errors.js";
import type { Plan } from "../plan/plan.js";
import type { CliIO } from "./io.js";

/**
 * Refuses a `--out` target that is neither absent nor a regular file: the rename that writes the plan would replace
 * a device node, FIFO, socket, directory or symlink (as root, `--out /dev/full` replaced the device). `-` is stdout.
 */
export async function checkPlanTarget(file: string): Promise<void> {
  if (file === "-") return;
  const st = await lstat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw new PlatformError("plan.write_failed", `cannot write the plan to ${file} (${e.code ?? "error"})`, {
      hint: "Check that the directory exists and is readable.",
      cause: e,
    });
  });
  if (st === undefined || st.isFile()) return;
  const kind = st.isSymbolicLink()
    ? "a symbolic link"
    : st.isDirectory()
      ? "a directory"
      : st.isFIFO()
        ? "a FIFO"
        : st.isCharacterDevice() || st.isBlockDevice()
          ? "a device node"
          : st.isSocket()
            ? "a socket"
            : "not a regular file";
  throw new UsageError("plan.out_not_regular_file", `refusing to write the plan to ${file}: it is ${kind}, and saving replaces the file`, {
    hint: "Give --out a new path or an existing regular file, or --out - to print the plan to standard output.",
  });
}

/** Writes a plan file atomically (a new temp file renamed into place), only over nothing or a regular file; `-` prints it. */
export async function savePlan(file: string, plan: Plan, io?: CliIO): Promise<void> {
  const text = `${JSON.stringify(plan, null, 2)}\n`;
  if (file === "-") {
    if (!io) throw new InternalError("savePlan to standard output needs the CLI's io");
    io.stdout.write(text);
    return;
  }
  await checkPlanTarget(file);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o644, flag: "wx" });
    await checkPlanTarget(file); // again, just before the rename: it may have changed while the plan was written
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined); // safe: the write error is thrown next; a leftover temp file is hidden (.name.pid.tmp)
    if (e instanceof PlatformError) throw e;
    throw new PlatformError("plan.write_failed", `cannot write the plan to ${file}`, {
      hint: "Check that the directory exists and is writable.",
      cause: e,
    });
  }
}
