// Package e2e holds runlens's real-Kubernetes smoke tests of the test harness
// itself (hack/cluster, internal/testing/cluster). They run only with RUNLENS_E2E=1
// and as root; hack/cluster/e2e.sh is the one command that runs them.
package e2e
