// The labels platformctl writes on every resource it creates (names come from src/plan/unit-name.ts).

/**
 * Label keys under platformctl's own prefix. `project` marks ownership: a container, volume or network without it
 * is never observed, changed or removed by platformctl.
 */
export const LABEL = {
  /** Owning project (`--project`); the only label observation filters on. */
  project: "dev.platformctl.project",
  module: "dev.platformctl.module",
  service: "dev.platformctl.service",
  /** Versioned hash of the desired create body (`v1:<sha256>`), written at create time. */
  specHash: "dev.platformctl.spec-hash",
  /** Names of the spec fields the hash covers, so a plan can say what changed in kind (never values). */
  specFields: "dev.platformctl.spec-fields",
  /** The image reference as written in the manifest; list output forgets it once the tag moves. */
  imageRef: "dev.platformctl.image-ref",
  /** Digests of the secret values the container was created with (never the values). */
  secretDigests: "dev.platformctl.secret-digests",
  /**
   * `true` on the containers and volumes of a stateful module, written at create time (the ratchet: a module whose
   * live resources carry it stays stateful whatever its manifest says). Absent on stateless modules' resources and on
   * resources created before the label existed, which read as "unknown", never as "stateless".
   */
  stateful: "dev.platformctl.stateful",
} as const;
