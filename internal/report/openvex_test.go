package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/vex"
	"github.com/runlens/runlens/internal/workload"
)

const (
	ovWeb   = "sha256:5555555555555555555555555555555555555555555555555555555555555555"
	ovNginx = "sha256:6666666666666666666666666666666666666666666666666666666666666666"
)

var (
	ovLibssl = match.PackageRef{Name: "libssl3", Version: "3.0.11-1~deb12u2", Ecosystem: "Debian:12", Type: "deb",
		PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2"}
	ovZlib = match.PackageRef{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Ecosystem: "Debian:12", Type: "deb",
		PURL: "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12", SourceName: "zlib"}
	ovStart = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	ovEnd   = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
)

// ovRisk is one occurrence: vulnerability, package, digest, workload name
// ("" for an image scan) and runtime.
func ovRisk(vuln string, pkg match.PackageRef, digest, wl string, rt result.Runtime) result.Risk {
	r := result.Risk{Vulnerability: vuln, Package: pkg, Image: digest, Runtime: rt, Tier: result.TierScheduled,
		Facts: result.Facts{FindingFacts: &result.FindingFacts{FixedVersions: []string{"3.0.15-1~deb12u1", "3.1.1-1"}}, PlaceFacts: &result.PlaceFacts{}}}
	if wl != "" {
		r.Cluster, r.Namespace, r.Workload = "prod", "shop", "Deployment/"+wl
	}
	return r
}

func ovWatched(complete bool, drops int64) result.Runtime {
	return result.Runtime{State: result.RuntimeNotObserved, Window: &result.Window{Start: ovStart, End: ovEnd, Complete: complete, Drops: drops}}
}

var (
	ovLoaded  = result.Runtime{State: result.RuntimeLoaded, Evidence: []string{"pid 42 maps libssl.so.3"}}
	ovUnknown = result.Runtime{State: result.RuntimeUnknown}
)

// ovDocument is a cluster scan whose risks have every runtime state, and
// the status each (vulnerability, package, digest) must get.
func ovDocument() (*result.Document, map[string]string) {
	r := []result.Risk{
		ovRisk("CVE-2024-1001", ovLibssl, ovWeb, "web", ovWatched(true, 0)),
		ovRisk("CVE-2024-1001", ovLibssl, ovWeb, "web-canary", ovWatched(true, 0)),
		ovRisk("CVE-2024-1001", ovZlib, ovWeb, "web", ovUnknown),
		ovRisk("CVE-2024-1001", ovLibssl, ovNginx, "edge", ovLoaded),
		ovRisk("CVE-2024-1002", ovLibssl, ovWeb, "web", ovWatched(false, 12)),
		ovRisk("CVE-2024-1003", ovLibssl, ovWeb, "web", ovLoaded),
		ovRisk("CVE-2024-1004", ovLibssl, ovWeb, "web", ovUnknown),
		ovRisk("CVE-2024-1005", ovLibssl, ovWeb, "web", ovWatched(true, 0)),
		ovRisk("CVE-2024-1005", ovLibssl, ovWeb, "web-canary", result.Runtime{State: result.RuntimeExecuted}),
		ovRisk("CVE-2024-1006", ovLibssl, ovWeb, "web", ovWatched(true, 0)),
		ovRisk("CVE-2024-1006", ovLibssl, ovWeb, "web-canary", ovUnknown),
		ovRisk("CVE-2024-1007", ovZlib, ovWeb, "web", ovLoaded),
		ovRisk("CVE-2024-1008", ovZlib, ovWeb, "web", ovUnknown),
		ovRisk("CVE-2024-1009", ovZlib, ovWeb, "web", ovLoaded),
		ovRisk("CVE-2024-1010", ovZlib, ovWeb, "web", result.Runtime{State: result.RuntimeNotObserved}),
	}
	r[0].Aliases = []string{"GHSA-aaaa-bbbb-cccc", "CVE-2024-1001"}
	input := "vendor.json (https://vendor.example/vex/1)"
	r[11].VEX = &result.VEXStatement{Status: result.VEXNotAffected, Justification: "component_not_present", Impact: "zlib is not used", Document: input, Format: "openvex", Product: ovWeb}
	r[11].Suppressed = &result.Suppression{By: "vex", Reason: "VEX not_affected: component_not_present (" + input + ")"}
	r[12].VEX = &result.VEXStatement{Status: result.VEXFixed, Document: input, Format: "cyclonedx", Product: ovWeb}
	r[12].Suppressed = &result.Suppression{By: "vex", Reason: "VEX fixed (" + input + ")"}
	r[13].Suppressed = &result.Suppression{By: "policy", Reason: "accepted until the next release", Rule: "policy.yaml accept[0]"}
	want := map[string]string{
		"CVE-2024-1001 libssl3 " + ovWeb:   "not_affected",
		"CVE-2024-1001 zlib1g " + ovWeb:    "under_investigation",
		"CVE-2024-1001 libssl3 " + ovNginx: "affected",
		"CVE-2024-1002 libssl3 " + ovWeb:   "under_investigation",
		"CVE-2024-1003 libssl3 " + ovWeb:   "affected",
		"CVE-2024-1004 libssl3 " + ovWeb:   "under_investigation",
		"CVE-2024-1005 libssl3 " + ovWeb:   "affected",
		"CVE-2024-1006 libssl3 " + ovWeb:   "under_investigation",
		"CVE-2024-1007 zlib1g " + ovWeb:    "not_affected",
		"CVE-2024-1008 zlib1g " + ovWeb:    "fixed",
		"CVE-2024-1009 zlib1g " + ovWeb:    "affected",
		"CVE-2024-1010 zlib1g " + ovWeb:    "under_investigation",
	}
	web := func(name string) *result.Workload {
		return &result.Workload{Workload: workload.Workload{Cluster: "prod", Namespace: "shop", Kind: "Deployment", Name: name,
			Containers: []workload.Container{{Name: "web", Image: "localhost:5000/shop/web:1.4", Digest: ovWeb}}}}
	}
	edge := &result.Workload{Workload: workload.Workload{Cluster: "prod", Namespace: "shop", Kind: "Deployment", Name: "edge",
		Containers: []workload.Container{{Name: "nginx", Image: "nginx:1.25", Digest: ovNginx}}}}
	h := result.Header{SchemaVersion: result.SchemaVersion, Scanner: result.Scanner{Name: "runlens", Version: "test"},
		CreatedAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC), Command: "scan cluster"}
	images := []*result.Image{
		{Target: image.Descriptor{Reference: "localhost:5000/shop/web:1.4", Digest: ovWeb}, Status: result.StatusScanned},
		{Target: image.Descriptor{Reference: "nginx:1.25", Digest: ovNginx, RepoDigests: []string{"index.docker.io/library/nginx@" + ovNginx}}, Status: result.StatusScanned},
	}
	doc := result.New(h, images, []*result.Workload{web("web"), web("web-canary"), edge}, nil)
	doc.Risks = r
	return doc, want
}

// ovWrite renders doc as OpenVEX through the format list.
func ovWrite(t *testing.T, doc *result.Document) []byte {
	t.Helper()
	f, err := Lookup("openvex")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, doc, Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ovLoad reads an OpenVEX output back as VEX input.
func ovLoad(t *testing.T, out []byte) *vex.Set {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runlens.vex.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := vex.Load(context.Background(), []string{path})
	if err != nil {
		t.Fatalf("our own OpenVEX does not load: %v\n%s", err, out)
	}
	return set
}

func ovRepos(digest string) []string {
	if digest == ovNginx {
		return []string{"nginx"}
	}
	return []string{"localhost:5000/shop/web:1.4"}
}

func TestOpenVEXRoundTrip(t *testing.T) {
	doc, want := ovDocument()
	out := ovWrite(t, doc)
	set := ovLoad(t, out)
	if got := set.Statements(); got != len(want) {
		t.Errorf("%d statements, want one per finding and digest (%d)", got, len(want))
	}
	for _, r := range doc.Risks {
		key := r.Vulnerability + " " + r.Package.Name + " " + r.Image
		st := set.Lookup(vex.Query{Vulnerability: r.Vulnerability, Aliases: r.Aliases, Digest: r.Image,
			Repositories: ovRepos(r.Image), PackagePURL: r.Package.PURL})
		if st == nil {
			t.Errorf("%s: our statement does not match its own finding", key)
			continue
		}
		if st.Status != want[key] {
			t.Errorf("%s: %s, want %s", key, st.Status, want[key])
		}
		if st.Status == result.VEXNotAffected && !strings.Contains(st.Product, " > "+r.Package.PURL) {
			t.Errorf("%s: not_affected matched %q, not the package as a subcomponent", key, st.Product)
		}
	}
	// Only the finding watched in every workload over complete windows is
	// not affected on runtime grounds, and it says when and where.
	st := set.Lookup(vex.Query{Vulnerability: "GHSA-aaaa-bbbb-cccc", Digest: ovWeb, Repositories: []string{"localhost:5000/shop/web"}, PackagePURL: ovLibssl.PURL})
	if st == nil || st.Justification != "vulnerable_code_not_in_execute_path" {
		t.Fatalf("alias lookup: %+v", st)
	}
	for _, s := range []string{"2 workload(s)", "prod/shop/Deployment/web from 2026-11-20T08:00:00Z to 2026-11-27T08:00:00Z", "prod/shop/Deployment/web-canary", "every window complete", "openssl"} {
		if !strings.Contains(st.Impact, s) {
			t.Errorf("impact statement %q lacks %q", st.Impact, s)
		}
	}
	// The same finding in another image is not covered; the same digest
	// under another repository is the same content, matched by the digest
	// alone.
	if st := set.Lookup(vex.Query{Vulnerability: "CVE-2024-1001", Digest: ovNginx, Repositories: []string{"nginx"}, PackagePURL: ovLibssl.PURL}); st == nil || st.Status != result.VEXAffected {
		t.Errorf("nginx: %+v, want its own affected statement", st)
	}
	st = set.Lookup(vex.Query{Vulnerability: "CVE-2024-1001", Digest: ovWeb, Repositories: []string{"ghcr.io/other/web"}, PackagePURL: ovLibssl.PURL})
	if st == nil || st.Product != ovWeb+" > "+ovLibssl.PURL {
		t.Errorf("mirror of the web image: %+v, want a match by the bare digest", st)
	}
}

// TestOpenVEXOnlyCompleteWindowsSuppress: of four findings, one per
// runtime state, read back as VEX input, only the one watched over a
// complete window is not affected.
func TestOpenVEXOnlyCompleteWindowsSuppress(t *testing.T) {
	doc, _ := ovDocument()
	doc.Risks = []result.Risk{
		ovRisk("CVE-2024-2001", ovLibssl, ovWeb, "web", ovWatched(true, 0)),
		ovRisk("CVE-2024-2002", ovLibssl, ovWeb, "web", ovWatched(false, 3)),
		ovRisk("CVE-2024-2003", ovLibssl, ovWeb, "web", ovLoaded),
		ovRisk("CVE-2024-2004", ovLibssl, ovWeb, "web", ovUnknown),
	}
	set := ovLoad(t, ovWrite(t, doc))
	want := []string{"not_affected", "under_investigation", "affected", "under_investigation"}
	for i, r := range doc.Risks {
		st := set.Lookup(vex.Query{Vulnerability: r.Vulnerability, Digest: r.Image, Repositories: []string{"localhost:5000/shop/web"}, PackagePURL: r.Package.PURL})
		if st == nil || st.Status != want[i] {
			t.Errorf("%s (%s): %+v, want %s", r.Vulnerability, r.Runtime.State, st, want[i])
		}
	}
}

func TestOpenVEXStatements(t *testing.T) {
	doc, _ := ovDocument()
	var got struct {
		ID         string `json:"@id"`
		Timestamp  string `json:"timestamp"`
		Statements []struct {
			Vulnerability struct {
				Name    string   `json:"name"`
				Aliases []string `json:"aliases"`
			} `json:"vulnerability"`
			Products []struct {
				ID            string            `json:"@id"`
				Hashes        map[string]string `json:"hashes"`
				Subcomponents []struct {
					ID string `json:"@id"`
				} `json:"subcomponents"`
			} `json:"products"`
			Status        string `json:"status"`
			Justification string `json:"justification"`
			Impact        string `json:"impact_statement"`
			Action        string `json:"action_statement"`
			Notes         string `json:"status_notes"`
		} `json:"statements"`
	}
	if err := json.Unmarshal(ovWrite(t, doc), &got); err != nil {
		t.Fatal(err)
	}
	if got.Timestamp != "2026-11-27T09:30:00Z" || !strings.HasPrefix(got.ID, "https://openvex.dev/docs/public/vex-") {
		t.Errorf("timestamp %q, @id %q", got.Timestamp, got.ID)
	}
	by := map[string]int{}
	for i, s := range got.Statements {
		if len(s.Products) != 1 || len(s.Products[0].Subcomponents) != 1 {
			t.Fatalf("statement %d: products %+v, want one image with one package", i, s.Products)
		}
		by[s.Vulnerability.Name+" "+s.Products[0].Subcomponents[0].ID+" "+s.Products[0].ID] = i
		if s.Status == "fixed" && s.Vulnerability.Name != "CVE-2024-1008" {
			t.Errorf("%s: fixed, which only an input VEX statement may say", s.Vulnerability.Name)
		}
	}
	webPURL := "pkg:oci/web@" + ovWeb + "?repository_url=localhost:5000%2Fshop%2Fweb"
	nginxPURL := "pkg:oci/nginx@" + ovNginx + "?repository_url=docker.io%2Flibrary%2Fnginx"
	statement := func(key string) int {
		t.Helper()
		i, ok := by[key]
		if !ok {
			t.Fatalf("no statement %q; have %v", key, by)
		}
		return i
	}
	first := got.Statements[statement("CVE-2024-1001 "+ovLibssl.PURL+" "+webPURL)]
	if len(first.Products) != 1 || first.Products[0].ID != webPURL || first.Products[0].Hashes["sha-256"] != strings.Repeat("5", 64) {
		t.Errorf("products %+v, want the pkg:oci purl with the digest as sha-256", first.Products)
	}
	if !slices.Equal(first.Vulnerability.Aliases, []string{"GHSA-aaaa-bbbb-cccc"}) {
		t.Errorf("aliases %v, want the GHSA only", first.Vulnerability.Aliases)
	}
	loaded := got.Statements[statement("CVE-2024-1003 "+ovLibssl.PURL+" "+webPURL)]
	if loaded.Action != "upgrade openssl to 3.0.15-1~deb12u1" || !strings.Contains(loaded.Notes, "loaded in prod/shop/Deployment/web") {
		t.Errorf("affected: action %q, notes %q", loaded.Action, loaded.Notes)
	}
	partial := got.Statements[statement("CVE-2024-1002 "+ovLibssl.PURL+" "+webPURL)]
	if partial.Justification != "" || partial.Impact != "" || !strings.Contains(partial.Notes, "partial window (12 events dropped)") {
		t.Errorf("partial window: %+v", partial)
	}
	carried := got.Statements[statement("CVE-2024-1007 "+ovZlib.PURL+" "+webPURL)]
	if carried.Justification != "component_not_present" || carried.Impact != "zlib is not used" || !strings.Contains(carried.Notes, "vendor.json") {
		t.Errorf("carried statement: %+v", carried)
	}
	if s := got.Statements[statement("CVE-2024-1001 "+ovLibssl.PURL+" "+nginxPURL)]; s.Status != "affected" {
		t.Errorf("nginx image: %s, want affected", s.Status)
	}
}

func TestOpenVEXDeterministic(t *testing.T) {
	doc, _ := ovDocument()
	// One finding set aside in two workloads by two input statements.
	for i, st := range []result.VEXStatement{
		{Status: result.VEXNotAffected, Justification: "vulnerable_code_not_present", Document: "a.json", Format: "openvex", Product: ovWeb},
		{Status: result.VEXFixed, Document: "b.json", Format: "cyclonedx", Product: ovWeb},
	} {
		r := ovRisk("CVE-2024-1011", ovZlib, ovWeb, []string{"web", "web-canary"}[i], ovUnknown)
		r.VEX, r.Suppressed = &st, &result.Suppression{By: "vex", Reason: "VEX " + st.Status}
		doc.Risks = append(doc.Risks, r)
	}
	a := ovWrite(t, doc)
	if !strings.Contains(ovStatuses(t, a), "CVE-2024-1011=fixed ") {
		t.Errorf("two input statements: %s, want fixed carried", ovStatuses(t, a))
	}
	slices.Reverse(doc.Risks)
	slices.Reverse(doc.Workloads)
	if b := ovWrite(t, doc); !bytes.Equal(a, b) {
		t.Errorf("output depends on the order of risks and workloads:\n%s\n---\n%s", a, b)
	}
	for i := range doc.Risks {
		if doc.Risks[i].Vulnerability == "CVE-2024-1003" {
			doc.Risks[i].Runtime = ovUnknown
		}
	}
	if c := ovWrite(t, doc); ovID(t, c) == ovID(t, a) {
		t.Errorf("@id %s did not change with the content", ovID(t, c))
	}
}

func ovID(t *testing.T, out []byte) string {
	t.Helper()
	var d struct {
		ID string `json:"@id"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// ovScanDocument is an image scan before ranking: findings only, one image
// from a registry and one from a file.
func ovScanDocument() *result.Document {
	h := result.Header{SchemaVersion: result.SchemaVersion, CreatedAt: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Command: "scan image"}
	finding := match.Finding{ID: "CVE-2024-1001", Aliases: []string{"GHSA-aaaa-bbbb-cccc"}, Package: ovLibssl, FixedVersions: []string{"3.0.15-1~deb12u1"}}
	images := []*result.Image{
		{Target: image.Descriptor{Reference: "localhost:5000/shop/web:1.4", Digest: ovWeb}, Status: result.StatusScanned, Findings: []match.Finding{finding}},
		{Target: image.Descriptor{Reference: "./build/nginx.tar", Digest: ovNginx}, Status: result.StatusScanned, Findings: []match.Finding{finding}},
		{Target: image.Descriptor{Reference: "/srv/rootfs"}, Status: result.StatusScanned, Findings: []match.Finding{finding}},
	}
	return result.New(h, images, nil, nil)
}

func TestOpenVEXImageScanIsUnderInvestigation(t *testing.T) {
	out := ovWrite(t, ovScanDocument())
	set := ovLoad(t, out)
	if set.Statements() != 2 {
		t.Errorf("%d statements, want one per digest (a directory has none)", set.Statements())
	}
	for _, q := range []vex.Query{
		{Vulnerability: "CVE-2024-1001", Digest: ovWeb, Repositories: []string{"localhost:5000/shop/web"}, PackagePURL: ovLibssl.PURL},
		{Vulnerability: "GHSA-aaaa-bbbb-cccc", Digest: ovNginx, PackagePURL: ovLibssl.PURL},
	} {
		st := set.Lookup(q)
		if st == nil || st.Status != result.VEXUnderInvestigation {
			t.Errorf("%+v: %+v, want under_investigation", q, st)
		}
	}
	if st := set.Lookup(vex.Query{Vulnerability: "CVE-2024-1001", Digest: ovNginx, PackagePURL: ovLibssl.PURL}); st == nil || st.Product != ovNginx+" > "+ovLibssl.PURL {
		t.Errorf("an image from a file is named by its bare digest: %+v", st)
	}
}

func TestOpenVEXIsListed(t *testing.T) {
	if !slices.Contains(Names(), "openvex") {
		t.Errorf("Names() = %v, want openvex among them", Names())
	}
}
