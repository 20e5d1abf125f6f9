// What unlock removed, as a line of text (unlock has no JSON output).
import { describeHolder, type ForceUnlockResult } from "../../state/lock.js";
import { writeLine, type CliIO } from "../io.js";

export interface UnlockView {
  result(project: string, result: ForceUnlockResult): void;
}

export function unlockView(io: CliIO): UnlockView {
  return {
    result(project, r) {
      if (!r.removed) {
        writeLine(io.stdout, `no apply lock held for project ${project}`);
        return;
      }
      const whose = r.holder === "corrupt" ? " (it was unreadable)" : ` held by ${describeHolder(r.holder)}`;
      const state =
        r.verdict?.kind === "alive"
          ? " (its holder was still running)"
          : r.verdict?.kind === "leased"
            ? ` (its pid could not be checked here: ${r.verdict.why})`
            : "";
      writeLine(io.stdout, `removed the apply lock of project ${project}${whose}${state}`);
    },
  };
}
