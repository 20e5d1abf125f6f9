#!/usr/bin/env bash
# Sets up a fresh Debian machine with Node 20: npm dependencies and build, a Docker engine, and the local test images.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "platformctl setup: Node.js >= 20 is required (found $(node --version))" >&2; exit 1; }
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` (not `npm ci`): the npm 11 on these machines writes lockfiles without rollup's optional platform
  # packages and then refuses them in `npm ci`; `npm install` still installs the versions the lockfile pins.
  npm install --no-audit --no-fund --loglevel=error
else
  npm run --silent build
fi
bash scripts/engine.sh ensure
bash scripts/engine.sh compose
bash scripts/test-images.sh
