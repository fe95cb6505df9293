package report

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/workload"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleResults() (result.Header, []*result.Image) {
	h := result.Header{
		SchemaVersion: result.SchemaVersion,
		Scanner:       result.Scanner{Name: "runlens", Version: "test"},
		CreatedAt:     time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Command:       "scan registry",
		Database:      &result.Database{BuiltAt: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), AgeSeconds: 172800, Advisories: 4331},
	}
	ok := &result.Image{
		Target:       image.Descriptor{Reference: "localhost:5000/shop/web:1.0", Digest: webDigest},
		Tags:         []string{"localhost:5000/shop/web:1.0", "localhost:5000/shop/web:latest"},
		Status:       result.StatusScanned,
		Distro:       &inventory.Distro{ID: "debian", VersionID: "9", PrettyName: "Debian GNU/Linux 9 (stretch)"},
		PackageCount: 42,
		Findings: []match.Finding{
			{ID: "CVE-2021-44228", Advisories: []string{"GHSA-jfh8-c2jp-5v3q"}, Severity: "CRITICAL",
				Package:       match.PackageRef{Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Ecosystem: "Maven", Type: "java-archive"},
				FixedVersions: []string{"2.15.0"},
				EPSS:          &match.EPSS{CVE: "CVE-2021-44228", Probability: 0.99999, Percentile: 1},
				KEV:           &match.KEV{CVE: "CVE-2021-44228", DateAdded: time.Date(2021, 12, 10, 0, 0, 0, 0, time.UTC)}},
			{ID: "CVE-2022-1292", Advisories: []string{"DLA-3008-1"}, Severity: "UNKNOWN",
				Package: match.PackageRef{Name: "libssl1.1", Version: "1.1.0l-1~deb9u5", Ecosystem: "Debian:9", Type: "deb", SourceName: "openssl"}},
		},
	}
	failed := result.Incomplete(image.Descriptor{Reference: "localhost:5000/shop/api:2.0"}, result.StatusFailed,
		errors.New("registry throttled the request (429) 5 times"))
	return h, []*result.Image{failed, ok}
}

const webDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

// sampleDocument is a registry scan's images with one workload of a
// cluster running the scanned digest.
func sampleDocument() *result.Document {
	hd, images := sampleResults()
	wl := &result.Workload{
		Workload: workload.Workload{
			Cluster: "prod-eu", Namespace: "shop", Kind: "Deployment", Name: "web", Pods: 3,
			Containers: []workload.Container{{Name: "web", Type: "container", Image: "localhost:5000/shop/web:1.0", Digest: webDigest, Owner: "internal"}},
			Exposure:   &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{"Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080"}},
			Sensitivity: &workload.Sensitivity{Privileged: true, SensitiveHostPaths: []string{"/"},
				RBAC: &workload.RBACPower{ClusterAdmin: true}},
		},
	}
	clusters := []result.Cluster{{Name: "prod-eu", Funnel: workload.Funnel{Pods: 3, Containers: 3, Digests: 1}, Workloads: 1,
		Problems: []workload.Problem{{Cluster: "prod-eu", Kind: "secrets", Reason: "forbidden: pull secrets not readable"}}}}
	return result.New(hd, images, []*result.Workload{wl}, clusters)
}

func write(t *testing.T, format string, doc *result.Document) []byte {
	t.Helper()
	f, err := Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, doc, Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// TestTableGolden renders a ranked cluster document: the funnel, the
// ranked risks and the actions lead, then the workloads.
func TestTableGolden(t *testing.T) {
	doc := sampleDocument()
	if err := risk.Rank(doc, risk.Options{Now: doc.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.golden", write(t, "table", doc))
}

func TestJSONGoldenAndRead(t *testing.T) {
	out := write(t, "json", sampleDocument())
	golden(t, "result.golden.json", out)

	// A saved result reads back into the same document.
	doc, err := result.Read(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(out), string(write(t, "json", doc))); diff != "" {
		t.Errorf("reading changed the document (-first +read):\n%s", diff)
	}
}

// Every listed format can be looked up by its name and writes a document
// (empty, and the sample); the table is the default.
func TestEveryFormatWrites(t *testing.T) {
	names := Names()
	if len(names) == 0 || names[0] != "table" {
		t.Fatalf("formats %v; want the table first (the default)", names)
	}
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			t.Errorf("format %q listed twice", name)
		}
		seen[name] = true
		if f, err := Lookup(name); err != nil || f.Name != name {
			t.Errorf("Lookup(%q) = %q, %v", name, f.Name, err)
		}
		for _, doc := range []*result.Document{result.New(result.Header{}, nil, nil, nil), sampleDocument()} {
			if out := write(t, name, doc); len(out) == 0 {
				t.Errorf("%s wrote nothing", name)
			}
		}
	}
	if _, err := Lookup("xml"); err == nil {
		t.Error("Lookup of an unknown format succeeded")
	}
}

// The workload table shows every severity that has findings: a workload
// with HIGH, MEDIUM and UNKNOWN findings shows all three.
func TestWorkloadFindingsShowEverySeverity(t *testing.T) {
	images := []*result.Image{{Target: image.Descriptor{Reference: "r/api", Digest: webDigest}, Status: result.StatusScanned, Findings: []match.Finding{
		{ID: "CVE-1", Severity: "HIGH"}, {ID: "CVE-2", Severity: "HIGH"}, {ID: "CVE-3", Severity: "MEDIUM"},
		{ID: "CVE-4", Severity: "UNKNOWN"}, {ID: "CVE-5", Severity: "UNKNOWN"}, {ID: "CVE-6", Severity: "UNKNOWN"},
	}}}
	wls := []*result.Workload{
		{Workload: workload.Workload{Cluster: "c1", Namespace: "shop", Kind: "Deployment", Name: "api", Containers: []workload.Container{{Name: "api", Digest: webDigest}}}},
		{Workload: workload.Workload{Cluster: "c1", Namespace: "shop", Kind: "Deployment", Name: "idle"}},
	}
	out := string(write(t, "table", result.New(result.Header{}, images, wls, nil)))
	for _, want := range []string{
		"Deployment/api   0     unknown   unknown      -      HIGH: 2, MEDIUM: 1, UNKNOWN: 3\n",
		"Deployment/idle  0     unknown   unknown      -      0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("workload table lacks %q:\n%s", want, out)
		}
	}
}
