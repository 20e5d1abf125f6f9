#!/usr/bin/env bash
# Builds the local images the quick start and the tests run on (no registry is reachable, so nothing is pulled; Debian
# mirrors are): each is a root filesystem imported with `docker import`, built once per machine and skipped when its tag
# exists.
#   platformctl-test/busybox:1   Debian's static busybox with its applets
#   platformctl-test/postgres:15 PostgreSQL 15 from Debian bookworm packages (debootstrap minbase, ~70 s)
#   platformctl-test/noshell:1   a single static binary (/busybox) and nothing else: no shell, no tar, no gzip
#   platformctl-test/swarm-node:1 Debian bookworm with docker.io, a Swarm node for test/swarm (scripts/swarm.sh build)
# An image is tagged only after its whole root was imported, so a failed build leaves no tag (and no image) behind.
set -euo pipefail
busybox_image=${PLATFORMCTL_TEST_IMAGE:-platformctl-test/busybox:1}
postgres_image=${PLATFORMCTL_TEST_PG_IMAGE:-platformctl-test/postgres:15}
noshell_image=${PLATFORMCTL_TEST_NOSHELL_IMAGE:-platformctl-test/noshell:1}
mirror=${PLATFORMCTL_DEBIAN_MIRROR:-http://deb.debian.org/debian}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "platformctl setup: '$*' needs root (no sudo found)" >&2; return 1; fi; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
need_package() {
  dpkg -s "$1" >/dev/null 2>&1 && return 0
  echo "platformctl setup: installing Debian's $1" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

# Roots are built under one directory removed on exit; mounts a failed debootstrap left inside are detached first so the
# removal never reaches the host's /proc or /sys.
work=$(mktemp -d)
cleanup() {
  awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do as_root umount -l "$m" || true; done
  as_root rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# import_root ROOT IMAGE [--change LINE]...: imports ROOT untagged, then tags it; a partial tar stream never gets a tag.
import_root() {
  local root=$1 image=$2 id=
  shift 2
  if ! id=$(as_root tar --numeric-owner -C "$root" -c . | docker import "$@" -) || [ -z "$id" ]; then
    [ -z "$id" ] || docker rmi "$id" >/dev/null 2>&1 || true
    echo "platformctl setup: importing $image failed" >&2
    return 1
  fi
  docker tag "$id" "$image"
}

build_busybox() {
  need_package busybox-static
  local root=$work/busybox
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,tmp,etc,proc,sys,dev,data,var/www}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  import_root "$root" "$busybox_image" -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]'
  echo "platformctl setup: built $busybox_image from busybox-static" >&2
}

build_noshell() {
  need_package busybox-static
  local root=$work/noshell
  mkdir -p "$root"
  cp /bin/busybox "$root/busybox"
  import_root "$root" "$noshell_image" -c 'CMD ["/busybox","sleep","3600"]'
  echo "platformctl setup: built $noshell_image (/busybox only, no shell)" >&2
}

# The entrypoint baked into the PostgreSQL image: as root it prepares PGDATA and drops to the postgres user; on an
# empty PGDATA it runs initdb (trust for local connections; for TCP, scram-sha-256 when POSTGRES_PASSWORD is set, else
# trust), optionally creates POSTGRES_DB, then execs postgres as PID 1 so a stop signal reaches it directly
# (SIGINT = fast shutdown). Any other first argument is run as given.
pg_start_script() {
  cat <<'EOF'
#!/bin/sh
# pg-start: entrypoint of platformctl-test/postgres:15 (scripts/test-images.sh): initdb on an empty PGDATA, then exec postgres.
set -eu
case "${1:-}" in "" | -* | postgres) ;; *) exec "$@" ;; esac
[ "${1:-}" = postgres ] && shift
: "${PGDATA:=/var/lib/postgresql/data}"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /run/postgresql
  chown postgres:postgres "$PGDATA" /run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user=${POSTGRES_USER:-postgres}
  auth=trust
  pwfile=
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    auth=scram-sha-256
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  fi
  initdb -D "$PGDATA" -U "$user" --auth-local=trust --auth-host="$auth" ${pwfile:+--pwfile="$pwfile"} >/dev/null
  [ -z "$pwfile" ] || rm -f "$pwfile"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\njit = off\n" >>"$PGDATA/postgresql.conf"
  db=${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
    psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -q -c "CREATE DATABASE \"$db\""
    pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
  fi
  echo "pg-start: initialized $PGDATA" >&2
fi
exec postgres "$@"
EOF
}

build_postgres() {
  need_package debootstrap
  local root=$work/postgres started=$SECONDS
  echo "platformctl setup: building $postgres_image from Debian bookworm packages (debootstrap, about a minute)" >&2
  as_root debootstrap --variant=minbase --include=postgresql,postgresql-client bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    echo "platformctl setup: debootstrap failed; last log lines:" >&2
    tail -n 20 "$work/debootstrap.log" >&2
    return 1
  }
  # The packages' own cluster, apt's caches and lists, docs, man pages and translations are not needed to run the
  # server; nor is LLVM, loaded only for JIT, which the entrypoint turns off (about 400 MB less).
  as_root rm -rf "$root"/var/lib/postgresql/15 "$root"/etc/postgresql/15 "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/info "$root"/usr/share/locale "$root"/usr/share/i18n \
    "$root"/usr/lib/postgresql/15/lib/llvmjit* "$root"/usr/lib/postgresql/15/lib/bitcode \
    "$root"/usr/lib/x86_64-linux-gnu/libLLVM* "$root"/usr/lib/x86_64-linux-gnu/libz3.so* "$root"/var/log/*
  as_root mkdir -p "$root"/var/lib/postgresql/data "$root"/run/postgresql
  as_root chroot "$root" chown postgres:postgres /var/lib/postgresql/data /run/postgresql
  as_root chmod 700 "$root"/var/lib/postgresql/data
  pg_start_script | as_root tee "$root"/usr/local/bin/pg-start >/dev/null
  as_root chmod 755 "$root"/usr/local/bin/pg-start
  import_root "$root" "$postgres_image" \
    -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV PGDATA=/var/lib/postgresql/data' -c 'ENV LANG=C.UTF-8' \
    -c 'ENTRYPOINT ["/usr/local/bin/pg-start"]' -c 'CMD ["postgres"]' -c 'EXPOSE 5432'
  echo "platformctl setup: built $postgres_image in $((SECONDS - started)) s" >&2
}

# Several checkouts on one machine (worktrees, parallel CI steps) share the engine: one builds, the others wait and
# then find the tag.
exec 9>"${TMPDIR:-/tmp}/platformctl-test-images.lock"
flock -w 900 9 || { echo "platformctl setup: another build of the test images holds the lock for 15 min; giving up" >&2; exit 1; }
# `if` rather than `||`: a function called on the right of `||` runs without `set -e`.
if ! have_image "$busybox_image"; then build_busybox; fi
if ! have_image "$noshell_image"; then build_noshell; fi
if ! have_image "$postgres_image"; then build_postgres; fi
# The smoke tests make a private CA and an https server's certificate with the openssl CLI (test/health/smoke-extra-ca).
command -v openssl >/dev/null || need_package openssl
# The Swarm runtime's tests run a 3-node Docker-in-Docker Swarm (scripts/swarm.sh); its node image has its own lock.
bash "$(dirname "$0")/swarm.sh" build
