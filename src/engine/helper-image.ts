// The check that a volume helper's image is on the engine that will create the helper, before anything is stopped.
import { PlatformError } from "../errors.js";
import type { Engine } from "./connect.js";
import { imageId } from "./observe.js";

/** The image a never-started volume helper is created from, and the module it serves (for the message). */
export interface HelperImage {
  image: string;
  module: string;
}

/**
 * Throws `backup.image_missing` when `helper.image` is not present on `engine`, the engine that creates the helper.
 * `node` names a Swarm node (its own engine, not the manager's), so the message says where to load the image.
 */
export async function assertHelperImage(engine: Engine, helper: HelperImage, signal?: AbortSignal, node?: string): Promise<void> {
  if ((await imageId(engine, helper.image, signal)) !== null) return;
  if (node === undefined)
    throw new PlatformError("backup.image_missing", `image ${helper.image} of ${helper.module} is not present on the engine`, {
      hint: "Apply the module first (its image must be local); the helper only holds the volumes and is never started.",
    });
  throw new PlatformError(
    "backup.image_missing",
    `image ${helper.image} of ${helper.module} is not present on node ${node}, where the helper that holds its volumes is created`,
    {
      detail: "The helper runs on the node the module is pinned to, through that node's engine; nothing was stopped or changed.",
      hint: `Load the image on node ${node}: docker save ${helper.image} | docker -H ${engine.endpoint.replace(/ \(TLS\)$/, " --tlsverify")} load (or pull it there), then run the same command again.`,
    },
  );
}
