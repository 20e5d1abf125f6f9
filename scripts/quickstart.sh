#!/usr/bin/env bash
# The main job against a local engine: set up, validate the quick-start catalog strictly, then plan it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
catalog=examples/quickstart/modules
export PLATFORMCTL_MODULES_DIR=$catalog PLATFORMCTL_PROJECT=${PLATFORMCTL_PROJECT:-quickstart}
npx --no-install platformctl validate --strict
npx --no-install platformctl plan
