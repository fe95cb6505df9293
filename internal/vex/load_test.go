package vex

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openVEX is an OpenVEX document around one statement.
func openVEX(statement string) string {
	return `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
	"author": "t", "timestamp": "2026-01-01T00:00:00Z", "version": 1, "statements": [` + statement + `]}`
}

// cycloneDX is a CycloneDX 1.6 BOM around one vulnerability.
func cycloneDX(vulnerability string) string {
	return `{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
	"components": [{"type": "library", "bom-ref": "zlib", "name": "zlib", "purl": "pkg:deb/debian/zlib1g@1.2.13"}],
	"vulnerabilities": [` + vulnerability + `]}`
}

func TestLoadRefusesBadInput(t *testing.T) {
	product := `"products": [{"@id": "sha256:` + strings.Repeat("a", 64) + `"}]`
	cases := []struct{ name, content, want string }{
		{"not JSON", `{"@context": "https://openvex.dev/ns/v0.2.0",`, "not JSON"},
		{"binary", "\x00\x01\x02PK\x03\x04", "not JSON"},
		{"an array", `[{"@context": "https://openvex.dev/ns/v0.2.0"}]`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"deeply nested", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "not JSON"},
		{"trailing garbage", openVEX(`{"vulnerability": {"name": "CVE-1"}, `+product+`, "status": "fixed"}`) + `{}`, "not JSON"},
		{"neither format", `{"document": {"category": "csaf_vex"}}`, "neither OpenVEX"},
		{"SPDX", `{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}`, "neither OpenVEX"},
		{"context not a string", `{"@context": ["https://openvex.dev/ns/v0.2.0"]}`, "@context is not a string"},
		{"OpenVEX v0.0.1", `{"@context": "https://openvex.dev/ns", "statements": []}`, "v0.0.1"},
		{"OpenVEX v0.1.0", `{"@context": "https://openvex.dev/ns/v0.1.0", "statements": []}`, "v0.2.0 and later"},
		{"OpenVEX odd context", `{"@context": "https://openvex.dev/nsfoo", "statements": []}`, "unknown OpenVEX @context"},
		{"OpenVEX bad timestamp", `{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "yesterday", "statements": []}`, "reading OpenVEX"},
		{"no vulnerability", openVEX(`{` + product + `, "status": "fixed"}`), "statement 1: no vulnerability name"},
		{"no products", openVEX(`{"vulnerability": {"name": "CVE-2024-1"}, "status": "fixed"}`), "statement 1 (CVE-2024-1): no products"},
		{"product without identifier", openVEX(`{"vulnerability": {"name": "CVE-2024-1"}, "products": [{}], "status": "fixed"}`), "product 1: no @id"},
		{"unknown status", openVEX(`{"vulnerability": {"name": "CVE-2024-1"}, ` + product + `, "status": "not_vulnerable"}`), `unknown status "not_vulnerable"`},
		{"no status", openVEX(`{"vulnerability": {"name": "CVE-2024-1"}, ` + product + `}`), `unknown status ""`},
		{"unknown justification", openVEX(`{"vulnerability": {"name": "CVE-2024-1"}, ` + product + `, "status": "not_affected", "justification": "trust_me"}`), `unknown justification "trust_me"`},
		{"not_affected without why", openVEX(`{"vulnerability": {"name": "CVE-2024-1"}, ` + product + `, "status": "not_affected"}`), "without a justification"},
		{"CycloneDX SBOM", `{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []}`, "not a VEX document"},
		{"CycloneDX 1.3", `{"bomFormat": "CycloneDX", "specVersion": "1.3", "version": 1}`, "1.4 and later"},
		{"CycloneDX unknown spec", `{"bomFormat": "CycloneDX", "specVersion": "9.9", "version": 1}`, "reading CycloneDX"},
		{"CycloneDX no analysis", cycloneDX(`{"id": "CVE-2024-1", "affects": [{"ref": "zlib"}]}`), "vulnerability 1 (CVE-2024-1): no analysis.state"},
		{"CycloneDX unknown state", cycloneDX(`{"id": "CVE-2024-1", "analysis": {"state": "fine"}, "affects": [{"ref": "zlib"}]}`), `unknown analysis.state "fine"`},
		{"CycloneDX unknown justification", cycloneDX(`{"id": "CVE-2024-1", "analysis": {"state": "not_affected", "justification": "because"}, "affects": [{"ref": "zlib"}]}`), `unknown analysis.justification "because"`},
		{"CycloneDX no id", cycloneDX(`{"analysis": {"state": "in_triage"}, "affects": [{"ref": "zlib"}]}`), "no vulnerability id"},
		{"CycloneDX no affects", cycloneDX(`{"id": "CVE-2024-1", "analysis": {"state": "in_triage"}}`), "no affects"},
		{"CycloneDX dangling ref", cycloneDX(`{"id": "CVE-2024-1", "analysis": {"state": "in_triage"}, "affects": [{"ref": "zlib-typo"}]}`), `"zlib-typo" names no component`},
		{"CycloneDX bad date", cycloneDX(`{"id": "CVE-2024-1", "analysis": {"state": "in_triage", "lastUpdated": "May 2"}, "affects": [{"ref": "zlib"}]}`), `date-time "May 2"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "doc.vex")
			if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			set, err := Load(context.Background(), []string{path})
			if err == nil {
				t.Fatalf("loaded %d statements, want an error with %q", set.Statements(), c.want)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to name %s and say %q", err, path, c.want)
			}
		})
	}
}

func TestLoadPaths(t *testing.T) {
	good := openVEX(`{"vulnerability": {"name": "CVE-2024-1"}, "products": [{"@id": "pkg:deb/debian/zlib1g"}], "status": "fixed"}`)
	t.Run("a bad file in a directory fails the load", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "a.json"), good)
		write(t, filepath.Join(dir, "b.json"), `{"hello": "world"}`)
		write(t, filepath.Join(dir, "notes.txt"), "not read")
		_, err := Load(context.Background(), []string{dir})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "b.json")) {
			t.Fatalf("error %v, want one naming b.json", err)
		}
	})
	t.Run("directories read *.json in name order, not subdirectories", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "b.JSON"), good)
		write(t, filepath.Join(dir, "a.json"), good)
		write(t, filepath.Join(dir, "readme.md"), "# not VEX")
		write(t, filepath.Join(dir, "sub", "bad.json"), "not json")
		set, err := Load(context.Background(), []string{dir, filepath.Join(dir, "a.json")})
		if err != nil {
			t.Fatal(err)
		}
		docs := set.Documents()
		want := []string{"a.json", "b.JSON", "a.json"}
		if len(docs) != len(want) {
			t.Fatalf("documents %v, want %v", docs, want)
		}
		for i, w := range want {
			if !strings.HasPrefix(docs[i], filepath.Join(dir, w)+" (") {
				t.Errorf("document %d = %q, want %s first", i, docs[i], w)
			}
		}
		if set.Statements() != 3 {
			t.Errorf("%d statements, want 3", set.Statements())
		}
	})
	t.Run("an empty directory", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := Load(context.Background(), []string{dir}); err == nil || !strings.Contains(err.Error(), "no *.json") {
			t.Fatalf("error %v, want no *.json", err)
		}
	})
	t.Run("a missing path", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.json")
		if _, err := Load(context.Background(), []string{path}); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("error %v, want one naming %s", err, path)
		}
	})
	t.Run("a file over the size limit", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "big.json")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(MaxFileBytes + 1); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if _, err := Load(context.Background(), []string{path}); err == nil || !strings.Contains(err.Error(), "more than") {
			t.Fatalf("error %v, want the size limit", err)
		}
	})
	t.Run("more files than the limit", func(t *testing.T) {
		dir := t.TempDir()
		for i := 0; i <= MaxFiles; i++ {
			write(t, filepath.Join(dir, fmt.Sprintf("%04d.json", i)), "")
		}
		if _, err := Load(context.Background(), []string{dir}); err == nil || !strings.Contains(err.Error(), "more than 1000 files") {
			t.Fatalf("error %v, want the file limit", err)
		}
	})
	t.Run("a cancelled context", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.json")
		write(t, path, good)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Load(ctx, []string{path}); err == nil {
			t.Fatal("loaded with a cancelled context")
		}
	})
	t.Run("an empty OpenVEX document states nothing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty.json")
		write(t, path, openVEX(""))
		set, err := Load(context.Background(), []string{path})
		if err != nil || set.Statements() != 0 {
			t.Fatalf("Load = %v, %v; want no statements and no error", set, err)
		}
	})
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
