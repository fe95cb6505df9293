package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/workload"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleResults() (Header, []*ImageResult) {
	h := Header{
		SchemaVersion: SchemaVersion,
		Scanner:       Scanner{Name: "runlens", Version: "test"},
		CreatedAt:     time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Command:       "scan registry",
		Database:      &Database{BuiltAt: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), AgeSeconds: 172800, Advisories: 4331},
	}
	ok := &ImageResult{
		Target:       image.Descriptor{Reference: "localhost:5000/shop/web:1.0", Digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
		Tags:         []string{"localhost:5000/shop/web:1.0", "localhost:5000/shop/web:latest"},
		Status:       StatusScanned,
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
	failed := &ImageResult{
		Target: image.Descriptor{Reference: "localhost:5000/shop/api:2.0"},
		Status: StatusFailed,
		Error:  "registry throttled the request (429) 5 times",
	}
	return h, []*ImageResult{failed, ok}
}

func run(t *testing.T, h Handler) {
	t.Helper()
	hd, results := sampleResults()
	if err := h.Start(hd); err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if err := h.Image(r); err != nil {
			t.Fatal(err)
		}
	}
	wl := &WorkloadResult{
		Workload: workload.Workload{
			Cluster: "prod-eu", Namespace: "shop", Kind: "Deployment", Name: "web", Pods: 3,
			Containers: []workload.Container{{Name: "web", Type: "container", Image: "localhost:5000/shop/web:1.0", Owner: "internal"}},
			Exposure:   &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{"Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080"}},
			Sensitivity: &workload.Sensitivity{Privileged: true, SensitiveHostPaths: []string{"/"},
				RBAC: &workload.RBACPower{ClusterAdmin: true}},
		},
		FindingsBySeverity: map[string]int{"CRITICAL": 1},
	}
	if err := h.Workload(wl); err != nil {
		t.Fatal(err)
	}
	sum := Summarize(results)
	sum.Clusters = []ClusterResult{{Name: "prod-eu", Funnel: workload.Funnel{Pods: 3, Containers: 3, Digests: 1}, Workloads: 1, Scanned: 1, Findings: 2,
		Problems: []workload.Problem{{Cluster: "prod-eu", Kind: "secrets", Reason: "forbidden: pull secrets not readable"}}}}
	if err := h.End(sum); err != nil {
		t.Fatal(err)
	}
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

func TestTableGolden(t *testing.T) {
	var buf bytes.Buffer
	run(t, NewTable(&buf))
	golden(t, "table.golden", buf.Bytes())
}

func TestJSONGoldenAndReplay(t *testing.T) {
	var buf bytes.Buffer
	run(t, NewJSON(&buf))
	golden(t, "result.golden.json", buf.Bytes())

	// A saved result replays into the same document.
	var again bytes.Buffer
	if err := Replay(bytes.NewReader(buf.Bytes()), NewJSON(&again)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(buf.String(), again.String()); diff != "" {
		t.Errorf("replay changed the document (-first +replayed):\n%s", diff)
	}
	if err := Replay(bytes.NewReader([]byte(`{"images":[]}`)), NewJSON(&again)); err == nil {
		t.Error("replaying a document without schema_version must fail")
	}
}

func TestFiltersAndFailOn(t *testing.T) {
	_, results := sampleResults()
	r := results[1]
	Filters{IgnoreUnfixed: true}.Apply(r)
	if len(r.Findings) != 1 || r.Findings[0].ID != "CVE-2021-44228" {
		t.Fatalf("ignore-unfixed kept %v", r.Findings)
	}
	if !AtLeast(results, "HIGH") || AtLeast([]*ImageResult{{Findings: []match.Finding{{Severity: "LOW"}}}}, "HIGH") {
		t.Error("AtLeast disagrees with severity order")
	}
	sev, err := ParseSeverities("high, critical,moderate")
	if err != nil || !cmp.Equal(sev, []string{"HIGH", "CRITICAL", "MEDIUM"}) {
		t.Errorf("ParseSeverities = %v, %v", sev, err)
	}
	if _, err := ParseSeverities("urgent"); err == nil {
		t.Error("unknown severity accepted")
	}
}

func TestSummaryCountsFailuresApart(t *testing.T) {
	_, results := sampleResults()
	s := Summarize(results)
	want := Summary{Tags: 2, Images: 2, Scanned: 1, Failed: 1, Findings: 2, BySeverity: map[string]int{"CRITICAL": 1, "UNKNOWN": 1}}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}
