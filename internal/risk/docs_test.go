package risk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/prioritization.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDocumentedTableIsTheEmbeddedOne: docs/prioritization.md shows
// every row of the table the ranking decides by.
func TestDocumentedTableIsTheEmbeddedOne(t *testing.T) {
	doc := readDoc(t)
	for _, row := range tableRows(t) {
		line := "| " + strings.Join(row, " | ") + " |"
		if !strings.Contains(doc, line) {
			t.Errorf("docs/prioritization.md lacks table row %q", line)
		}
	}
}

// TestDocumentedPolicyExampleLoads: the example policy in the docs is a
// valid policy file.
func TestDocumentedPolicyExampleLoads(t *testing.T) {
	doc := readDoc(t)
	_, rest, ok := strings.Cut(doc, "```yaml\n")
	if !ok {
		t.Fatal("no yaml example")
	}
	example, _, _ := strings.Cut(rest, "```")
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	pol, err := LoadPolicy(p)
	if err != nil {
		t.Fatalf("the documented example does not load: %v", err)
	}
	if len(pol.Rules) != 4 || len(pol.Accept) != 1 || len(pol.CriticalNamespaces) != 2 {
		t.Errorf("example read as %+v", pol)
	}
}
