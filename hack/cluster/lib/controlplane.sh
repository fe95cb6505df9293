# shellcheck shell=bash
# controlplane.sh — etcd, kube-apiserver, kube-controller-manager, kube-scheduler.
# Sourced by cluster.sh.

start_etcd() {
  mkdir -p "$DIR/etcd"
  start_proc etcd "$BIN/etcd" \
    --name "$CLUSTER_NAME" --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "$CLUSTER_NAME=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level warn
  wait_for etcd 30 etcd curl -sf "http://127.0.0.1:$ETCD_PORT/health"
}

api_ready() {
  curl -sf --cacert "$PKI/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" "https://127.0.0.1:$API_PORT/readyz"
}

start_apiserver() {
  start_proc kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" --token-auth-file "$PKI/tokens.csv" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --authorization-mode Node,RBAC --allow-privileged=true \
    --service-cluster-ip-range 10.96.0.0/16 \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" \
    --kubelet-preferred-address-types Hostname \
    --enable-priority-and-fairness=false --profiling=false --v 1
  wait_for kube-apiserver 90 kube-apiserver api_ready
}

start_controller_manager() {
  start_proc kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$KUBECONFIGS/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
    --controllers '*,-nodeipam' --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --cluster-name "$CLUSTER_NAME" --profiling=false --v 1
  wait_for kube-controller-manager 60 kube-controller-manager curl -skf "https://127.0.0.1:$KCM_PORT/healthz"
}

start_scheduler() {
  start_proc kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$KUBECONFIGS/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false --profiling=false --v 1
  wait_for kube-scheduler 60 kube-scheduler curl -skf "https://127.0.0.1:$SCHED_PORT/healthz"
}

# apply_rbac — the scanner's read-only ClusterRole from deploy/rbac, and a binding of
# it to the static-token user the scanner kubeconfig authenticates as.
apply_rbac() {
  local kc="$KUBECONFIGS/admin.kubeconfig"
  "$BIN/kubectl" --kubeconfig "$kc" apply -f "$REPO/deploy/rbac/runlens-scanner.yaml" >/dev/null
  "$BIN/kubectl" --kubeconfig "$kc" create clusterrolebinding runlens-scanner-static-user \
    --clusterrole runlens-scanner --user runlens-scanner >/dev/null
  # The default ServiceAccount exists once the controller-manager has made it; pods
  # are refused before that.
  wait_for "default ServiceAccount" 60 kube-controller-manager \
    "$BIN/kubectl" --kubeconfig "$kc" -n default get serviceaccount default
}
