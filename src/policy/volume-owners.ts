// Who owns each named volume of the catalog, and which of a module's read-write mounts write another stateful module's data.
import type { Module } from "../manifest/module.js";

/** A read-write mount of a named volume that another, stateful module owns: the writer is judged by the owner's gate. */
export interface ForeignWrite {
  volume: string;
  /** The owning module (stateful). */
  owner: Module;
  /** The writer's services that mount it read-write, sorted. */
  services: string[];
}

const namedVolumes = (m: Module): string[] => [
  ...new Set(m.services.flatMap((s) => s.volumes.filter((v) => v.type === "volume" && v.source).map((v) => v.source as string))),
];

/**
 * The owner of every named volume in the catalog: the first stateful module (in catalog order) that mounts it, or, when
 * no stateful module does, the first module that mounts it. A stateful module always wins, so declaring a stateful
 * module's volume earlier in the catalog can never take its data out of the gate.
 */
export function volumeOwners(catalog: readonly Module[]): Map<string, Module> {
  const owners = new Map<string, Module>();
  for (const m of catalog) {
    for (const v of namedVolumes(m)) {
      const current = owners.get(v);
      if (current === undefined || (!current.stateful && m.stateful)) owners.set(v, m);
    }
  }
  return owners;
}

/**
 * The named volumes `module` mounts read-write that a different, stateful module owns (sorted by volume). Read-only
 * mounts never count. The catalog must hold every module: a module missing from it cannot own anything, which would
 * relax the gate, so the judged module is included even when the caller forgot it.
 */
export function foreignStatefulWrites(module: Module, catalog: readonly Module[]): ForeignWrite[] {
  const owners = volumeOwners(catalog.some((m) => m.name === module.name) ? catalog : [...catalog, module]);
  const out: ForeignWrite[] = [];
  for (const v of namedVolumes(module).sort()) {
    const owner = owners.get(v);
    if (!owner || owner.name === module.name || !owner.stateful) continue;
    const services = module.services
      .filter((s) => s.volumes.some((x) => x.type === "volume" && x.source === v && !x.readOnly))
      .map((s) => s.name)
      .sort();
    if (services.length > 0) out.push({ volume: v, owner, services });
  }
  return out;
}
