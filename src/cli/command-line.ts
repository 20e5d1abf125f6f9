// The command line recorded in the audit log and the lock file, with the confirmation value withheld.

export function commandLine(argv: readonly string[]): string {
  const args = argv.slice(2).map((a, i, all) => (all[i - 1] === "--confirm" ? "***" : a.startsWith("--confirm=") ? "--confirm=***" : a));
  return ["platformctl", ...args].join(" ").slice(0, 500);
}
