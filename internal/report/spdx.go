package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// spdxNamespace is the prefix of runlens's SPDX document namespaces.
const spdxNamespace = "https://runlens.dev/spdx/"

// noAssertion is SPDX's "nothing is said of it".
const noAssertion = "NOASSERTION"

// writeSPDX writes the document as an SPDX 2.3 JSON document: a package
// per image containing its packages, and each finding as a SECURITY
// advisory reference on the package it affects (SPDX 2.3 has no
// vulnerability section). The namespace is derived from the content.
func writeSPDX(w io.Writer, doc *result.Document, _ Options) error {
	sd := spdxDocument(doc)
	// The namespace is the hash of the document written without it: the
	// document is streamed twice, into the hash and then to w.
	h := sha256.New()
	if err := streamSPDX(h, sd); err != nil {
		return err
	}
	sd.DocumentNamespace = spdxNamespace + hex.EncodeToString(h.Sum(nil)[:16])
	return streamSPDX(w, sd)
}

// streamSPDX writes sd as the library's JSON writer does (indent "  ",
// HTML left unescaped, a final newline), its packages and relationships
// streamed one at a time.
func streamSPDX(w io.Writer, sd *spdx.Document) error {
	skel := *sd
	var arrays []jsonArray
	if len(sd.Packages) > 0 {
		skel.Packages = []*spdx.Package{{PackageSPDXIdentifier: "\x00runlens:packages"}}
		arrays = append(arrays, jsonArray{marker: skel.Packages[0], n: len(sd.Packages), elem: func(i int) any { return sd.Packages[i] }})
	}
	if len(sd.Relationships) > 0 {
		skel.Relationships = []*spdx.Relationship{spdxRelationship("DOCUMENT", "DOCUMENT", "\x00runlens:relationships")}
		arrays = append(arrays, jsonArray{marker: skel.Relationships[0], n: len(sd.Relationships), elem: func(i int) any { return sd.Relationships[i] }})
	}
	if err := streamJSON(w, &skel, false, arrays...); err != nil {
		return fmt.Errorf("writing SPDX report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing SPDX report: %w", err)
	}
	return nil
}

// spdxDocument builds the SPDX document of a result; its namespace is
// left to the caller.
func spdxDocument(doc *result.Document) *spdx.Document {
	version := doc.Scanner.Version
	if version == "" {
		version = "unknown"
	}
	sd := &spdx.Document{
		SPDXVersion: spdx.Version, DataLicense: spdx.DataLicense, SPDXIdentifier: "DOCUMENT",
		DocumentName: spdxName(doc), DocumentNamespace: spdxNamespace,
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: "runlens-" + version}},
			Created:  doc.CreatedAt.UTC().Format(time.RFC3339),
		},
	}
	ids := newSPDXIDs()
	incomplete := 0
	for _, img := range doc.Images {
		if img.Status == result.StatusFailed || img.Status == result.StatusPartial {
			incomplete++
		}
		imgPkg := imagePackage(img, ids)
		sd.Packages = append(sd.Packages, imgPkg)
		sd.Relationships = append(sd.Relationships, spdxRelationship("DOCUMENT", imgPkg.PackageSPDXIdentifier, common.TypeRelationshipDescribe))
		for _, p := range imagePackages(img, ids) {
			sd.Packages = append(sd.Packages, p)
			sd.Relationships = append(sd.Relationships, spdxRelationship(imgPkg.PackageSPDXIdentifier, p.PackageSPDXIdentifier, common.TypeRelationshipContains))
		}
	}
	sd.DocumentComment = "Vulnerabilities are SECURITY advisory external references on the packages they affect (SPDX 2.3 has no vulnerability section)."
	if incomplete > 0 {
		sd.DocumentComment += fmt.Sprintf(" Incomplete: %d of %d images were not scanned completely; their packages may be missing.", incomplete, len(doc.Images))
	}
	return sd
}

// spdxName names the document after its only image, else the command.
func spdxName(doc *result.Document) string {
	if len(doc.Images) == 1 {
		return doc.Images[0].Target.Reference
	}
	if doc.Command != "" {
		return "runlens " + doc.Command
	}
	return "runlens"
}

// spdxRelationship is a relationship between two elements of the document.
func spdxRelationship(a, b common.ElementID, kind string) *spdx.Relationship {
	return &spdx.Relationship{RefA: common.MakeDocElementID("", string(a)),
		RefB: common.MakeDocElementID("", string(b)), Relationship: kind}
}

// imagePackage is an image as an SPDX package of purpose CONTAINER, its
// manifest digest the checksum.
func imagePackage(img *result.Image, ids *spdxIDs) *spdx.Package {
	p := &spdx.Package{
		PackageName: imageRepository(img.Target.Reference), PackageVersion: img.Target.Digest,
		PackageSPDXIdentifier:   ids.take("Image-" + imageRepository(img.Target.Reference) + "-" + strings.TrimPrefix(shortDigest(img.Target.Digest), "sha256:")),
		PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "CONTAINER",
		PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
	}
	if hex, ok := strings.CutPrefix(img.Target.Digest, "sha256:"); ok {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hex}}
	}
	if purl := imagePURL(img); purl != "" {
		p.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: purl}}
	}
	p.PackageComment = "runlens scan " + img.Status
	if img.Error != "" {
		p.PackageComment += ": " + img.Error
	}
	if img.Distro != nil && img.Distro.PrettyName != "" {
		p.PackageSummary = img.Distro.PrettyName
	}
	return p
}

// imagePackages are an image's packages (the document's package list,
// else those its findings name), each with a SECURITY advisory reference
// per finding on it.
func imagePackages(img *result.Image, ids *spdxIDs) []*spdx.Package {
	findings := map[string][]match.Finding{}
	for _, f := range img.Findings {
		k := findingKey(f.Package)
		findings[k] = append(findings[k], f)
	}
	seen := map[string]bool{}
	var out []*spdx.Package
	add := func(p inventory.Package) {
		key := inventoryKey(p)
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, spdxPackage(p, findings[key], ids))
	}
	for _, p := range img.Packages {
		add(p)
	}
	for _, f := range img.Findings {
		add(findingPackage(f.Package))
	}
	return out
}

// spdxPackage is one package of an image with its findings as advisory
// references.
func spdxPackage(p inventory.Package, findings []match.Finding, ids *spdxIDs) *spdx.Package {
	version := p.Version
	if version == "" {
		version = noAssertion
	}
	sp := &spdx.Package{
		PackageName: p.Name, PackageVersion: version, PackageSPDXIdentifier: ids.take("Package-" + p.Name + "-" + p.Version),
		PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "LIBRARY",
		PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
	}
	if p.PURL != "" {
		sp.PackageExternalReferences = append(sp.PackageExternalReferences, &spdx.PackageExternalReference{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL})
	}
	if p.SourceName != "" {
		sp.PackageSourceInfo = "built from source package " + strings.TrimSpace(p.SourceName+" "+p.SourceVersion)
	}
	var notes []string
	if len(p.Locations) > 0 {
		notes = append(notes, "location "+strings.Join(p.Locations, ", "))
	}
	if p.Layer != "" {
		notes = append(notes, "layer "+p.Layer)
	}
	sp.PackageComment = strings.Join(notes, "; ")
	for _, f := range findings {
		note := f.ID + " " + f.Severity
		if len(f.FixedVersions) > 0 {
			note += ", fixed in " + strings.Join(f.FixedVersions, ", ")
		}
		sp.PackageExternalReferences = append(sp.PackageExternalReferences, &spdx.PackageExternalReference{
			Category: common.CategorySecurity, RefType: common.TypeSecurityAdvisory,
			Locator: advisoryURL(f.ID), ExternalRefComment: note})
	}
	return sp
}

// spdxIDs hands out SPDX identifiers unique within one document.
type spdxIDs struct {
	taken map[common.ElementID]bool
	// next is, per base name, the first suffix not known to be taken.
	next map[string]int
}

// newSPDXIDs is an empty set of identifiers.
func newSPDXIDs() *spdxIDs {
	return &spdxIDs{taken: map[common.ElementID]bool{}, next: map[string]int{}}
}

// take sanitizes name into an SPDX identifier (letters, digits, "." and
// "-") made unique with a numeric suffix.
func (s *spdxIDs) take(name string) common.ElementID {
	var b strings.Builder
	for _, r := range name {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = "element"
	}
	id := common.ElementID(base)
	// Every suffix below next[base] is taken already (identifiers are
	// never given back), so the search starts there.
	n := max(s.next[base], 2)
	for ; s.taken[id]; n++ {
		id = common.ElementID(base + "-" + strconv.Itoa(n))
	}
	s.next[base] = n
	s.taken[id] = true
	return id
}
