package report

import (
	"regexp"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/result"
)

// spdxDoc is the part of an SPDX 2.3 JSON document the tests read.
type spdxDoc struct {
	SPDXVersion  string `json:"spdxVersion"`
	SPDXID       string `json:"SPDXID"`
	Namespace    string `json:"documentNamespace"`
	Comment      string `json:"comment"`
	CreationInfo struct {
		Creators []string `json:"creators"`
		Created  string   `json:"created"`
	} `json:"creationInfo"`
	Packages []struct {
		SPDXID    string `json:"SPDXID"`
		Name      string `json:"name"`
		Version   string `json:"versionInfo"`
		Purpose   string `json:"primaryPackagePurpose"`
		Comment   string `json:"comment"`
		Checksums []struct {
			Algorithm string `json:"algorithm"`
			Value     string `json:"checksumValue"`
		} `json:"checksums"`
		ExternalRefs []struct {
			Category string `json:"referenceCategory"`
			Type     string `json:"referenceType"`
			Locator  string `json:"referenceLocator"`
			Comment  string `json:"comment"`
		} `json:"externalRefs"`
	} `json:"packages"`
	Relationships []struct {
		A    string `json:"spdxElementId"`
		B    string `json:"relatedSpdxElement"`
		Type string `json:"relationshipType"`
	} `json:"relationships"`
}

func readSPDX(t *testing.T, doc *result.Document) spdxDoc {
	t.Helper()
	out := fxRender(t, "spdx", doc)
	fxValidate(t, spdxSchemaURL, fxSPDXSchema, out)
	var sd spdxDoc
	fxDecode(t, out, &sd)
	if sd.SPDXVersion != "SPDX-2.3" || sd.SPDXID != "SPDXRef-DOCUMENT" {
		t.Fatalf("version %q id %q", sd.SPDXVersion, sd.SPDXID)
	}
	return sd
}

func TestSPDXValidatesAgainstSchema(t *testing.T) {
	readSPDX(t, fxDocument())
	readSPDX(t, result.New(result.Header{}, nil, nil, nil))
}

func TestSPDXPackagesAndRelationships(t *testing.T) {
	sd := readSPDX(t, fxDocument())
	if len(sd.CreationInfo.Creators) != 1 || sd.CreationInfo.Creators[0] != "Tool: runlens-1.4.0" || sd.CreationInfo.Created != "2026-11-30T12:00:00Z" {
		t.Errorf("creation info %+v", sd.CreationInfo)
	}
	validID := regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	ids := map[string]string{}
	images, advisories := 0, map[string][]string{}
	for _, p := range sd.Packages {
		if !validID.MatchString(p.SPDXID) || ids[p.SPDXID] != "" {
			t.Errorf("SPDXID %q invalid or not unique", p.SPDXID)
		}
		ids[p.SPDXID] = p.Name
		if p.Purpose == "CONTAINER" {
			images++
			if p.Name == "registry.example.com/shop/web" {
				if len(p.Checksums) != 1 || p.Checksums[0].Algorithm != "SHA256" || "sha256:"+p.Checksums[0].Value != fxShopDigest {
					t.Errorf("web image checksums %+v", p.Checksums)
				}
				if len(p.ExternalRefs) != 1 || p.ExternalRefs[0].Category != "PACKAGE-MANAGER" || !strings.HasPrefix(p.ExternalRefs[0].Locator, "pkg:oci/web@sha256%3A") &&
					!strings.HasPrefix(p.ExternalRefs[0].Locator, "pkg:oci/web@sha256:") {
					t.Errorf("web image refs %+v", p.ExternalRefs)
				}
			}
			if p.Name == "registry.example.com/shop/worker" && (len(p.Checksums) != 0 || !strings.Contains(p.Comment, "failed: registry denied the pull (403)")) {
				t.Errorf("failed image %+v", p)
			}
			continue
		}
		for _, r := range p.ExternalRefs {
			switch r.Category {
			case "PACKAGE-MANAGER":
				if r.Type != "purl" || !strings.HasPrefix(r.Locator, "pkg:") {
					t.Errorf("%s purl ref %+v", p.Name, r)
				}
			case "SECURITY":
				if r.Type != "advisory" {
					t.Errorf("%s security ref %+v", p.Name, r)
				}
				advisories[p.Name] = append(advisories[p.Name], r.Locator)
			default:
				t.Errorf("%s ref %+v", p.Name, r)
			}
		}
	}
	if images != 3 || len(sd.Packages) != 8 {
		t.Errorf("%d packages, %d of them images; want 8 and 3", len(sd.Packages), images)
	}
	for name, want := range map[string]string{
		"libssl3":                             "https://nvd.nist.gov/vuln/detail/CVE-2023-0286 https://nvd.nist.gov/vuln/detail/CVE-2023-0286",
		"org.apache.logging.log4j:log4j-core": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
		"lodash":                              "https://github.com/advisories/GHSA-29mw-wpgm-hmr9",
		"golang.org/x/net":                    "https://osv.dev/vulnerability/GO-2023-2102",
	} {
		if got := strings.Join(advisories[name], " "); got != want {
			t.Errorf("%s advisories %s, want %s", name, got, want)
		}
	}
	// The document describes each image; each image contains its packages.
	describes, contains := 0, 0
	for _, r := range sd.Relationships {
		switch r.Type {
		case "DESCRIBES":
			describes++
			if r.A != "SPDXRef-DOCUMENT" || !strings.HasPrefix(r.B, "SPDXRef-Image-") {
				t.Errorf("relationship %+v", r)
			}
		case "CONTAINS":
			contains++
			if !strings.HasPrefix(r.A, "SPDXRef-Image-") || !strings.HasPrefix(r.B, "SPDXRef-Package-") || ids[r.B] == "" {
				t.Errorf("relationship %+v", r)
			}
		default:
			t.Errorf("relationship %+v", r)
		}
	}
	if describes != 3 || contains != 5 {
		t.Errorf("%d DESCRIBES and %d CONTAINS, want 3 and 5", describes, contains)
	}
	if !strings.Contains(sd.Comment, "no vulnerability section") || !strings.Contains(sd.Comment, "1 of 3 images") {
		t.Errorf("comment %q", sd.Comment)
	}
}

func TestSPDXNamespaceFromContent(t *testing.T) {
	ns := regexp.MustCompile(`^https://runlens\.dev/spdx/[0-9a-f]{32}$`)
	a, b := readSPDX(t, fxDocument()).Namespace, readSPDX(t, fxDocument()).Namespace
	if !ns.MatchString(a) || a != b {
		t.Errorf("namespaces %q and %q, want one derived from the content", a, b)
	}
	other := fxDocument()
	other.Images = other.Images[:2]
	if c := readSPDX(t, other).Namespace; c == a {
		t.Errorf("another document has the namespace %s", c)
	}
}

func TestSPDXIDsSanitizedAndUnique(t *testing.T) {
	ids := newSPDXIDs()
	got := []string{}
	for _, name := range []string{"Package-@types/node-20.1", "Package-@types/node-20.1", "Package-ünï", "", "Package-a_b c"} {
		got = append(got, string(ids.take(name)))
	}
	want := "Package--types-node-20.1 Package--types-node-20.1-2 Package--n element Package-a-b-c"
	if strings.Join(got, " ") != want {
		t.Errorf("ids %q, want %q", got, want)
	}
	// A name that looks like a suffixed one is skipped over, and many
	// repeats of one name count on.
	got = got[:0]
	for _, name := range []string{"x", "x-3", "x", "x", "x", "x-3"} {
		got = append(got, string(ids.take(name)))
	}
	want = "x x-3 x-2 x-4 x-5 x-3-2"
	if strings.Join(got, " ") != want {
		t.Errorf("ids %q, want %q", got, want)
	}
}
