// The policy-gate flags apply and scope share (--allow-stateful, --backup-ref, --confirm, --bootstrap, --backup-max-age, --rerun, --maintenance).
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { DEFAULT_MAX_BACKUP_AGE_SECONDS, type DispatchInputs } from "../../policy/policy.js";
import { parseDuration } from "./duration.js";
import { collect, single } from "./repeated.js";

export interface GateFlags {
  allowStateful?: boolean;
  backupRef?: string[];
  confirm?: string[];
  bootstrap?: boolean;
  backupMaxAge?: string;
  rerun?: boolean;
  maintenance?: boolean;
}

/** What the gate is given: the dispatch inputs and the backup age limit. */
export interface GateArguments {
  inputs: DispatchInputs;
  maxBackupAgeSeconds: number;
}

export function addGateOptions(cmd: Command): Command {
  return cmd
    .option("--allow-stateful", "allow changes to a stateful module (policy gate)")
    .option("--backup-ref <path>", "verified backup covering the module (policy gate)", collect, [])
    .option("--confirm <token>", "typed confirmation token (policy gate)", collect, [])
    .option("--bootstrap", "first creation of a stateful module (no backup exists yet)")
    .option("--backup-max-age <duration>", "maximum backup age, e.g. 24h (default 24h)")
    .option("--rerun", "re-run one-shots that are in sync, on purpose (still gated and recorded)")
    .option(
      "--maintenance",
      "maintenance lane for a stateful module: apply a saved plan's image/config/missing-container changes with a backup made after the plan; rolls back automatically",
    );
}

export function parseGateArguments(flags: GateFlags): GateArguments {
  const backupRef = single("--backup-ref", flags.backupRef);
  // A blank ref is a missing backup ref: the gate reports it as input.backup_ref_missing (exit 3), as documented.
  if (backupRef !== undefined && backupRef.trim() !== "" && /[\u0000-\u001f]/.test(backupRef)) {
    throw new UsageError("usage.backup_ref", "--backup-ref must be a path without control characters", {
      hint: "Pass the path printed by `platformctl backup <module>`.",
    });
  }
  const maxAgeMs =
    flags.backupMaxAge === undefined
      ? DEFAULT_MAX_BACKUP_AGE_SECONDS * 1000
      : parseDuration("--backup-max-age", flags.backupMaxAge, { example: "24h" });
  return {
    inputs: {
      allowStateful: Boolean(flags.allowStateful),
      backupRef,
      confirm: single("--confirm", flags.confirm),
      bootstrap: Boolean(flags.bootstrap),
      rerun: Boolean(flags.rerun),
      maintenance: Boolean(flags.maintenance),
    },
    maxBackupAgeSeconds: Math.floor(maxAgeMs / 1000),
  };
}
