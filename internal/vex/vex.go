// Package vex reads VEX documents (OpenVEX and CycloneDX VEX, JSON) and
// answers which statement applies to a finding in an image: Load reads
// the files, Set.Lookup matches one finding. docs/vex.md describes the
// matching rules; this package only reads and matches, it decides
// nothing about risk.
package vex

import (
	"strings"
	"time"

	"github.com/runlens/runlens/internal/result"
)

// Query names one finding in one image for Lookup.
type Query struct {
	// Vulnerability is the finding's id; Aliases its other ids.
	Vulnerability string
	Aliases       []string
	// Digest is the image's manifest digest ("sha256:…").
	Digest string
	// Repositories are the "registry/repo" names the digest runs as, e.g.
	// "docker.io/library/nginx", "localhost:5000/shop/web" (references
	// with a tag or digest are read for their repository).
	Repositories []string
	// PackagePURL is the vulnerable package's purl.
	PackagePURL string
}

// Specificity of a product match, the most specific highest.
const (
	specPackage  = 1 // a package purl, in any image
	specImage    = 2 // an image, every package of it
	specImageSub = 3 // a package listed as a subcomponent of an image
)

// Set is the statements of the VEX documents Load read, indexed by
// vulnerability id. The zero value and nil hold no statement.
type Set struct {
	byVuln     map[string][]*statement
	statements int
	documents  []string
}

// statement is one VEX statement as read from either format.
type statement struct {
	// vulns are the vulnerability ids it names (vulnKey).
	vulns    []string
	products []product
	// out is what Lookup returns, Product left to the match.
	out result.VEXStatement
	// at is when the statement was made or last updated; order its place
	// among all statements read.
	at    time.Time
	order int
}

// product is one product of a statement: the image or package it names
// by any of its identifiers, and the subcomponents it is limited to.
type product struct {
	images []*imageID
	pkgs   []*pkgID
	// subs are the subcomponents runlens can match; hasSubs is set when
	// the product lists any subcomponent at all, so that one runlens
	// cannot read still limits the product.
	subs    []*pkgID
	hasSubs bool
}

// query is a Query read once for matching.
type query struct {
	digest string
	repos  []string
	pkg    *pkgID
}

// Statements returns how many statements the set holds.
func (s *Set) Statements() int {
	if s == nil {
		return 0
	}
	return s.statements
}

// Documents returns the documents read, as "file (document id)", in the
// order read.
func (s *Set) Documents() []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s.documents...)
}

// add indexes st under each of its vulnerability ids.
func (s *Set) add(st *statement) {
	if s.byVuln == nil {
		s.byVuln = map[string][]*statement{}
	}
	st.order = s.statements
	s.statements++
	seen := map[string]bool{}
	for _, v := range st.vulns {
		if !seen[v] {
			seen[v] = true
			s.byVuln[v] = append(s.byVuln[v], st)
		}
	}
}

// Lookup returns the statement that applies to q, or nil when none does.
// A statement applies when it names q's vulnerability (its id or any
// alias) and one of its products names q's image or package. Of several,
// the most specific product wins (image with the package as a
// subcomponent, then the image, then the package alone), then the latest
// timestamp, then the status that sets less aside (affected,
// under_investigation, fixed, not_affected), then the statement read
// last. The result is a copy; Product is the identifier that matched.
func (s *Set) Lookup(q Query) *result.VEXStatement {
	if s == nil || len(s.byVuln) == 0 {
		return nil
	}
	qq := readQuery(q)
	var (
		best     *statement
		bestSpec int
		bestID   string
		seen     = map[*statement]bool{}
	)
	for _, id := range append([]string{q.Vulnerability}, q.Aliases...) {
		for _, st := range s.byVuln[vulnKey(id)] {
			if seen[st] {
				continue
			}
			seen[st] = true
			spec, matched := st.match(qq)
			if spec == 0 {
				continue
			}
			if best == nil || better(st, spec, best, bestSpec) {
				best, bestSpec, bestID = st, spec, matched
			}
		}
	}
	if best == nil {
		return nil
	}
	out := best.out
	out.Product = bestID
	return &out
}

// better reports whether statement a matched with specificity sa wins
// over b matched with sb.
func better(a *statement, sa int, b *statement, sb int) bool {
	if sa != sb {
		return sa > sb
	}
	if !a.at.Equal(b.at) {
		return a.at.After(b.at)
	}
	if ra, rb := caution(a.out.Status), caution(b.out.Status); ra != rb {
		return ra > rb
	}
	return a.order > b.order
}

// caution ranks statuses by how little they set aside.
func caution(status string) int {
	switch status {
	case result.VEXAffected:
		return 3
	case result.VEXUnderInvestigation:
		return 2
	case result.VEXFixed:
		return 1
	}
	return 0
}

// match returns the specificity of the best product of st that names q's
// image or package, with the identifier that matched; 0 when none does.
func (st *statement) match(q *query) (int, string) {
	best, id := 0, ""
	for i := range st.products {
		if spec, matched := st.products[i].match(q); spec > best {
			best, id = spec, matched
		}
	}
	return best, id
}

// match returns the specificity of p for q and the identifier that
// matched. A product naming an image covers every package of it unless
// it lists subcomponents; a product naming only a package covers that
// package in any image, and one that lists subcomponents covers nothing
// (runlens cannot tell which package they sit inside).
func (p *product) match(q *query) (int, string) {
	if len(p.images) > 0 {
		if q.digest == "" {
			return 0, ""
		}
		for _, im := range p.images {
			if !im.matches(q) {
				continue
			}
			if !p.hasSubs {
				return specImage, im.raw
			}
			if q.pkg == nil {
				return 0, ""
			}
			for _, sub := range p.subs {
				if sub.covers(q.pkg) {
					return specImageSub, im.raw + " > " + sub.raw
				}
			}
			return 0, ""
		}
		return 0, ""
	}
	if p.hasSubs || q.pkg == nil {
		return 0, ""
	}
	for _, pk := range p.pkgs {
		if pk.covers(q.pkg) {
			return specPackage, pk.raw
		}
	}
	return 0, ""
}

// readQuery normalises q's digest, repositories and package.
func readQuery(q Query) *query {
	out := &query{digest: parseDigest(q.Digest)}
	for _, r := range q.Repositories {
		if n, ok := normaliseRepo(r); ok {
			out.repos = append(out.repos, n)
		}
	}
	if q.PackagePURL != "" {
		if _, pk := parseIdent(q.PackagePURL); pk != nil {
			out.pkg = pk
		}
	}
	return out
}

// vulnKey is the key a vulnerability id is indexed and looked up by: CVE
// and GHSA ids fold to upper case; any other id is kept as written,
// trimmed.
func vulnKey(id string) string {
	id = strings.TrimSpace(id)
	for _, prefix := range []string{"CVE-", "GHSA-"} {
		if len(id) > len(prefix) && strings.EqualFold(id[:len(prefix)], prefix) {
			return strings.ToUpper(id)
		}
	}
	return id
}
