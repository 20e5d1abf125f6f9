#!/usr/bin/env bash
# The main job against a local engine: set up, validate the quick-start catalog strictly, plan it, apply it end to end
# (services up and healthy, one-shots run to exit 0), check health, and show the resulting plan in sync.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export PLATFORMCTL_MODULES_DIR=${PLATFORMCTL_MODULES_DIR:-examples/quickstart/modules}
export PLATFORMCTL_PROJECT=${PLATFORMCTL_PROJECT:-quickstart}
export STATE_DIR=${STATE_DIR:-$PWD/.platformctl/state}
mkdir -p "$STATE_DIR"
# Demo credentials, generated once and kept beside the state (never printed): re-runs reuse them, so nothing drifts.
creds=$STATE_DIR/../quickstart.env
if [ ! -f "$creds" ]; then
  umask 077
  printf 'MINIO_ROOT_USER=quickstart\nMINIO_ROOT_PASSWORD=%s\n' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" >"$creds"
fi
set -a; . "$creds"; set +a

pctl() { npx --no-install platformctl "$@"; }
pctl validate --strict
pctl plan
pctl apply --module migrate --module web
# minio and minio-init are stateful: their first creation is a guarded bootstrap (no backup exists yet). Once they
# exist and are in sync, a re-run is a no-op that needs no inputs.
if pctl plan --module minio --module minio-init --detailed-exitcode >/dev/null; then
  pctl apply --module minio --module minio-init
else
  pctl apply --module minio --module minio-init --allow-stateful --confirm "${PLATFORMCTL_CONFIRM_TOKEN:-BACKUP_DONE_F3}" --bootstrap
fi
pctl health
for m in migrate web minio minio-init; do pctl smoke "$m"; done
pctl plan --detailed-exitcode
