#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when dockerd is missing, starts dockerd when no
# engine answers, and stops only an engine the same command started.
# Usage: engine.sh ensure | stop-if-started TOKEN | status | compose
# `ensure` records in .engine/started-by-platformctl the token of the command that started dockerd
# ($PLATFORMCTL_ENGINE_TOKEN, else a fresh one nobody else knows): `stop-if-started TOKEN` stops dockerd only when
# TOKEN is that token, so one command (test-all.sh) never stops an engine another one (quickstart.sh) started.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.engine
mkdir -p "$state"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "platformctl setup: '$*' needs root (no sudo found)" >&2; return 1; fi; }

answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

install_engine() {
  echo "platformctl setup: installing Debian's docker.io (no dockerd found)" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
}

# Debian's docker-compose (1.29.2): the reference the Compose reader's `config` view is tested against. Skipped when present.
install_compose() {
  if command -v docker-compose >/dev/null 2>&1; then return 0; fi
  echo "platformctl setup: installing Debian's docker-compose (the tests compare the Compose reader with it)" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
}

ensure() {
  if answers; then echo "platformctl setup: Docker engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}" >&2; return 0; fi
  case "${DOCKER_HOST:-unix://}" in
    unix://*) ;;
    *) echo "platformctl setup: no engine answers at DOCKER_HOST=$DOCKER_HOST; start it there or unset DOCKER_HOST for a local engine" >&2; return 1 ;;
  esac
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then install_engine; fi
  echo "platformctl setup: starting dockerd (log: $state/dockerd.log)" >&2
  # 256 /24 networks instead of the default ~30: a suite creates a network per scenario, and an engine left with
  # networks of an earlier, killed run must still have room.
  as_root sh -c "nohup dockerd --default-address-pool base=10.213.0.0/16,size=24 >'$PWD/$state/dockerd.log' 2>&1 & echo \$! >'$PWD/$state/dockerd.pid'"
  printf '%s\n' "${PLATFORMCTL_ENGINE_TOKEN:-unclaimed-$$-$(date +%s%N)}" >"$state/started-by-platformctl"
  for _ in $(seq 1 120); do
    if answers; then echo "platformctl setup: dockerd is up" >&2; return 0; fi
    sleep 0.5
  done
  echo "platformctl setup: dockerd did not answer within 60 s; last log lines:" >&2
  tail -n 20 "$state/dockerd.log" >&2 || true
  return 1
}

stop_if_started() {
  token=${1:-}
  [ -f "$state/started-by-platformctl" ] || return 0
  starter=$(head -n 1 "$state/started-by-platformctl" 2>/dev/null || true)
  if [ -z "$token" ] || [ "$starter" != "$token" ]; then
    echo "platformctl: leaving the Docker engine running (this command did not start it)" >&2
    return 0
  fi
  pid=$(cat "$state/dockerd.pid" 2>/dev/null || true)
  rm -f "$state/started-by-platformctl"
  [ -n "$pid" ] || return 0
  echo "platformctl: stopping the dockerd this run started (pid $pid)" >&2
  as_root kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do as_root kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
}

case "${1:-ensure}" in
  ensure) ensure ;;
  stop-if-started) stop_if_started "${2:-}" ;;
  status) answers && echo up || { echo down; exit 1; } ;;
  compose) install_compose ;;
  *) echo "usage: $0 ensure|stop-if-started TOKEN|status|compose" >&2; exit 2 ;;
esac
