#!/usr/bin/env bash
# Test harness for the Swarm runtime: a real 3-node Docker Swarm (1 manager, 2 workers) as Docker-in-Docker containers.
#   bash scripts/swarm.sh build    builds the node image (debootstrap of Debian's docker.io; skipped when tagged)
#   bash scripts/swarm.sh up       (re)starts the cluster, forms the Swarm, loads the test image into every node and
#                                  prints the manager's DOCKER_HOST (tcp://172.30.214.11:2375 in slot 0) as the last stdout line
#   bash scripts/swarm.sh down     leaves the Swarm and removes the node containers, their volumes and the network
#   bash scripts/swarm.sh status   prints the nodes as the manager sees them
# Everything it creates carries the label dev.platformctl.swarm-harness=<cluster> (and nothing else does), so `down` finds
# it all, also what a killed run left. One cluster per slot: PLATFORMCTL_SWARM_SLOT (0-9, default 0) picks the names
# (platformctl-swarm-node1 for slot 0, platformctl-swarm<k>-node1 otherwise) and the subnet 172.30.(214+k).0/24, so
# suites of different slots can run side by side on one machine; `up` takes the slot's lock and replaces its cluster.
# Why the options below (measured; ../shared/research/swarm-on-one-host.md): --privileged is refused on this host
# (no CAP_SYS_RESOURCE in the bounding set), so the nodes get every other capability and remount /sys and the cgroups
# read-write themselves; there is no IPVS, so services must use dnsrr endpoints; dockerd on TCP without --tls=false
# sleeps 15 s at start; DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 stops tasks from trying a registry first.
set -euo pipefail
node_image=${PLATFORMCTL_SWARM_NODE_IMAGE:-platformctl-test/swarm-node:1}
test_image=${PLATFORMCTL_TEST_IMAGE:-platformctl-test/busybox:1}
mirror=${PLATFORMCTL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
slot=${PLATFORMCTL_SWARM_SLOT:-0}
case "$slot" in [0-9]) ;; *)
  echo "swarm harness: PLATFORMCTL_SWARM_SLOT must be one digit 0-9, got '$slot'" >&2
  exit 2
  ;;
esac
cluster=platformctl-swarm
[ "$slot" = 0 ] || cluster=platformctl-swarm$slot
# Outside the engine's own address pool (dockerd runs with --default-address-pool base=10.213.0.0/16).
net=172.30.$((214 + slot))
subnet=$net.0/24
network=$cluster
mark=dev.platformctl.swarm-harness=$cluster
nodes=(node1 node2 node3)
ips=("$net.11" "$net.12" "$net.13")

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else echo "swarm harness: '$*' needs root (no sudo found)" >&2; return 1; fi; }
log() { echo "swarm harness: $*" >&2; }
in_node() { local i=$1; shift; DOCKER_HOST=tcp://${ips[$i]}:2375 docker "$@"; }

# The node's entrypoint: what `--privileged` would have given, done from inside, then dockerd.
node_entrypoint() {
  cat <<'EOF'
#!/bin/sh
# swarm-node-start: entrypoint of platformctl-test/swarm-node (scripts/swarm.sh): makes /sys and the cgroups writable, then runs dockerd.
set -eu
mount -o remount,rw /sys 2>/dev/null || true
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control || true
else
  awk '$3 == "cgroup" && $4 ~ /(^|,)ro(,|$)/ { print $2 }' /proc/mounts | while read -r m; do mount -o remount,bind,rw "$m"; done
  awk '$2 == "/sys/fs/cgroup" && $4 ~ /(^|,)ro(,|$)/ { print $2 }' /proc/mounts | while read -r m; do mount -o remount,rw "$m"; done
fi
mount --make-rshared /
exec "$@"
EOF
}

build() {
  if docker image inspect "$node_image" >/dev/null 2>&1; then return 0; fi
  exec 8>"${TMPDIR:-/tmp}/platformctl-swarm-node-image.lock"
  flock -w 900 8 || { log "another build of $node_image holds the lock for 15 min; giving up"; return 1; }
  if docker image inspect "$node_image" >/dev/null 2>&1; then return 0; fi
  command -v debootstrap >/dev/null || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  local work started=$SECONDS id=
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # the path is fixed now
  trap "awk -v w='$work' 'index(\$2, w) == 1 { print \$2 }' /proc/mounts | sort -r | while read -r m; do umount -l \"\$m\" || true; done; rm -rf --one-file-system '$work'" EXIT
  log "building $node_image from Debian bookworm's docker.io (debootstrap, about a minute)"
  as_root debootstrap --variant=minbase --include=docker.io,iptables,ca-certificates,procps,iproute2 bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    log "debootstrap failed; last log lines:"
    tail -n 20 "$work/debootstrap.log" >&2
    return 1
  }
  as_root rm -rf "$work"/root/var/cache/apt/* "$work"/root/var/lib/apt/lists/* "$work"/root/usr/share/doc "$work"/root/usr/share/man "$work"/root/usr/share/locale
  node_entrypoint | as_root tee "$work/root/usr/local/bin/swarm-node-start" >/dev/null
  as_root chmod 755 "$work/root/usr/local/bin/swarm-node-start"
  # Imported untagged, tagged only when the whole root made it: a failed build leaves no tag.
  if ! id=$(as_root tar --numeric-owner -C "$work/root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENTRYPOINT ["/usr/local/bin/swarm-node-start"]' \
    -c 'CMD ["dockerd","--host=unix:///var/run/docker.sock","--host=tcp://0.0.0.0:2375","--tls=false","--group=root"]' -) || [ -z "$id" ]; then
    [ -z "$id" ] || docker rmi "$id" >/dev/null 2>&1 || true
    log "importing $node_image failed"
    return 1
  fi
  docker tag "$id" "$node_image"
  log "built $node_image in $((SECONDS - started)) s"
}

down() {
  local i
  for i in "${!nodes[@]}"; do
    if [ "$(docker inspect -f '{{.State.Running}}' "$cluster-${nodes[$i]}" 2>/dev/null)" = true ]; then
      timeout 20 docker exec "$cluster-${nodes[$i]}" docker swarm leave --force >/dev/null 2>&1 || true
    fi
  done
  docker ps -aq --filter "label=$mark" | xargs -r docker rm -f -v >/dev/null
  docker volume ls -q --filter "label=$mark" | xargs -r docker volume rm >/dev/null
  docker network ls -q --filter "label=$mark" | xargs -r docker network rm >/dev/null
}

wait_for_dockerd() {
  local i=$1 tries=0
  until in_node "$i" version >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ $tries -gt 120 ]; then
      log "dockerd in ${nodes[$i]} did not answer within 60 s; its log:"
      docker logs --tail 30 "$cluster-${nodes[$i]}" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

up() {
  build
  exec 7>"${TMPDIR:-/tmp}/$cluster.lock"
  flock -w 300 7 || { log "another swarm.sh up holds the lock"; return 1; }
  local started=$SECONDS i token
  down
  docker network create --label "$mark" --subnet "$subnet" "$network" >/dev/null
  for i in "${!nodes[@]}"; do
    docker volume create --label "$mark" "$cluster-${nodes[$i]}-docker" >/dev/null
    docker run -d --name "$cluster-${nodes[$i]}" --hostname "${nodes[$i]}" --label "$mark" \
      --network "$network" --ip "${ips[$i]}" \
      --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      --security-opt systempaths=unconfined --device-cgroup-rule 'a *:* rwm' --cgroupns=private --tmpfs /run --tmpfs /tmp \
      -e DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 \
      -v "$cluster-${nodes[$i]}-docker:/var/lib/docker" "$node_image" >/dev/null
  done
  for i in "${!nodes[@]}"; do wait_for_dockerd "$i"; done
  for i in "${!nodes[@]}"; do docker save "$test_image" | in_node "$i" load >/dev/null; done
  in_node 0 swarm init --advertise-addr "${ips[0]}" --listen-addr "${ips[0]}:2377" >/dev/null
  token=$(in_node 0 swarm join-token -q worker)
  for i in 1 2; do in_node "$i" swarm join --token "$token" --advertise-addr "${ips[$i]}" "${ips[0]}:2377" >/dev/null; done
  local tries=0
  until [ "$(in_node 0 node ls --filter role=worker -q | wc -l)" -eq 2 ] && ! in_node 0 node ls --format '{{.Status}}' | grep -qv Ready; do
    tries=$((tries + 1))
    [ $tries -le 60 ] || { log "the workers did not become Ready within 30 s"; in_node 0 node ls >&2; return 1; }
    sleep 0.5
  done
  log "3-node Swarm up in $((SECONDS - started)) s"
  echo "tcp://${ips[0]}:2375"
}

status() { in_node 0 node ls; }

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    echo "usage: bash scripts/swarm.sh build|up|down|status" >&2
    exit 2
    ;;
esac
