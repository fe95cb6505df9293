package report

import (
	"bytes"
	"regexp"
	"slices"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/runlens/runlens/internal/result"
)

// readBOM renders doc as CycloneDX, validates it against the schema and
// decodes it with the library.
func readBOM(t *testing.T, doc *result.Document) *cdx.BOM {
	t.Helper()
	out := fxRender(t, "cyclonedx", doc)
	fxValidate(t, cyclonedxSchemaURL, fxCycloneDXSchema, out)
	bom := new(cdx.BOM)
	if err := cdx.NewBOMDecoder(bytes.NewReader(out), cdx.BOMFileFormatJSON).Decode(bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != cdx.SpecVersion1_6 {
		t.Fatalf("spec version %v, want 1.6", bom.SpecVersion)
	}
	return bom
}

// bomComponents lists every component of bom, nested ones and the
// metadata's included, by bom-ref; a bom-ref given twice fails the test.
func bomComponents(t *testing.T, bom *cdx.BOM) map[string]cdx.Component {
	t.Helper()
	out := map[string]cdx.Component{}
	var walk func(cs []cdx.Component)
	walk = func(cs []cdx.Component) {
		for _, c := range cs {
			if _, dup := out[c.BOMRef]; dup || c.BOMRef == "" {
				t.Errorf("bom-ref %q empty or not unique", c.BOMRef)
			}
			out[c.BOMRef] = c
			if c.Components != nil {
				walk(*c.Components)
			}
		}
	}
	if bom.Metadata.Component != nil {
		walk([]cdx.Component{*bom.Metadata.Component})
	}
	if bom.Components != nil {
		walk(*bom.Components)
	}
	return out
}

func property(props *[]cdx.Property, name string) []string {
	var out []string
	if props != nil {
		for _, p := range *props {
			if p.Name == name {
				out = append(out, p.Value)
			}
		}
	}
	return out
}

func vulnerabilities(bom *cdx.BOM) map[string]cdx.Vulnerability {
	out := map[string]cdx.Vulnerability{}
	for _, v := range *bom.Vulnerabilities {
		out[v.ID] = v
	}
	return out
}

func TestCycloneDXValidatesAgainstSchema(t *testing.T) {
	readBOM(t, fxDocument())
	readBOM(t, result.New(result.Header{}, nil, nil, nil))
}

func TestCycloneDXComponentsAndAffects(t *testing.T) {
	doc := fxDocument()
	bom := readBOM(t, doc)
	if bom.Metadata.Timestamp != "2026-11-30T12:00:00Z" || bom.Metadata.Component != nil {
		t.Errorf("metadata %+v: want the scan's time and no single subject for three images", bom.Metadata)
	}
	tools := *bom.Metadata.Tools.Components
	if len(tools) != 1 || tools[0].Name != "runlens" || tools[0].Version != "1.4.0" {
		t.Errorf("tools %+v", tools)
	}
	images := *bom.Components
	if len(images) != 3 {
		t.Fatalf("%d top-level components, want the 3 images", len(images))
	}
	all := bomComponents(t, bom)
	byName := map[string]cdx.Component{}
	for _, img := range images {
		if img.Type != cdx.ComponentTypeContainer {
			t.Errorf("image %s type %s", img.Name, img.Type)
		}
		byName[img.Name] = img
	}
	web := byName["registry.example.com/shop/web"]
	if web.BOMRef != "pkg:oci/web@sha256:"+fxShopDigest[7:]+"?repository_url=registry.example.com%2Fshop%2Fweb&tag=1.4" || web.PackageURL != web.BOMRef {
		t.Errorf("web image bom-ref %q purl %q", web.BOMRef, web.PackageURL)
	}
	// The package list when there is one (and the distribution)...
	if n := len(*web.Components); n != 4 {
		t.Errorf("web image has %d components, want its 3 packages and the OS", n)
	}
	for _, c := range *web.Components {
		if c.Name == "libssl3" {
			if got := property(c.Properties, cdxLayer); !slices.Equal(got, []string{fxLayerBase}) {
				t.Errorf("libssl3 layer %v", got)
			}
			if got := property(c.Properties, cdxLocation); !slices.Equal(got, []string{"/var/lib/dpkg/status"}) {
				t.Errorf("libssl3 location %v", got)
			}
		}
	}
	// ...else the packages the findings name.
	api := byName["registry.example.com/shop/api"]
	var names []string
	for _, c := range *api.Components {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"libssl3", "golang.org/x/net"}) {
		t.Errorf("api image components %v, want the two affected packages", names)
	}
	failed := byName["registry.example.com/shop/worker"]
	if property(failed.Properties, cdxStatus)[0] != "failed" || len(property(failed.Properties, cdxError)) != 1 {
		t.Errorf("failed image properties %+v", failed.Properties)
	}
	// Every affects ref resolves to a package of the image it is in.
	affects := 0
	for _, v := range *bom.Vulnerabilities {
		for _, a := range *v.Affects {
			affects++
			if _, ok := all[a.Ref]; !ok {
				t.Errorf("%s affects %q: no such component", v.ID, a.Ref)
			}
		}
	}
	if affects != 5 {
		t.Errorf("%d affects, want one per finding (5)", affects)
	}
}

func TestCycloneDXVulnerabilities(t *testing.T) {
	vulns := vulnerabilities(readBOM(t, fxDocument()))
	if len(vulns) != 4 {
		t.Fatalf("%d vulnerabilities, want 4", len(vulns))
	}
	log4 := vulns["CVE-2021-44228"]
	if log4.Source.Name != "NVD" || log4.Source.URL != "https://nvd.nist.gov/vuln/detail/CVE-2021-44228" {
		t.Errorf("source %+v", log4.Source)
	}
	r := (*log4.Ratings)[0]
	if r.Method != cdx.ScoringMethodCVSSv31 || *r.Score != 10 || r.Severity != cdx.SeverityCritical || r.Source.Name != "NVD" ||
		r.Vector != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H" || len(*log4.Ratings) != 1 {
		t.Errorf("ratings %+v", *log4.Ratings)
	}
	if !slices.Equal(*log4.CWEs, []int{502, 917}) || log4.Description != "Remote code injection in Log4j" || len(*log4.Advisories) != 2 {
		t.Errorf("cwes %v description %q advisories %v", *log4.CWEs, log4.Description, log4.Advisories)
	}
	if log4.Recommendation != "Upgrade org.apache.logging.log4j:log4j-core to 2.15.0." {
		t.Errorf("recommendation %q", log4.Recommendation)
	}
	// Both its risks are suppressed by one VEX statement: the analysis
	// says so, with the ranking it would have had.
	a := log4.Analysis
	if a == nil || a.State != cdx.IASNotAffected || a.Justification != cdx.IAJCodeNotReachable ||
		a.Detail != "JNDI lookups are disabled by log4j2.formatMsgNoLookups" {
		t.Errorf("analysis %+v", a)
	}
	if got := property(log4.Properties, cdxTier); !slices.Equal(got, []string{"immediate"}) {
		t.Errorf("tier %v", got)
	}
	if got := property(log4.Properties, cdxScore); !slices.Equal(got, []string{"99"}) {
		t.Errorf("score %v, want the highest of 99 and 98", got)
	}
	if got := property(log4.Properties, cdxKEV); !slices.Equal(got, []string{"2021-12-10"}) {
		t.Errorf("kev %v", got)
	}

	ssl := vulns["CVE-2023-0286"]
	if ssl.Analysis != nil || len(*ssl.Affects) != 2 || ssl.Published != "2023-02-08T20:15:00Z" || ssl.Updated != "2024-02-04T09:15:00Z" {
		t.Errorf("openssl: analysis %+v, %d affects, published %q updated %q", ssl.Analysis, len(*ssl.Affects), ssl.Published, ssl.Updated)
	}
	if got := property(ssl.Properties, cdxScore); !slices.Equal(got, []string{"91.5"}) {
		t.Errorf("openssl score %v, want the highest over both images", got)
	}
	ghsa := vulns["GHSA-29mw-wpgm-hmr9"]
	if ghsa.Source.Name != "GitHub" || len(*ghsa.Ratings) != 1 || (*ghsa.Ratings)[0].Method != cdx.ScoringMethodOther ||
		(*ghsa.Ratings)[0].Severity != cdx.SeverityMedium || (*ghsa.Ratings)[0].Source.Name != "GitHub" {
		t.Errorf("ghsa source %+v ratings %+v", ghsa.Source, ghsa.Ratings)
	}
	goVuln := vulns["GO-2023-2102"]
	if goVuln.Source.Name != "OSV" || goVuln.Analysis != nil ||
		!slices.Equal(property(goVuln.Properties, cdxSuppress), []string{"policy: accepted until the Go upgrade"}) {
		t.Errorf("go: source %+v analysis %+v properties %+v", goVuln.Source, goVuln.Analysis, goVuln.Properties)
	}
}

// A VEX statement on some of a finding's risks only says nothing of the
// package as a whole.
func TestCycloneDXAnalysisOnlyWhenEveryRiskAgrees(t *testing.T) {
	doc := fxDocument()
	for i := range doc.Risks {
		if doc.Risks[i].Workload == "Deployment/web-canary" && doc.Risks[i].Vulnerability == "CVE-2021-44228" {
			doc.Risks[i].VEX, doc.Risks[i].Suppressed = nil, nil
		}
	}
	if a := vulnerabilities(readBOM(t, doc))["CVE-2021-44228"].Analysis; a != nil {
		t.Errorf("analysis %+v for a package only one of whose workloads is covered", a)
	}
}

func TestCycloneDXVEXMapping(t *testing.T) {
	for _, tc := range []struct {
		status, justification string
		state                 cdx.ImpactAnalysisState
		want                  cdx.ImpactAnalysisJustification
	}{
		{result.VEXNotAffected, "vulnerable_code_not_in_execute_path", cdx.IASNotAffected, cdx.IAJCodeNotReachable},
		{result.VEXNotAffected, "component_not_present", cdx.IASNotAffected, cdx.IAJCodeNotPresent},
		{result.VEXNotAffected, "vulnerable_code_not_present", cdx.IASNotAffected, cdx.IAJCodeNotPresent},
		{result.VEXNotAffected, "inline_mitigations_already_exist", cdx.IASNotAffected, cdx.IAJProtectedByMitigatingControl},
		{result.VEXNotAffected, "vulnerable_code_cannot_be_controlled_by_adversary", cdx.IASNotAffected, cdx.IAJRequiresEnvironment},
		{result.VEXNotAffected, "protected_at_perimeter", cdx.IASNotAffected, cdx.IAJProtectedAtPerimeter},
		{result.VEXFixed, "", cdx.IASResolved, ""},
		{result.VEXAffected, "", cdx.IASExploitable, ""},
		{result.VEXUnderInvestigation, "", cdx.IASInTriage, ""},
	} {
		risk := &result.Risk{VEX: &result.VEXStatement{Status: tc.status, Justification: tc.justification}}
		a := vexAnalysis([]*result.Risk{risk, risk})
		if a == nil || a.State != tc.state || a.Justification != tc.want {
			t.Errorf("%s/%s: %+v, want %s/%s", tc.status, tc.justification, a, tc.state, tc.want)
		}
	}
}

func TestCycloneDXSingleImageIsTheSubject(t *testing.T) {
	doc := fxDocument()
	doc.Images = doc.Images[1:2] // registry.example.com/shop/web
	bom := readBOM(t, doc)
	subject := bom.Metadata.Component
	if subject == nil || subject.Type != cdx.ComponentTypeContainer || subject.Name != "registry.example.com/shop/web" || subject.Components != nil {
		t.Fatalf("metadata component %+v, want the image", subject)
	}
	if n := len(*bom.Components); n != 4 {
		t.Errorf("%d components, want the image's 3 packages and its OS", n)
	}
	all := bomComponents(t, bom)
	for _, v := range *bom.Vulnerabilities {
		for _, a := range *v.Affects {
			if _, ok := all[a.Ref]; !ok {
				t.Errorf("%s affects %q: no such component", v.ID, a.Ref)
			}
		}
	}
	deps := *bom.Dependencies
	if len(deps) != 1 || deps[0].Ref != subject.BOMRef || len(*deps[0].Dependencies) != 4 {
		t.Errorf("dependencies %+v, want the image on its components", deps)
	}
}

func TestCycloneDXSerialNumberFromContent(t *testing.T) {
	uuidURN := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	first, again := readBOM(t, fxDocument()), readBOM(t, fxDocument())
	if !uuidURN.MatchString(first.SerialNumber) || first.SerialNumber != again.SerialNumber {
		t.Errorf("serial numbers %q and %q, want one name-based UUID URN", first.SerialNumber, again.SerialNumber)
	}
	if a, b := fxRender(t, "cyclonedx", fxDocument()), fxRender(t, "cyclonedx", fxDocument()); !bytes.Equal(a, b) {
		t.Error("the same document gave two BOMs")
	}
	other := fxDocument()
	other.Risks[0].Score = 12
	if s := readBOM(t, other).SerialNumber; s == first.SerialNumber {
		t.Errorf("another document has the same serial number %s", s)
	}
}

// A document without a creation time gives a BOM without a timestamp
// rather than year one.
func TestCycloneDXNoTimestampWhenUnknown(t *testing.T) {
	doc := fxDocument()
	doc.CreatedAt = time.Time{}
	if ts := readBOM(t, doc).Metadata.Timestamp; ts != "" {
		t.Errorf("timestamp %q", ts)
	}
}
