package report

import (
	"strconv"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/result"
)

// sarifLog is the part of a SARIF log the tests read.
type sarifLog struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name           string `json:"name"`
				Version        string `json:"version"`
				InformationURI string `json:"informationUri"`
				Rules          []struct {
					ID               string `json:"id"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					HelpURI string `json:"helpUri"`
					Help    struct {
						Text string `json:"text"`
					} `json:"help"`
					Properties map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					Name string `json:"name"`
					Kind string `json:"kind"`
				} `json:"logicalLocations"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct {
				Kind          string `json:"kind"`
				Justification string `json:"justification"`
			} `json:"suppressions"`
		} `json:"results"`
		Invocations []struct {
			ExecutionSuccessful        bool `json:"executionSuccessful"`
			ToolExecutionNotifications []struct {
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
	} `json:"runs"`
}

func readSARIF(t *testing.T, doc *result.Document) sarifLog {
	t.Helper()
	out := fxRender(t, "sarif", doc)
	fxValidate(t, sarifSchemaURL, fxSARIFSchema, out)
	var log sarifLog
	fxDecode(t, out, &log)
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q with %d runs, want 2.1.0 with one run", log.Version, len(log.Runs))
	}
	return log
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	readSARIF(t, fxDocument())
}

func TestSARIFOneRulePerAdvisory(t *testing.T) {
	run := readSARIF(t, fxDocument()).Runs[0]
	d := run.Tool.Driver
	if d.Name != "runlens" || d.Version != "1.4.0" || d.InformationURI != "https://github.com/runlens/runlens" {
		t.Errorf("driver %q %q %q", d.Name, d.Version, d.InformationURI)
	}
	// CVE-2023-0286 is in two images, on three workloads: still one rule.
	var ids []string
	for _, r := range d.Rules {
		ids = append(ids, r.ID)
	}
	want := "CVE-2021-44228 CVE-2023-0286 GHSA-29mw-wpgm-hmr9 GO-2023-2102"
	if got := strings.Join(ids, " "); got != want {
		t.Fatalf("rules %s, want %s", got, want)
	}
	severity := map[string]any{}
	for _, r := range d.Rules {
		severity[r.ID] = r.Properties["security-severity"]
		if r.Properties["precision"] != "very-high" {
			t.Errorf("%s precision %v", r.ID, r.Properties["precision"])
		}
	}
	// The CVSS score; the word's midpoint without one; none when unrated.
	wantSeverity := map[string]any{"CVE-2021-44228": "10.0", "CVE-2023-0286": "7.4", "GHSA-29mw-wpgm-hmr9": "5.5", "GO-2023-2102": nil}
	for id, w := range wantSeverity {
		if severity[id] != w {
			t.Errorf("%s security-severity %v, want %v", id, severity[id], w)
		}
	}
	log4 := d.Rules[0]
	if log4.ShortDescription.Text != "Remote code injection in Log4j" || log4.HelpURI != "https://logging.apache.org/log4j/2.x/security.html" {
		t.Errorf("log4j rule: %q %q", log4.ShortDescription.Text, log4.HelpURI)
	}
	if !strings.Contains(log4.Help.Text, "2.15.0") {
		t.Errorf("help does not name the fixed version: %q", log4.Help.Text)
	}
	tags, _ := log4.Properties["tags"].([]any)
	if len(tags) != 5 || tags[0] != "security" || tags[1] != "vulnerability" || tags[2] != "CRITICAL" || tags[3] != "CWE-502" {
		t.Errorf("tags %v", tags)
	}
	if d.Rules[2].HelpURI != "https://github.com/advisories/GHSA-29mw-wpgm-hmr9" {
		t.Errorf("help URI without references %q, want the advisory's page", d.Rules[2].HelpURI)
	}
}

func TestSARIFOneResultPerRisk(t *testing.T) {
	doc := fxDocument()
	run := readSARIF(t, doc).Runs[0]
	if len(run.Results) != len(doc.Risks) {
		t.Fatalf("%d results for %d risks", len(run.Results), len(doc.Risks))
	}
	wantLevel := map[string]string{result.TierImmediate: "error", result.TierOutOfCycle: "error", result.TierScheduled: "warning", result.TierDefer: "note"}
	suppressed := 0
	for i, res := range run.Results {
		r := doc.Risks[i]
		if res.RuleID != r.Vulnerability || run.Tool.Driver.Rules[res.RuleIndex].ID != r.Vulnerability {
			t.Errorf("result %d rule %s (index %d), want %s", i, res.RuleID, res.RuleIndex, r.Vulnerability)
		}
		if res.Level != wantLevel[r.Tier] {
			t.Errorf("result %d (%s) level %s, want %s", i, r.Tier, res.Level, wantLevel[r.Tier])
		}
		for _, s := range []string{r.Package.Name + "@" + r.Package.Version, r.ImageReference, r.WorkloadRef(), r.Tier} {
			if !strings.Contains(res.Message.Text, s) {
				t.Errorf("result %d message %q lacks %q", i, res.Message.Text, s)
			}
		}
		if len(r.Reasons) > 0 && !strings.Contains(res.Message.Text, r.Reasons[0]) {
			t.Errorf("result %d message %q lacks the first reason", i, res.Message.Text)
		}
		if r.Suppressed == nil {
			if len(res.Suppressions) != 0 {
				t.Errorf("result %d suppressed without a reason", i)
			}
			continue
		}
		suppressed++
		if len(res.Suppressions) != 1 || res.Suppressions[0].Kind != "external" ||
			!strings.Contains(res.Suppressions[0].Justification, r.Suppressed.Reason) {
			t.Errorf("result %d suppressions %+v, want one external with %q", i, res.Suppressions, r.Suppressed.Reason)
		}
	}
	if suppressed != 3 {
		t.Errorf("%d suppressed results, want 3", suppressed)
	}
}

func TestSARIFLocations(t *testing.T) {
	run := readSARIF(t, fxDocument()).Runs[0]
	uris := map[string]bool{}
	for i, res := range run.Results {
		if len(res.Locations) != 1 {
			t.Fatalf("result %d: %d locations", i, len(res.Locations))
		}
		loc := res.Locations[0]
		uri := loc.PhysicalLocation.ArtifactLocation.URI
		if uri == "" || strings.HasPrefix(uri, "/") {
			t.Errorf("result %d uri %q, want a relative path", i, uri)
		}
		uris[uri] = true
		if len(loc.LogicalLocations) != 2 || !strings.HasPrefix(loc.LogicalLocations[0].Name, "sha256:") ||
			!strings.HasPrefix(loc.LogicalLocations[1].Name, "prod/shop/Deployment/") {
			t.Errorf("result %d logical locations %+v, want the digest and the workload", i, loc.LogicalLocations)
		}
	}
	// libssl3 is placed at its shared library where the package list
	// says its files; elsewhere at the path it was found through.
	for _, want := range []string{"usr/lib/x86_64-linux-gnu/libssl.so.3", "var/lib/dpkg/status", "app/lib/log4j-core-2.14.1.jar", "usr/local/bin/api"} {
		if !uris[want] {
			t.Errorf("no result at %s (have %v)", want, uris)
		}
	}
}

func TestSARIFFingerprintsStable(t *testing.T) {
	fingerprints := func(doc *result.Document) []string {
		var out []string
		for _, res := range readSARIF(t, doc).Runs[0].Results {
			out = append(out, res.PartialFingerprints[sarifFingerprint])
		}
		return out
	}
	before := fingerprints(fxDocument())
	// A rebuilt image (new digest, new tag) with the package upgraded but
	// still vulnerable: the same alerts.
	doc := fxDocument()
	for i := range doc.Risks {
		doc.Risks[i].Image = "sha256:" + strings.Repeat("9", 64)
		doc.Risks[i].ImageReference = strings.Replace(doc.Risks[i].ImageReference, ":1.4", ":1.5", 1)
		doc.Risks[i].Package.Version += "+b1"
	}
	after := fingerprints(doc)
	seen := map[string]bool{}
	for i := range before {
		if before[i] == "" || before[i] != after[i] {
			t.Errorf("result %d fingerprint %q → %q, want stable", i, before[i], after[i])
		}
		if seen[before[i]] {
			t.Errorf("result %d fingerprint %q is not unique", i, before[i])
		}
		seen[before[i]] = true
	}
}

func TestSARIFFailedScanNeverLooksClean(t *testing.T) {
	inv := readSARIF(t, fxDocument()).Runs[0].Invocations
	if len(inv) != 1 || inv[0].ExecutionSuccessful {
		t.Fatalf("invocations %+v, want one that did not succeed", inv)
	}
	n := inv[0].ToolExecutionNotifications
	if len(n) != 1 || n[0].Level != "error" || !strings.Contains(n[0].Message.Text, "registry.example.com/shop/worker:3.1") ||
		!strings.Contains(n[0].Message.Text, "403") {
		t.Errorf("notifications %+v, want the failed image and why", n)
	}

	// A partial image alone, without findings, is still no success.
	partial := result.New(fxDocument().Header, []*result.Image{result.Incomplete(
		image.Descriptor{Reference: "registry.example.com/shop/api:2.0", Digest: fxAPIDigest}, result.StatusPartial, nil)}, nil, nil)
	inv = readSARIF(t, partial).Runs[0].Invocations
	if inv[0].ExecutionSuccessful || len(inv[0].ToolExecutionNotifications) != 1 || inv[0].ToolExecutionNotifications[0].Level != "warning" {
		t.Errorf("partial scan: %+v", inv)
	}

	clean := fxDocument()
	clean.Images = clean.Images[:2]
	if inv := readSARIF(t, clean).Runs[0].Invocations; !inv[0].ExecutionSuccessful || len(inv[0].ToolExecutionNotifications) != 0 {
		t.Errorf("complete scan: %+v, want success", inv)
	}
}

func TestSARIFWithoutRisksOneResultPerFinding(t *testing.T) {
	doc := fxDocument()
	doc.Risks = nil
	run := readSARIF(t, doc).Runs[0]
	findings := 0
	for _, img := range doc.Images {
		findings += len(img.Findings)
	}
	if len(run.Results) != findings || findings != 5 {
		t.Fatalf("%d results for %d findings", len(run.Results), findings)
	}
	for _, res := range run.Results {
		if res.RuleID == "CVE-2021-44228" && res.Level != "error" {
			t.Errorf("critical finding level %s", res.Level)
		}
		if res.RuleID == "GO-2023-2102" && res.Level != "warning" {
			t.Errorf("unrated finding level %s, want warning", res.Level)
		}
		if len(res.Locations[0].LogicalLocations) != 1 {
			t.Errorf("image scan result names a workload: %+v", res.Locations[0].LogicalLocations)
		}
	}
}

// A risk whose finding the images do not carry still has its rule.
func TestSARIFRuleForEveryResult(t *testing.T) {
	doc := fxDocument()
	doc.Images[0].Findings = doc.Images[0].Findings[:1] // the api image loses GO-2023-2102
	run := readSARIF(t, doc).Runs[0]
	if len(run.Results) != len(doc.Risks) {
		t.Fatalf("%d results for %d risks", len(run.Results), len(doc.Risks))
	}
	for _, res := range run.Results {
		if res.RuleIndex < 0 || run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result of %s has rule index %d", res.RuleID, res.RuleIndex)
		}
	}
}

// A package found without a path is placed at the image's repository,
// the same place whatever the digest or tag.
func TestSARIFLocationWithoutPath(t *testing.T) {
	doc := fxDocument()
	for i := range doc.Risks {
		doc.Risks[i].Package.Location = ""
	}
	for _, img := range doc.Images {
		img.Packages = nil
		for i := range img.Findings {
			img.Findings[i].Package.Location = ""
		}
	}
	doc.Risks[0].ImageReference = "localhost:5000/shop/api@" + fxAPIDigest
	run := readSARIF(t, doc).Runs[0]
	want := []string{"./localhost:5000/shop/api", "registry.example.com/shop/web"}
	for i, res := range run.Results[:2] {
		if got := res.Locations[0].PhysicalLocation.ArtifactLocation.URI; got != want[i] {
			t.Errorf("result %d uri %q, want %q", i, got, want[i])
		}
	}
}

// GitHub code scanning keeps ten tags of a rule.
func TestSARIFTagsCapped(t *testing.T) {
	doc := fxDocument()
	for i := range doc.Images[1].Findings {
		if doc.Images[1].Findings[i].ID == "CVE-2021-44228" {
			for n := 0; n < 20; n++ {
				doc.Images[1].Findings[i].CWEs = append(doc.Images[1].Findings[i].CWEs, "CWE-"+strconv.Itoa(100+n))
			}
		}
	}
	tags, _ := readSARIF(t, doc).Runs[0].Tool.Driver.Rules[0].Properties["tags"].([]any)
	if len(tags) != 10 || tags[0] != "security" {
		t.Errorf("%d tags %v, want 10", len(tags), tags)
	}
}
