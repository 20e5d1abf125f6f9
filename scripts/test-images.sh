#!/usr/bin/env bash
# Builds the local images the quick start and the tests run on (no registry is reachable, so nothing is pulled):
# a root filesystem holding Debian's static busybox, imported with `docker import`.
set -euo pipefail
image=${PLATFORMCTL_TEST_IMAGE:-platformctl-test/busybox:1}
if docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
bb=/bin/busybox
if ! dpkg -s busybox-static >/dev/null 2>&1; then
  echo "platformctl setup: installing Debian's busybox-static" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,tmp,etc,proc,sys,dev,data,var/www}
cp "$bb" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$image" >/dev/null
echo "platformctl setup: built $image from busybox-static" >&2
