// The certificates an https smoke probe trusts: Node's own roots plus NODE_EXTRA_CA_CERTS's, read here, because
// bin/platformctl keeps Node from loading that file at start (src/cli/extra-ca-certs.ts says why).
import { rootCertificates } from "node:tls";
import { readFailure, readRegularFile } from "../state/read-regular-file.js";

/** TLS options for an https probe, and why the extra certificates are missing when they could not be read. */
export interface HttpsTrust {
  /** undefined: Node's defaults (NODE_EXTRA_CA_CERTS is not set). */
  ca: string[] | undefined;
  /** Said in a failed probe's reason: the file named by NODE_EXTRA_CA_CERTS could not be read. */
  warning: string | undefined;
}

/**
 * What Node itself would trust: its roots, plus the PEM certificates of the file NODE_EXTRA_CA_CERTS names. A file that
 * cannot be read (missing, a FIFO) leaves the roots alone, as Node does (it warns and goes on); the reason says so.
 */
export async function httpsTrust(env: Readonly<Record<string, string | undefined>>): Promise<HttpsTrust> {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return { ca: undefined, warning: undefined };
  try {
    return { ca: [...rootCertificates, (await readRegularFile(file)).toString("utf8")], warning: undefined };
  } catch (e) {
    return { ca: [...rootCertificates], warning: `NODE_EXTRA_CA_CERTS ${file} was not read (${readFailure(e)})` };
  }
}
