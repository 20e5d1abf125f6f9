#!/usr/bin/env node
// Entry point: runs the bundled CLI (dist/cli-bundle/, built from dist/cli/ by `npm run build` and the `prepare` script).
import { main, restoreExtraCaCerts } from "../dist/cli-bundle/main.js";

restoreExtraCaCerts();
process.exitCode = await main(process.argv);
