# shellcheck shell=bash
# certs.sh — the cluster's CA, serving and client certificates, tokens and
# kubeconfigs. Sourced by cluster.sh; writes under $PKI and $KUBECONFIGS.

# sign NAME SUBJECT [SAN] — an ECDSA key and a certificate signed by the cluster CA.
sign() {
  local n="$1" subj="$2" san="${3:-}" ext
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$n.key" 2>/dev/null
  openssl req -new -key "$PKI/$n.key" -subj "$subj" -out "$PKI/$n.csr" 2>/dev/null
  ext="$PKI/$n.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n $san ]]; then
      echo "extendedKeyUsage=serverAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl x509 -req -in "$PKI/$n.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$ext" -out "$PKI/$n.crt" 2>/dev/null
  rm -f "$PKI/$n.csr" "$ext"
}

token() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# kubeconfig FILE USER TOKEN — a kubeconfig for USER with a static bearer token.
kubeconfig() {
  local file="$1" user="$2" tok="$3"
  cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $user
  user:
    token: $tok
contexts:
- name: $CLUSTER_NAME-$user
  context:
    cluster: $CLUSTER_NAME
    user: $user
current-context: $CLUSTER_NAME-$user
KC
  chmod 600 "$file"
}

make_pki() {
  mkdir -p "$PKI" "$KUBECONFIGS"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=runlens-test-ca-$NAME" -days 30 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$PKI/ca.crt" 2>/dev/null
  sign apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  sign kubelet "/CN=$NODE_NAME" "IP:127.0.0.1,DNS:localhost,DNS:$NODE_NAME"
  # The service-account signing key: RSA, like kubeadm's.
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key

  local admin scanner kcm sched node
  admin="$(token)" scanner="$(token)" kcm="$(token)" sched="$(token)" node="$(token)"
  # Static tokens: an admin, the read-only scanner (bound to the ClusterRole from
  # deploy/rbac), the control-plane components and the node.
  cat >"$PKI/tokens.csv" <<TOK
$admin,runlens-admin,uid-runlens-admin,"system:masters"
$scanner,runlens-scanner,uid-runlens-scanner
$kcm,system:kube-controller-manager,uid-kcm
$sched,system:kube-scheduler,uid-scheduler
$node,system:node:$NODE_NAME,uid-node,"system:nodes"
TOK
  chmod 600 "$PKI/tokens.csv"
  kubeconfig "$KUBECONFIGS/admin.kubeconfig" runlens-admin "$admin"
  kubeconfig "$KUBECONFIGS/scanner.kubeconfig" runlens-scanner "$scanner"
  kubeconfig "$KUBECONFIGS/controller-manager.kubeconfig" system:kube-controller-manager "$kcm"
  kubeconfig "$KUBECONFIGS/scheduler.kubeconfig" system:kube-scheduler "$sched"
  kubeconfig "$KUBECONFIGS/kubelet.kubeconfig" "system:node:$NODE_NAME" "$node"
  ADMIN_TOKEN="$admin"
}
