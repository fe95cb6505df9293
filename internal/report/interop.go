// Helpers the interchange formats (SARIF, CycloneDX, SPDX) share: the
// document's advisories merged over its images, package identities, and
// image and advisory names.

package report

import (
	"sort"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// runlensURI is where runlens lives: the tool's page in every format.
const runlensURI = "https://github.com/runlens/runlens"

// advisory is one vulnerability id of the document with what its
// findings say of it, merged over every image and package.
type advisory struct {
	ID       string
	Summary  string
	Severity string
	// SeveritySource says where Severity came from (match.Finding).
	SeveritySource string
	CVSS           *match.CVSS
	CWEs           []string
	References     []string
	EPSS           *match.EPSS
	KEV            *match.KEV
	Published      time.Time
	Modified       time.Time
	// Fixes are the fixed versions per package name, sorted by name.
	Fixes []advisoryFix
}

// advisoryFix is the fixed versions of one package of an advisory.
type advisoryFix struct {
	Package  string
	Versions []string
}

// collectAdvisories returns the document's advisories sorted by id: the
// most severe rating, the highest CVSS score and every CWE, reference and
// fix of the findings that carry each id, and the facts of risks whose
// finding the images lack.
func collectAdvisories(doc *result.Document) []*advisory {
	byID := map[string]*advisory{}
	fixes := map[string]map[string][]string{}
	for _, img := range doc.Images {
		for _, f := range img.Findings {
			a := byID[f.ID]
			if a == nil {
				a = &advisory{ID: f.ID, Severity: f.Severity, SeveritySource: f.SeveritySource}
				byID[f.ID] = a
				fixes[f.ID] = map[string][]string{}
			}
			if a.Summary == "" {
				a.Summary = f.Summary
			}
			if severityRank(f.Severity) < severityRank(a.Severity) {
				a.Severity, a.SeveritySource = f.Severity, f.SeveritySource
			}
			if a.Published.IsZero() || (!f.Published.IsZero() && f.Published.Before(a.Published)) {
				a.Published = f.Published
			}
			if f.Modified.After(a.Modified) {
				a.Modified = f.Modified
			}
			if f.CVSS != nil && (a.CVSS == nil || f.CVSS.Score > a.CVSS.Score) {
				a.CVSS = f.CVSS
			}
			if a.EPSS == nil {
				a.EPSS = f.EPSS
			}
			if a.KEV == nil {
				a.KEV = f.KEV
			}
			a.CWEs = appendNew(a.CWEs, f.CWEs...)
			a.References = appendNew(a.References, f.References...)
			if len(f.FixedVersions) > 0 {
				fixes[f.ID][f.Package.Name] = appendNew(fixes[f.ID][f.Package.Name], f.FixedVersions...)
			}
		}
	}
	// A risk whose finding is not in the images (a document cut down by
	// hand) still names an advisory, from the facts it carries.
	for _, r := range doc.Risks {
		if byID[r.Vulnerability] != nil {
			continue
		}
		byID[r.Vulnerability] = &advisory{ID: r.Vulnerability, Severity: r.Facts.Severity, CVSS: r.Facts.CVSS,
			EPSS: r.Facts.EPSS, KEV: r.Facts.KEV}
		if len(r.Facts.FixedVersions) > 0 {
			fixes[r.Vulnerability] = map[string][]string{r.Package.Name: r.Facts.FixedVersions}
		}
	}
	out := make([]*advisory, 0, len(byID))
	for id, a := range byID {
		for pkg, versions := range fixes[id] {
			a.Fixes = append(a.Fixes, advisoryFix{Package: pkg, Versions: versions})
		}
		sort.Slice(a.Fixes, func(i, j int) bool { return a.Fixes[i].Package < a.Fixes[j].Package })
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// appendNew appends the values of add that list does not hold yet.
func appendNew(list []string, add ...string) []string {
	for _, v := range add {
		found := false
		for _, have := range list {
			if have == v {
				found = true
				break
			}
		}
		if !found {
			list = append(list, v)
		}
	}
	return list
}

// severityRank orders severity words, CRITICAL first; anything else
// (UNKNOWN) last.
func severityRank(word string) int {
	switch word {
	case "CRITICAL":
		return 0
	case "HIGH":
		return 1
	case "MEDIUM":
		return 2
	case "LOW":
		return 3
	}
	return 4
}

// findingPackage is the package a finding names, as an inventory package.
func findingPackage(p match.PackageRef) inventory.Package {
	out := inventory.Package{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, Type: p.Type,
		PURL: p.PURL, SourceName: p.SourceName, SourceVersion: p.SourceVersion, Layer: p.Layer}
	if p.Location != "" {
		out.Locations = []string{p.Location}
	}
	return out
}

// inventoryKey identifies a package within an image the way a finding's
// package reference does (match copies the first location).
func inventoryKey(p inventory.Package) string {
	loc := ""
	if len(p.Locations) > 0 {
		loc = p.Locations[0]
	}
	return strings.Join([]string{p.Type, p.Ecosystem, p.Name, p.Version, loc}, "\x00")
}

// findingKey is inventoryKey of a finding's package.
func findingKey(p match.PackageRef) string {
	return strings.Join([]string{p.Type, p.Ecosystem, p.Name, p.Version, p.Location}, "\x00")
}

// imageRepository is a reference without its tag and digest
// ("registry/repo"); a reference that is a path stays as it is.
func imageRepository(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[:i]
	}
	return ref
}

// imageTag is a reference's tag, empty when it has none.
func imageTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[i+1:]
	}
	return ""
}

// imagePURL is an image's pkg:oci package URL: the repository's last
// path segment named at the manifest digest, with the repository and tag
// as qualifiers; empty without a digest.
func imagePURL(img *result.Image) string {
	if img.Target.Digest == "" {
		return ""
	}
	repo := imageRepository(img.Target.Reference)
	name := strings.ToLower(repo[strings.LastIndexByte(repo, '/')+1:])
	if name == "" {
		name = "image"
	}
	q := packageurl.Qualifiers{}
	if strings.Contains(repo, "/") {
		q = append(q, packageurl.Qualifier{Key: "repository_url", Value: repo})
	}
	if tag := imageTag(img.Target.Reference); tag != "" {
		q = append(q, packageurl.Qualifier{Key: "tag", Value: tag})
	}
	return packageurl.NewPackageURL(packageurl.TypeOCI, "", name, img.Target.Digest, q, "").ToString()
}

// advisoryURL is the canonical page of a vulnerability id: NVD for a CVE,
// GitHub for a GHSA, OSV for anything else.
func advisoryURL(id string) string {
	_, url := vulnSource(id)
	return url
}

// vulnSource names the database of a vulnerability id and its page.
func vulnSource(id string) (name, url string) {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "NVD", "https://nvd.nist.gov/vuln/detail/" + id
	case strings.HasPrefix(id, "GHSA-"):
		return "GitHub", "https://github.com/advisories/" + id
	}
	return "OSV", "https://osv.dev/vulnerability/" + id
}
