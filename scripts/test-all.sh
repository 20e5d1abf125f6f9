#!/usr/bin/env bash
# Sets up and runs the whole suite against a real engine; stops the engine afterwards only if this run started it.
set -euo pipefail
cd "$(dirname "$0")/.."
# This run's own token: the engine is stopped afterwards only if this very run started it (not a quick start before).
PLATFORMCTL_ENGINE_TOKEN="test-all-$$-$(date +%s%N)"
export PLATFORMCTL_ENGINE_TOKEN
trap 'bash scripts/engine.sh stop-if-started "$PLATFORMCTL_ENGINE_TOKEN"' EXIT
bash scripts/setup.sh
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check
npx --no-install platformctl validate --strict modules
npx --no-install platformctl validate --strict examples/quickstart/modules
npx --no-install platformctl validate --strict examples/compose/modules
npx --no-install platformctl lint-workflows
CI=${CI:-true} npx --no-install vitest run
