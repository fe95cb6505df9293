# shellcheck shell=bash
# node.sh — the full-mode node: loopback registry, containerd (own config, root,
# state and socket), CNI bridge, pause image, kubelet; and their teardown.
# Sourced by cluster.sh.

PAUSE_IMAGE="registry.k8s.io/pause:3.10"
CGROUP_HIERARCHIES=(/sys/fs/cgroup/*/)

build_tools() {
  mkdir -p "$DIR/bin"
  (cd "$REPO" && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags '-s -w' -o "$DIR/bin/" \
    ./hack/cluster/registry ./hack/cluster/pause ./hack/cluster/imagetool) ||
    die "building hack/cluster tools failed"
}

start_registry() {
  printf '%s:%s\n' "$REGISTRY_USER" "$REGISTRY_PASS" >"$DIR/registry/auth"
  chmod 600 "$DIR/registry/auth"
  rm -f "$DIR/registry/ready"
  start_proc registry "$DIR/bin/registry" -listen "127.0.0.1:$REGISTRY_PORT" \
    -blobs "$DIR/registry/blobs" -auth-file "$DIR/registry/auth" -private-prefix "$REGISTRY_PRIVATE_PREFIX" \
    -ready-file "$DIR/registry/ready"
  wait_for registry 20 registry curl -sf "http://127.0.0.1:$REGISTRY_PORT/v2/"
}

write_containerd_config() {
  local c="$DIR/containerd"
  mkdir -p "$c/root" "$c/state" "$c/opt" "$DIR/cni/net.d" "$DIR/cni/ipam"
  cat >"$c/config.toml" <<TOML
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # The sandbox may not lower oom_score_adj (LOCAL-CLUSTER.md gotcha 1).
  restrict_oom_score_adj = true
  # Network namespaces live under our state dir, so down can prove they are gone.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$c/runc"
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    # Debian's containernetworking-plugins path (LOCAL-CLUSTER.md gotcha 2).
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"

  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:$REGISTRY_PORT"]
    endpoint = ["http://localhost:$REGISTRY_PORT"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."127.0.0.1:$REGISTRY_PORT"]
    endpoint = ["http://127.0.0.1:$REGISTRY_PORT"]
TOML
  # A bridge with no default route and no masquerading: pods reach only their own
  # subnet, never an address beyond this machine's pod network namespaces.
  cat >"$DIR/cni/net.d/10-runlens.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "runlens-$NAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$DIR/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]]
      }
    }
  ]
}
JSON
}

ctr_() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }

start_containerd() {
  write_containerd_config
  start_proc containerd containerd --config "$DIR/containerd/config.toml" --log-level info
  wait_for containerd 30 containerd ctr --address "$CONTAINERD_SOCK" version
  # The sandbox image: a static Go binary packed as a one-layer image and imported
  # under containerd's sandbox_image name (no public registry is reachable).
  "$DIR/bin/imagetool" -src "$DIR/bin/pause" -dst /pause -tag "$PAUSE_IMAGE" -o "$DIR/pause.tar" ||
    die "packing the pause image failed"
  ctr_ images import "$DIR/pause.tar" >/dev/null || die "importing the pause image failed"
}

make_cgroup_root() {
  local h
  for h in "${CGROUP_HIERARCHIES[@]}"; do
    mkdir -p "$h$CGROUP_ROOT_NAME"
    if [[ -f ${h}cpuset.cpus ]]; then
      cat "${h}cpuset.cpus" >"$h$CGROUP_ROOT_NAME/cpuset.cpus"
      cat "${h}cpuset.mems" >"$h$CGROUP_ROOT_NAME/cpuset.mems"
    fi
  done
}

start_kubelet() {
  local k="$DIR/kubelet"
  mkdir -p "$k/root" "$k/pod-logs"
  make_cgroup_root
  cat >"$k/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT_NAME
cgroupsPerQOS: true
failSwapOn: false
failCgroupV1: false
localStorageCapacityIsolation: false
evictionHard: {memory.available: "1Mi", nodefs.available: "0%", imagefs.available: "0%", nodefs.inodesFree: "0%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
podLogsDir: $k/pod-logs
clusterDomain: cluster.local
maxPods: 60
registerNode: true
# No KUBE-FIREWALL/KUBE-KUBELET-CANARY chains in the host's iptables: nothing here
# needs them, and down could not tell them from another kubelet's.
makeIPTablesUtilChains: false
YAML
  start_proc kubelet "$BIN/kubelet" --config "$k/config.yaml" \
    --kubeconfig "$KUBECONFIGS/kubelet.kubeconfig" --root-dir "$k/root" \
    --hostname-override "$NODE_NAME" --v 1
  wait_for "kubelet healthz" 60 kubelet curl -sf "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"
  wait_for "node $NODE_NAME Ready" 90 kubelet node_ready
}

node_ready() {
  [[ "$("$BIN/kubectl" --kubeconfig "$KUBECONFIGS/admin.kubeconfig" get node "$NODE_NAME" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# our_pids — processes this cluster started indirectly (shims, containers): their
# command line names our directory, or they live in our cgroup root.
our_pids() {
  local p
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF "$DIR/"; then echo "$p"; continue; fi
    if [[ -n ${CGROUP_ROOT_NAME:-} ]] && grep -qs ":/$CGROUP_ROOT_NAME\(/\|\$\)" "/proc/$p/cgroup"; then echo "$p"; fi
  done
}

# teardown_node — stop the node parts in order, then remove what they left behind.
teardown_node() {
  stop_proc kubelet 15
  if proc_alive containerd && [[ -x $BIN/crictl ]]; then
    # Stop and remove every pod through CRI: containerd then deletes the network
    # namespaces, CNI addresses and mounts itself.
    timeout 60 "$BIN/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCK" rmp -fa >/dev/null 2>&1 ||
      log "crictl rmp -fa failed; killing what is left"
  elif proc_alive containerd; then
    local t
    for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
  fi
  stop_proc containerd 15
}

# kill_leftovers — after every recorded process is stopped: shims and container
# processes of a crashed run, identified by our directory or cgroup, killed by PID.
kill_leftovers() {
  local pids p
  pids="$(our_pids)"
  if [[ -n $pids ]]; then
    log "killing leftover processes: $(echo $pids)"
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    sleep 0.5
  fi
}

# cleanup_host — mounts under our dir, the bridge, the cgroup root, CNI cache and
# kubelet's container log symlinks.
cleanup_host() {
  local m h d i
  for ((i = 0; i < 5; i++)); do
    m="$(findmnt -rn -o TARGET | grep -F "$DIR/" | sort -r)" || true
    [[ -z $m ]] && break
    while read -r d; do umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null || true; done <<<"$m"
  done
  if [[ -n ${BRIDGE:-} ]] && ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link delete "$BRIDGE" || true
  fi
  if [[ -n ${CGROUP_ROOT_NAME:-} ]]; then
    for h in "${CGROUP_HIERARCHIES[@]}"; do
      [[ -d $h$CGROUP_ROOT_NAME ]] || continue
      find "$h$CGROUP_ROOT_NAME" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  fi
  rm -f /var/lib/cni/results/"runlens-$NAME"-* 2>/dev/null || true
  # After a crash no CNI DEL ran and no shim cleaned up: remove the CNI cache entries
  # and shim sockets of every sandbox/container this containerd knew. containerd
  # names a shim socket /run/containerd/s/sha256("<address>/<namespace>/<id>").
  local id
  for id in $(ls "$DIR/containerd/state/io.containerd.runtime.v2.task/k8s.io" \
    "$DIR/containerd/root/io.containerd.grpc.v1.cri/sandboxes" 2>/dev/null | grep -E '^[0-9a-f]{64}$' | sort -u); do
    rm -f "/var/lib/cni/results/cni-loopback-$id-lo" \
      "/run/containerd/s/$(printf '%s' "$CONTAINERD_SOCK/k8s.io/$id" | sha256sum | cut -d' ' -f1)"
  done
  for d in /var/log/containers/*.log; do
    [[ -L $d && "$(readlink "$d")" == "$DIR/"* ]] && rm -f "$d"
  done
  # Paths the kubelet, CNI and containerd's shims hard-code outside our directory.
  # Removed (when empty) only if no other cluster of this run root has a kubelet.
  if [[ ${MODE:-} == full ]] && ! other_kubelet_running; then
    rm -f /var/lib/kubelet/device-plugins/kubelet.sock
    for d in /var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers \
      /var/lib/cni/results /var/lib/cni /run/containerd/s /run/containerd; do
      [[ -d $d ]] && rmdir "$d" 2>/dev/null || true
    done
  fi
  return 0
}

other_kubelet_running() {
  local f pid st
  for f in "$RUN_ROOT"/*/pids/kubelet.pid; do
    [[ -f $f && $f != "$PIDS/kubelet.pid" ]] || continue
    read -r pid st <"$f" || continue
    [[ -n $pid && "$(proc_start_time "$pid" 2>/dev/null)" == "$st" ]] && return 0
  done
  return 1
}
