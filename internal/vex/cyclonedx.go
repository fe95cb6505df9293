package vex

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/runlens/runlens/internal/result"
)

// cdxStatus maps CycloneDX analysis states onto OpenVEX statuses.
var cdxStatus = map[cdx.ImpactAnalysisState]string{
	cdx.IASNotAffected:          result.VEXNotAffected,
	cdx.IASFalsePositive:        result.VEXNotAffected,
	cdx.IASResolved:             result.VEXFixed,
	cdx.IASResolvedWithPedigree: result.VEXFixed,
	cdx.IASExploitable:          result.VEXAffected,
	cdx.IASInTriage:             result.VEXUnderInvestigation,
}

// cdxJustifications are CycloneDX's justifications, kept as written.
var cdxJustifications = map[cdx.ImpactAnalysisJustification]bool{
	cdx.IAJCodeNotPresent: true, cdx.IAJCodeNotReachable: true, cdx.IAJRequiresConfiguration: true,
	cdx.IAJRequiresDependency: true, cdx.IAJRequiresEnvironment: true, cdx.IAJProtectedByCompiler: true,
	cdx.IAJProtectedAtRuntime: true, cdx.IAJProtectedAtPerimeter: true, cdx.IAJProtectedByMitigatingControl: true,
}

// cdxComponent is a component of the BOM with the image it sits in.
type cdxComponent struct {
	c *cdx.Component
	// image is the nearest enclosing component (or the BOM's subject)
	// that is an image, nil when there is none.
	image *imageID
}

// parseCycloneDX reads the vulnerabilities of a CycloneDX BOM (JSON, 1.4
// and later) as VEX statements.
func parseCycloneDX(path string, data []byte) (string, []*statement, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return "", nil, fmt.Errorf("reading CycloneDX: %w", err)
	}
	if bom.SpecVersion < cdx.SpecVersion1_4 {
		return "", nil, fmt.Errorf("CycloneDX %s has no vulnerabilities: runlens reads VEX from 1.4 and later", bom.SpecVersion)
	}
	name := docName(path, bom.SerialNumber)
	if bom.Vulnerabilities == nil || len(*bom.Vulnerabilities) == 0 {
		return "", nil, errors.New("CycloneDX BOM without vulnerabilities: an SBOM, not a VEX document")
	}
	var docAt time.Time
	var author string
	index := map[string]cdxComponent{}
	if m := bom.Metadata; m != nil {
		var err error
		if docAt, err = cdxTime(m.Timestamp); err != nil {
			return "", nil, fmt.Errorf("metadata.timestamp: %w", err)
		}
		author = cdxAuthor(m)
		if m.Component != nil {
			indexComponents(index, []cdx.Component{*m.Component}, nil)
		}
	}
	var root *imageID
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		root = componentImage(bom.Metadata.Component)
	}
	if bom.Components != nil {
		indexComponents(index, *bom.Components, root)
	}
	var out []*statement
	for i := range *bom.Vulnerabilities {
		v := &(*bom.Vulnerabilities)[i]
		st, err := cdxStatement(v, index, root, docAt)
		if err != nil {
			return "", nil, fmt.Errorf("CycloneDX vulnerability %d%s: %w", i+1, vulnLabel(v.ID), err)
		}
		st.out.Document, st.out.Format, st.out.Author = name, "cyclonedx", author
		out = append(out, st)
	}
	return name, out, nil
}

// cdxStatement reads one vulnerability with its analysis and affects.
func cdxStatement(v *cdx.Vulnerability, index map[string]cdxComponent, root *imageID, docAt time.Time) (*statement, error) {
	if strings.TrimSpace(v.ID) == "" {
		return nil, errors.New("no vulnerability id")
	}
	st := &statement{vulns: []string{vulnKey(v.ID)}}
	if v.References != nil {
		for _, r := range *v.References {
			if k := vulnKey(r.ID); k != "" {
				st.vulns = append(st.vulns, k)
			}
		}
	}
	a := v.Analysis
	if a == nil || a.State == "" {
		return nil, errors.New("no analysis.state: a vulnerability report, not a VEX statement")
	}
	status, ok := cdxStatus[a.State]
	if !ok {
		return nil, fmt.Errorf("unknown analysis.state %q", a.State)
	}
	if a.Justification != "" && !cdxJustifications[a.Justification] {
		return nil, fmt.Errorf("unknown analysis.justification %q", a.Justification)
	}
	if v.Affects == nil || len(*v.Affects) == 0 {
		return nil, errors.New("no affects: names no product")
	}
	for _, af := range *v.Affects {
		p, err := cdxProduct(af.Ref, index, root)
		if err != nil {
			return nil, err
		}
		st.products = append(st.products, p)
	}
	st.out = result.VEXStatement{Status: status, Justification: string(a.Justification)}
	switch {
	case a.State == cdx.IASFalsePositive:
		if st.out.Justification == "" {
			st.out.Justification = string(cdx.IASFalsePositive)
		}
		st.out.Impact = strings.TrimSpace("false positive. " + a.Detail)
	case status == result.VEXNotAffected:
		st.out.Impact = a.Detail
	case status == result.VEXAffected:
		st.out.Action = cdxAction(v)
	}
	var err error
	for _, t := range []string{a.LastUpdated, a.FirstIssued, v.Updated, v.Published} {
		if st.at, err = cdxTime(t); err != nil {
			return nil, err
		}
		if !st.at.IsZero() {
			break
		}
	}
	if st.at.IsZero() {
		st.at = docAt
	}
	st.out.Timestamp = st.at
	return st, nil
}

// cdxProduct resolves an affects ref: the bom-ref of a component of the
// BOM, else a purl or a digest written in place. A BOM-Link (urn:cdx:…)
// names a component of another BOM and matches nothing here.
func cdxProduct(ref string, index map[string]cdxComponent, root *imageID) (product, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return product{}, errors.New("affects ref is empty")
	}
	if c, ok := index[ref]; ok {
		return componentProduct(c.c, c.image), nil
	}
	if strings.HasPrefix(ref, "urn:cdx:") {
		return product{}, nil
	}
	im, pk := parseIdent(ref)
	switch {
	case im != nil:
		return product{images: []*imageID{im}}, nil
	case pk != nil:
		return packageProduct(pk, root), nil
	case strings.HasPrefix(strings.ToLower(ref), "pkg:"):
		return product{}, nil // a purl runlens cannot match (e.g. pkg:oci without a digest)
	}
	return product{}, fmt.Errorf("affects ref %q names no component of the BOM and is neither a purl nor a digest", ref)
}

// componentProduct is the product a component names: itself when it is an
// image, else its package inside the image it sits in.
func componentProduct(c *cdx.Component, in *imageID) product {
	if im := componentImage(c); im != nil {
		return product{images: []*imageID{im}}
	}
	if c.PackageURL == "" {
		return product{}
	}
	if _, pk := parseIdent(c.PackageURL); pk != nil {
		return packageProduct(pk, in)
	}
	return product{}
}

// packageProduct is a package, in image in when it is known, else alone.
func packageProduct(pk *pkgID, in *imageID) product {
	if in == nil {
		return product{pkgs: []*pkgID{pk}}
	}
	return product{images: []*imageID{in}, subs: []*pkgID{pk}, hasSubs: true}
}

// componentImage returns the image a component names: a pkg:oci purl
// with a digest, or a container whose version or SHA-256 hash is its
// manifest digest; nil for anything else.
func componentImage(c *cdx.Component) *imageID {
	if c.PackageURL != "" {
		im, _ := parseIdent(c.PackageURL)
		return im
	}
	if c.Type != cdx.ComponentTypeContainer {
		return nil
	}
	if d := parseDigest(c.Version); d != "" {
		return &imageID{digest: d, raw: c.Version}
	}
	if c.Hashes != nil {
		for _, h := range *c.Hashes {
			if h.Algorithm == cdx.HashAlgoSHA256 {
				if d := parseDigest("sha256:" + h.Value); d != "" {
					return &imageID{digest: d, raw: d}
				}
			}
		}
	}
	return nil
}

// indexComponents indexes components by bom-ref, each with the image it
// sits in: the nearest enclosing image, else in.
func indexComponents(index map[string]cdxComponent, list []cdx.Component, in *imageID) {
	for i := range list {
		c := &list[i]
		if c.BOMRef != "" {
			if _, dup := index[c.BOMRef]; !dup {
				index[c.BOMRef] = cdxComponent{c: c, image: in}
			}
		}
		if c.Components != nil {
			inner := in
			if im := componentImage(c); im != nil {
				inner = im
			}
			indexComponents(index, *c.Components, inner)
		}
	}
}

// cdxAction is what an exploitable vulnerability's entry says to do.
func cdxAction(v *cdx.Vulnerability) string {
	for _, s := range []string{v.Recommendation, v.Workaround, v.Analysis.Detail} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	if r := v.Analysis.Response; r != nil && len(*r) > 0 {
		words := make([]string, len(*r))
		for i, w := range *r {
			words[i] = string(w)
		}
		return "response: " + strings.Join(words, ", ")
	}
	return ""
}

// cdxAuthor names the BOM's authors, else its manufacturer or supplier.
func cdxAuthor(m *cdx.Metadata) string {
	if m.Authors != nil {
		var names []string
		for _, a := range *m.Authors {
			if n := strings.TrimSpace(a.Name); n != "" {
				names = append(names, n)
			} else if e := strings.TrimSpace(a.Email); e != "" {
				names = append(names, e)
			}
		}
		if len(names) > 0 {
			return strings.Join(names, ", ")
		}
	}
	for _, e := range []*cdx.OrganizationalEntity{m.Manufacturer, m.Supplier} {
		if e != nil && e.Name != "" {
			return e.Name
		}
	}
	return ""
}

// cdxTime reads a CycloneDX date-time; empty is the zero time.
func cdxTime(s string) (time.Time, error) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date-time %q: %w", s, err)
	}
	return t, nil
}
