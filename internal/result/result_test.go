package result

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/workload"
)

const (
	dWeb = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	dAPI = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	dOld = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

func finding(id, sev string, fixed ...string) match.Finding {
	return match.Finding{ID: id, Severity: sev, FixedVersions: fixed, Package: match.PackageRef{Name: "p", Version: "1"}}
}

// clusterDoc is one cluster: web runs dWeb (CRITICAL, HIGH, UNKNOWN), api
// runs dAPI twice (HIGH, UNKNOWN unfixed), old runs dOld whose scan failed.
func clusterDoc() *Document {
	images := []*Image{
		{Target: image.Descriptor{Reference: "r/web", Digest: dWeb}, Status: StatusScanned,
			Findings: []match.Finding{finding("CVE-1", "CRITICAL", "2"), finding("CVE-2", "HIGH", "2"), finding("CVE-3", "UNKNOWN", "2")}},
		{Target: image.Descriptor{Reference: "r/api", Digest: dAPI}, Status: StatusScanned,
			Findings: []match.Finding{finding("CVE-4", "HIGH", "2"), finding("CVE-5", "UNKNOWN")}},
		Incomplete(image.Descriptor{Reference: "r/old", Digest: dOld}, StatusFailed, errors.New("manifest unknown")),
	}
	ctr := func(name, digest string) workload.Container { return workload.Container{Name: name, Digest: digest} }
	wls := []*Workload{
		{Workload: workload.Workload{Cluster: "c1", Namespace: "shop", Kind: "Deployment", Name: "web", Containers: []workload.Container{ctr("web", dWeb)}}},
		{Workload: workload.Workload{Cluster: "c1", Namespace: "shop", Kind: "Deployment", Name: "api", Containers: []workload.Container{ctr("api", dAPI), ctr("sidecar", dAPI)}}},
		{Workload: workload.Workload{Cluster: "c1", Namespace: "shop", Kind: "Deployment", Name: "old", Containers: []workload.Container{ctr("old", dOld), ctr("pending", "")}}},
	}
	clusters := []Cluster{{Name: "c1", Status: StatusScanned, Funnel: workload.Funnel{Pods: 3, Containers: 5, Unresolved: 1, Digests: 3}, Workloads: 3}}
	return New(NewHeader("scan cluster", "test", nil), images, wls, clusters)
}

func TestNewCountsWorkloadsClustersAndSummary(t *testing.T) {
	d := clusterDoc()
	if got := []string{d.Images[0].Target.Reference, d.Images[1].Target.Reference, d.Images[2].Target.Reference}; !cmp.Equal(got, []string{"r/api", "r/old", "r/web"}) {
		t.Errorf("images not sorted: %v", got)
	}
	if got := d.Workloads[0].Ref(); got != "c1/shop/Deployment/api" {
		t.Errorf("workloads not sorted: first is %s", got)
	}
	// The same digest in two containers counts once.
	if diff := cmp.Diff(map[string]int{"HIGH": 1, "UNKNOWN": 1}, d.Workloads[0].FindingsBySeverity); diff != "" {
		t.Errorf("api findings by severity (-want +got):\n%s", diff)
	}
	c := d.Summary.Clusters[0]
	if c.Scanned != 2 || c.Failed != 1 || c.Findings != 5 {
		t.Errorf("cluster funnel %+v; want 2 scanned, 1 failed, 5 findings", c)
	}
	want := Summary{Images: 3, Scanned: 2, Failed: 1, Findings: 5, BySeverity: map[string]int{"CRITICAL": 1, "HIGH": 2, "UNKNOWN": 2}, Clusters: d.Summary.Clusters}
	if diff := cmp.Diff(want, d.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// Filtering narrows the findings, and every count follows: the workloads,
// the clusters' funnels and the summary.
func TestFilterRecountsEverything(t *testing.T) {
	d := clusterDoc()
	d.Filter(Filters{Severities: []string{"CRITICAL"}})
	if d.Summary.Findings != 1 || d.Summary.Clusters[0].Findings != 1 {
		t.Errorf("after --severity CRITICAL: summary %d findings, cluster %d; want 1 and 1", d.Summary.Findings, d.Summary.Clusters[0].Findings)
	}
	if diff := cmp.Diff(map[string]int{"CRITICAL": 1}, d.Workloads[2].FindingsBySeverity); diff != "" {
		t.Errorf("web after filter (-want +got):\n%s", diff)
	}
	if !cmp.Equal(d.Filters, Filters{Severities: []string{"CRITICAL"}}) {
		t.Errorf("filters not recorded: %+v", d.Filters)
	}

	d = clusterDoc()
	d.Filter(Filters{IgnoreUnfixed: true})
	if d.Summary.Findings != 4 || d.Summary.Clusters[0].Findings != 4 {
		t.Errorf("after --ignore-unfixed: %d findings, cluster %d; want 4", d.Summary.Findings, d.Summary.Clusters[0].Findings)
	}
}

func TestFilterDropsTheRisksOfRemovedFindings(t *testing.T) {
	d := clusterDoc()
	pkg := match.PackageRef{Name: "p", Version: "1"}
	d.Risks = []Risk{
		{Cluster: "c1", Namespace: "shop", Workload: "Deployment/web", Image: dWeb, Vulnerability: "CVE-1", Package: pkg},
		{Cluster: "c1", Namespace: "shop", Workload: "Deployment/web", Image: dWeb, Vulnerability: "CVE-2", Package: pkg},
	}
	d.Filter(Filters{Severities: []string{"CRITICAL"}})
	if len(d.Risks) != 1 || d.Risks[0].Vulnerability != "CVE-1" {
		t.Errorf("risks after filter: %+v; want only CVE-1's", d.Risks)
	}
	d.Filter(Filters{Severities: []string{"LOW"}})
	if d.Risks != nil {
		t.Errorf("risks of no finding kept: %+v", d.Risks)
	}
}

func TestFailedAndPartialResultsHaveAnEmptyFindingsArray(t *testing.T) {
	for status, want := range map[string]string{StatusFailed: StatusFailed, StatusPartial: StatusPartial, "bogus": StatusFailed} {
		r := Incomplete(image.Descriptor{Reference: "x"}, status, errors.New("why"))
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(`"findings":[]`)) || r.Error != "why" || r.Status != want {
			t.Errorf("Incomplete(%q) = %s; want status %s, error, empty findings", status, b, want)
		}
	}
	// Whoever built an image, the document's JSON has an array.
	d := New(Header{}, []*Image{{Status: StatusFailed}}, nil, nil)
	b, _ := json.Marshal(d)
	if !bytes.Contains(b, []byte(`"findings":[]`)) || bytes.Contains(b, []byte("null")) {
		t.Errorf("document JSON: %s", b)
	}
}

// The policy decides the code when it matched, even when the scan is also
// incomplete; otherwise an incomplete result exits 2.
// An image without a creation time has no "created" in its JSON.
func TestUnknownCreatedIsLeftOut(t *testing.T) {
	b, err := json.Marshal(Incomplete(image.Descriptor{Reference: "localhost:5000/shop/api:1"}, StatusFailed, errors.New("why")))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("created")) || bytes.Contains(b, []byte("0001-01-01")) {
		t.Errorf("zero creation time written: %s", b)
	}
}

func TestVerdictPrecedence(t *testing.T) {
	failOn := Policy{FailOn: "CRITICAL"}
	for _, tc := range []struct {
		name       string
		doc        *Document
		p          Policy
		also       []error
		code       int
		matched    string
		incomplete int
	}{
		{"clean", New(Header{}, []*Image{{Status: StatusScanned}}, nil, nil), failOn, nil, ExitOK, "", 0},
		{"policy and failed image", clusterDoc(), failOn, nil, ExitFindings, "1 findings at or above CRITICAL", 1},
		{"failed image, no policy", clusterDoc(), Policy{}, nil, ExitIncomplete, "", 1},
		{"exit-code", clusterDoc(), Policy{ExitCode: 7}, nil, 7, "5 findings reported", 1},
		{"fail-on wins over exit-code", clusterDoc(), Policy{FailOn: "HIGH", ExitCode: 7}, nil, ExitFindings, "3 findings at or above HIGH", 1},
		{"interrupted", New(Header{}, nil, nil, nil), Policy{}, []error{errors.New("scan interrupted")}, ExitIncomplete, "", 1},
	} {
		v := tc.doc.Verdict(tc.p, tc.also...)
		if v.Code != tc.code || v.Matched != tc.matched || len(v.Incomplete) != tc.incomplete {
			t.Errorf("%s: verdict %+v; want code %d, matched %q, %d incomplete", tc.name, v, tc.code, tc.matched, tc.incomplete)
		}
	}

	d := clusterDoc()
	d.Filter(Filters{Severities: []string{"LOW"}})
	if v := d.Verdict(failOn); v.Code != ExitIncomplete || v.Matched != "" {
		t.Errorf("failed image, nothing matched: %+v; want exit 2", v)
	}

	d = New(Header{}, nil, nil, []Cluster{{Name: "eu", Status: StatusScanned}, {Name: "gone", Status: StatusFailed}})
	v := d.Verdict(Policy{})
	if v.Code != ExitIncomplete || !cmp.Equal(v.Incomplete, []string{"1 of 2 clusters could not be scanned: gone"}) {
		t.Errorf("unreachable cluster: %+v", v)
	}
}

func TestReadRejectsWhatIsNotAResult(t *testing.T) {
	if _, err := Read(strings.NewReader(`{"images":[]}`)); err == nil {
		t.Error("a document without schema_version was read")
	}
	if _, err := Read(strings.NewReader(`{`)); err == nil {
		t.Error("truncated JSON was read")
	}
	d, err := Read(strings.NewReader(`{"schema_version":"1.0","images":[{"target":{"reference":"b"},"status":"failed","findings":null},{"target":{"reference":"a"},"status":"scanned"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Images[0].Target.Reference != "a" || d.Images[1].Findings == nil {
		t.Errorf("read document not normalised: %+v %+v", d.Images[0], d.Images[1])
	}
	if d.SchemaVersion != SchemaVersion {
		t.Errorf("a 1.0 document read as schema %s, want %s", d.SchemaVersion, SchemaVersion)
	}
	if _, err := Read(strings.NewReader(`{"schema_version":"99.0","images":[]}`)); err == nil {
		t.Error("a document of a newer major version was read")
	}
}

func TestParseSeverities(t *testing.T) {
	sev, err := ParseSeverities("high, critical,moderate")
	if err != nil || !cmp.Equal(sev, []string{"HIGH", "CRITICAL", "MEDIUM"}) {
		t.Errorf("ParseSeverities = %v, %v", sev, err)
	}
	if _, err := ParseSeverities("urgent"); err == nil {
		t.Error("unknown severity accepted")
	}
}

// The model imports the packages of the types it carries and nothing that
// scans, reads clusters or writes formats.
func TestImportsOnlyModelTypes(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{"image": true, "inventory": true, "layerfs": true, "match": true, "severity": true, "workload": true}
	for _, imp := range strings.Fields(string(out)) {
		if name, ok := strings.CutPrefix(imp, "github.com/runlens/runlens/internal/"); ok && !allowed[name] {
			t.Errorf("result imports %s; keep the model free of everything but the types it carries", imp)
		} else if !ok && strings.Contains(imp, ".") {
			t.Errorf("result imports %s directly", imp)
		}
	}
}
