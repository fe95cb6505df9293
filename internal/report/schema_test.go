package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/workload"
)

// Published schemas in testdata/schemas (README.md there names their
// sources), by the URL they are referenced as.
const (
	sarifSchemaURL     = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	cyclonedxSchemaURL = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	spdxSchemaURL      = "http://spdx.org/rdf/terms/2.3"
)

var (
	fxSARIFSchema = map[string]string{
		"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json": "sarif-schema-2.1.0.json",
	}
	fxCycloneDXSchema = map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  "bom-1.6.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "jsf-0.82.schema.json",
	}
	fxSPDXSchema = map[string]string{
		"http://spdx.org/rdf/terms/2.3": "spdx-schema-2.3.json",
	}
)

// fxOffline refuses to load any schema that is not registered: the tests
// never reach the network.
type fxOffline struct{}

func (fxOffline) Load(url string) (any, error) {
	return nil, errors.New("schema " + url + " is not in testdata/schemas")
}

// fxValidate checks out against the schema whose URL is root, loaded
// with the resources it references from schemas, format assertions on.
func fxValidate(t *testing.T, root string, schemas map[string]string, out []byte) {
	t.Helper()
	if err := schemaCheck(t, root, schemas, out); err != nil {
		t.Fatalf("output does not validate against %s:\n%v", root, err)
	}
}

// schemaCheck is fxValidate's check, returning the validation error.
func schemaCheck(t *testing.T, root string, schemas map[string]string, out []byte) error {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.UseLoader(fxOffline{})
	c.AssertFormat()
	for url, file := range schemas {
		f, err := os.Open(filepath.Join("testdata", "schemas", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	sch, err := c.Compile(root)
	if err != nil {
		t.Fatalf("compiling %s: %v", root, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return sch.Validate(inst)
}

// TestSchemasRejectInvalidOutput proves the schema checks can fail: each
// format's output with one value the schema forbids is refused.
func TestSchemasRejectInvalidOutput(t *testing.T) {
	for _, tc := range []struct {
		format, root string
		schemas      map[string]string
		from, to     string
	}{
		{"sarif", sarifSchemaURL, fxSARIFSchema, `"level": "error"`, `"level": "fatal"`},
		{"cyclonedx", cyclonedxSchemaURL, fxCycloneDXSchema, `"state": "not_affected"`, `"state": "fine"`},
		{"cyclonedx", cyclonedxSchemaURL, fxCycloneDXSchema, `"serialNumber": "urn:uuid:`, `"serialNumber": "urn:x:`},
		{"spdx", spdxSchemaURL, fxSPDXSchema, `"relationshipType": "CONTAINS"`, `"relationshipType": "HOLDS"`},
	} {
		out := fxRender(t, tc.format, fxDocument())
		if !bytes.Contains(out, []byte(tc.from)) {
			t.Fatalf("%s output has no %s", tc.format, tc.from)
		}
		if err := schemaCheck(t, tc.root, tc.schemas, out); err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		bad := bytes.Replace(out, []byte(tc.from), []byte(tc.to), 1)
		if schemaCheck(t, tc.root, tc.schemas, bad) == nil {
			t.Errorf("%s with %s validates", tc.format, tc.to)
		}
	}
}

// fxDecode unmarshals a format's output into v.
func fxDecode(t *testing.T, out []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatal(err)
	}
}

const (
	fxShopDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	fxAPIDigest  = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	fxLayerBase  = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	fxLayerApp   = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var (
	fxLibssl = inventory.Package{Name: "libssl3", Version: "3.0.11-1~deb12u1", Ecosystem: "Debian:12", Type: "deb",
		PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u1",
		Locations: []string{"/var/lib/dpkg/status"}, Layer: fxLayerBase,
		Files: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}}
	fxLog4j = inventory.Package{Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Ecosystem: "Maven", Type: "java-archive",
		PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", Locations: []string{"/app/lib/log4j-core-2.14.1.jar"}, Layer: fxLayerApp}
	fxLodash = inventory.Package{Name: "lodash", Version: "4.17.20", Ecosystem: "npm", Type: "npm",
		PURL: "pkg:npm/lodash@4.17.20", Locations: []string{"/app/node_modules/lodash/package.json"}, Layer: fxLayerApp}
	fxXNet = inventory.Package{Name: "golang.org/x/net", Version: "v0.15.0", Ecosystem: "Go", Type: "go-module",
		PURL: "pkg:golang/golang.org/x/net@v0.15.0", Locations: []string{"/usr/local/bin/api"}, Layer: fxLayerApp}
)

// fxRef is a finding's reference to p, as match makes it.
func fxRef(p inventory.Package) match.PackageRef {
	return match.PackageRef{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, Type: p.Type, PURL: p.PURL,
		SourceName: p.SourceName, SourceVersion: p.SourceVersion, Location: p.Locations[0], Layer: p.Layer}
}

var (
	fxOpenSSL = func(p inventory.Package) match.Finding {
		return match.Finding{ID: "CVE-2023-0286", Advisories: []string{"DSA-5343-1"}, Severity: "HIGH", SeveritySource: "nvd",
			Package: fxRef(p), CVSS: &match.CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H", Score: 7.4, Source: "nvd"},
			CWEs: []string{"CWE-843"}, FixedVersions: []string{"3.0.13-1~deb12u1"}, Status: match.StatusFixed,
			Summary:    "X.400 address type confusion in X.509 GeneralName",
			Published:  time.Date(2023, 2, 8, 20, 15, 0, 0, time.UTC),
			Modified:   time.Date(2024, 2, 4, 9, 15, 0, 0, time.UTC),
			References: []string{"https://www.openssl.org/news/secadv/20230207.txt"},
			EPSS:       &match.EPSS{CVE: "CVE-2023-0286", Probability: 0.0123, Percentile: 0.85}}
	}
	fxLog4Shell = match.Finding{ID: "CVE-2021-44228", Advisories: []string{"GHSA-jfh8-c2jp-5v3q"}, Severity: "CRITICAL", SeveritySource: "nvd",
		Package: fxRef(fxLog4j), CVSS: &match.CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: 10.0, Source: "nvd"},
		CWEs: []string{"CWE-502", "CWE-917"}, FixedVersions: []string{"2.15.0"}, Status: match.StatusFixed,
		Summary:    "Remote code injection in Log4j",
		References: []string{"https://logging.apache.org/log4j/2.x/security.html", "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"},
		EPSS:       &match.EPSS{CVE: "CVE-2021-44228", Probability: 0.97, Percentile: 1},
		KEV:        &match.KEV{CVE: "CVE-2021-44228", DateAdded: time.Date(2021, 12, 10, 0, 0, 0, 0, time.UTC)}}
	fxLodashVuln = match.Finding{ID: "GHSA-29mw-wpgm-hmr9", Severity: "MEDIUM", SeveritySource: "ghsa", Package: fxRef(fxLodash),
		FixedVersions: []string{"4.17.21"}, Status: match.StatusFixed, Summary: "Regular Expression Denial of Service (ReDoS) in lodash"}
	fxXNetVuln = match.Finding{ID: "GO-2023-2102", Aliases: []string{"CVE-2023-44487", "GHSA-qppj-fm5r-hxr3"}, Severity: "UNKNOWN",
		Package: fxRef(fxXNet), FixedVersions: []string{"v0.17.0"}, Status: match.StatusFixed, Summary: "HTTP/2 rapid reset can cause excessive work in net/http"}
)

// fxRisk is the risk of finding f of image digest (named reference) on
// workload wl of namespace shop.
func fxRisk(f match.Finding, digest, reference, wl, tier string, score float64, reasons ...string) result.Risk {
	ns, name := "shop", wl
	r := result.Risk{ID: f.ID + "/" + wl, Vulnerability: f.ID, Package: f.Package, Image: digest, ImageReference: reference,
		Cluster: "prod", Namespace: ns, Workload: "Deployment/" + name, Tier: tier, Score: score,
		Runtime: result.Runtime{State: result.RuntimeUnknown}, Reasons: reasons,
		Facts: result.Facts{FindingFacts: &result.FindingFacts{Severity: f.Severity, CVSS: f.CVSS, EPSS: f.EPSS, KEV: f.KEV, FixedVersions: f.FixedVersions},
			PlaceFacts: &result.PlaceFacts{Exposure: "internet"}}}
	return r
}

// fxDocument is a cluster scan of two images (one with its package
// list, one without) and one that failed, run by three workloads, with
// ranked risks: two suppressed by a VEX statement, one by policy.
func fxDocument() *result.Document {
	h := result.Header{
		SchemaVersion: result.SchemaVersion, Scanner: result.Scanner{Name: "runlens", Version: "1.4.0"},
		CreatedAt: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Command: "scan cluster",
	}
	shopRef, apiRef := "registry.example.com/shop/web:1.4", "registry.example.com/shop/api:2.0"
	shop := &result.Image{
		Target: image.Descriptor{Reference: shopRef, Digest: fxShopDigest, Platform: "linux/amd64",
			Layers: []image.LayerInfo{{DiffID: fxLayerBase}, {DiffID: fxLayerApp}}},
		Status: result.StatusScanned, Distro: &inventory.Distro{ID: "debian", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
		Packages: []inventory.Package{fxLibssl, fxLog4j, fxLodash}, PackageCount: 3,
		Findings: []match.Finding{fxLog4Shell, fxOpenSSL(fxLibssl), fxLodashVuln},
	}
	api := &result.Image{
		Target: image.Descriptor{Reference: apiRef, Digest: fxAPIDigest}, Status: result.StatusScanned, PackageCount: 40,
		Findings: []match.Finding{fxOpenSSL(fxLibssl), fxXNetVuln},
	}
	failed := result.Incomplete(image.Descriptor{Reference: "registry.example.com/shop/worker:3.1"}, result.StatusFailed,
		errors.New("registry denied the pull (403)"))
	wl := func(name, digest, ref string) *result.Workload {
		return &result.Workload{Workload: workload.Workload{Cluster: "prod", Namespace: "shop", Kind: "Deployment", Name: name,
			Containers: []workload.Container{{Name: name, Image: ref, Digest: digest}}}}
	}
	doc := result.New(h, []*result.Image{shop, api, failed},
		[]*result.Workload{wl("web", fxShopDigest, shopRef), wl("web-canary", fxShopDigest, shopRef), wl("api", fxAPIDigest, apiRef)}, nil)
	vex := &result.VEXStatement{Status: result.VEXNotAffected, Justification: "vulnerable_code_not_in_execute_path",
		Impact: "JNDI lookups are disabled by log4j2.formatMsgNoLookups", Document: "vex/shop.openvex.json", Format: "openvex",
		Timestamp: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	suppressedVEX := func(r result.Risk) result.Risk {
		r.VEX = vex
		r.Suppressed = &result.Suppression{By: "vex", Reason: "not_affected: vulnerable_code_not_in_execute_path"}
		return r
	}
	doc.Risks = []result.Risk{
		fxRisk(fxOpenSSL(fxLibssl), fxAPIDigest, apiRef, "api", result.TierImmediate, 91.5, "exposed to the internet", "CVSS 7.4", "fix available"),
		fxRisk(fxOpenSSL(fxLibssl), fxShopDigest, shopRef, "web", result.TierOutOfCycle, 77, "exposed to the internet", "CVSS 7.4"),
		fxRisk(fxOpenSSL(fxLibssl), fxShopDigest, shopRef, "web-canary", result.TierScheduled, 40),
		fxRisk(fxLodashVuln, fxShopDigest, shopRef, "web", result.TierScheduled, 35.25, "no known exploitation"),
		fxRisk(fxLodashVuln, fxShopDigest, shopRef, "web-canary", result.TierDefer, 10, "no known exploitation"),
		suppressedVEX(fxRisk(fxLog4Shell, fxShopDigest, shopRef, "web", result.TierImmediate, 99, "in CISA KEV", "exposed to the internet")),
		suppressedVEX(fxRisk(fxLog4Shell, fxShopDigest, shopRef, "web-canary", result.TierImmediate, 98, "in CISA KEV")),
		fxRisk(fxXNetVuln, fxAPIDigest, apiRef, "api", result.TierDefer, 5),
	}
	last := &doc.Risks[len(doc.Risks)-1]
	last.Suppressed = &result.Suppression{By: "policy", Reason: "accepted until the Go upgrade", Rule: "policy.yaml#accept[0]"}
	return doc
}

// fxRender writes doc in the named format.
func fxRender(t *testing.T, format string, doc *result.Document) []byte {
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

func TestNamesListStandardFormats(t *testing.T) {
	have := map[string]bool{}
	for _, n := range Names() {
		have[n] = true
	}
	for _, want := range []string{"sarif", "cyclonedx", "spdx"} {
		if !have[want] {
			t.Errorf("Names() = %v, want %s among them", Names(), want)
		}
	}
}

// The same document gives the same bytes in every interchange format.
func TestInterchangeFormatsDeterministic(t *testing.T) {
	for _, format := range []string{"sarif", "cyclonedx", "spdx"} {
		if a, b := fxRender(t, format, fxDocument()), fxRender(t, format, fxDocument()); !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings of one document differ", format)
		}
	}
}

// A document ranked by internal/risk, with a VEX statement for log4j in
// the web image, is written validly in every format and each says the
// same of it.
func TestInterchangeFormatsOfARankedDocument(t *testing.T) {
	doc := fxDocument()
	doc.Risks = nil
	vex := &result.VEXStatement{Status: result.VEXNotAffected, Justification: "vulnerable_code_not_present",
		Document: "shop.openvex.json", Format: "openvex"}
	err := risk.Rank(doc, risk.Options{
		Now: doc.CreatedAt,
		VEX: func(q risk.VEXQuery) *result.VEXStatement {
			if q.Vulnerability == "CVE-2021-44228" && q.Digest == fxShopDigest {
				return vex
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	suppressed := 0
	for _, r := range doc.Risks {
		if r.Suppressed != nil {
			suppressed++
		}
	}
	if len(doc.Risks) != 8 || suppressed != 2 {
		t.Fatalf("ranking gave %d risks, %d suppressed; want 8 (each finding × the workloads running its image) and 2", len(doc.Risks), suppressed)
	}
	run := readSARIF(t, doc).Runs[0]
	sarifSuppressed := 0
	for _, res := range run.Results {
		sarifSuppressed += len(res.Suppressions)
	}
	if len(run.Results) != len(doc.Risks) || sarifSuppressed != suppressed {
		t.Errorf("SARIF: %d results, %d suppressed; want %d and %d", len(run.Results), sarifSuppressed, len(doc.Risks), suppressed)
	}
	log4 := vulnerabilities(readBOM(t, doc))["CVE-2021-44228"]
	if log4.Analysis == nil || log4.Analysis.State != cdx.IASNotAffected || log4.Analysis.Justification != cdx.IAJCodeNotPresent {
		t.Errorf("CycloneDX analysis %+v", log4.Analysis)
	}
	if tier := property(log4.Properties, cdxTier); len(tier) != 1 || result.TierRank(tier[0]) >= len(result.Tiers) {
		t.Errorf("CycloneDX tier %v", tier)
	}
	readSPDX(t, doc)
}
