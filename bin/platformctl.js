#!/usr/bin/env node
// Entry point: runs the bundled CLI (dist/cli-bundle/, built from dist/cli/ by `npm run build` and the `prepare` script).
import { main, restoreLauncherEnv } from "../dist/cli-bundle/main.js";

restoreLauncherEnv();
process.exitCode = await main(process.argv);
