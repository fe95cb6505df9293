package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// heavyClients are client-go packages that register or link every API
// group of Kubernetes: the generated clientset and its scheme, and the
// discovery client that imports them. runlens reads a handful of kinds
// through internal/k8s's own client instead; tests may use them.
var heavyClients = []string{"k8s.io/client-go/kubernetes", "k8s.io/client-go/discovery"}

// TestBinaryLinksNoGeneratedClientset keeps the runlens binary free of the
// generated clientset: it would add every API group (tens of megabytes)
// and a scheme registration at the start of every command, scan image
// included.
func TestBinaryLinksNoGeneratedClientset(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	const bin = "github.com/runlens/runlens/cmd/runlens"
	out, err := exec.Command("go", "list", "-deps", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", bin, err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, h := range heavyClients {
			if dep == h || strings.HasPrefix(dep, h+"/") {
				t.Errorf("%s links %s; list through internal/k8s.Client", bin, dep)
			}
		}
	}
}
