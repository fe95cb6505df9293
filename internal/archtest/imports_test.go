// Package archtest guards the shape of the module: the core packages stay
// free of client-go and eBPF so they can be embedded and tested alone.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// core packages must not depend on Kubernetes clients or eBPF.
var core = []string{
	"image", "layerfs", "inventory", "extract", "vulndb", "match", "severity",
	"osv", "userdir", "report", "scan", "cache", "workload", "registry", "layercache",
	"risk", "vex", "result",
}

var forbidden = []string{"k8s.io/client-go", "k8s.io/api/", "github.com/cilium/ebpf"}

func TestCoreImportsNoClusterOrEBPF(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	for _, pkg := range core {
		path := "github.com/runlens/runlens/internal/" + pkg
		out, err := exec.Command("go", "list", "-deps", path).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", path, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s; keep cluster and eBPF code out of the core", path, dep)
				}
			}
		}
	}
}
