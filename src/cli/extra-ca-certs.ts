// NODE_EXTRA_CA_CERTS, which bin/platformctl hands to Node under another name: put back before anything else runs.
// Why the detour: Node reads and parses that file at every start, before any code runs (50–150 ms for a system bundle
// on this project's machines), for certificates platformctl's own connections never use (a unix socket has no TLS; a
// TLS engine is verified against DOCKER_CERT_PATH's ca.pem alone). Put back, the environment is as the operator gave
// it: child processes (command probes, git) inherit it, and https probes add the file's certificates themselves
// (src/health/https-trust.ts), as Node would have.

/** The name the launcher hands NODE_EXTRA_CA_CERTS over under. */
export const DEFERRED_EXTRA_CA_CERTS = "PLATFORMCTL_DEFERRED_NODE_EXTRA_CA_CERTS";

/** Moves the deferred value back to NODE_EXTRA_CA_CERTS (unless that is set again) and drops the hand-over name. */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED_EXTRA_CA_CERTS];
  if (file === undefined) return;
  delete env[DEFERRED_EXTRA_CA_CERTS];
  if (env.NODE_EXTRA_CA_CERTS === undefined) env.NODE_EXTRA_CA_CERTS = file;
}
