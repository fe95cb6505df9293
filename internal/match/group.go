package match

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/osv-scalibr/semantic"

	"github.com/runlens/runlens/internal/gosym"
	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/severity"
)

// hit is one advisory that affects one package.
type hit struct {
	vuln  *osv.Vulnerability
	sev   severity.Result
	fixed []string
	eco   string // ecosystem the fixed versions are spelled in
	// statuses are the triage statuses (distroStatus) of its affected
	// entries that hold the version and name no fix.
	statuses []string
	// imports are the vulnerable Go packages and symbols of a GO- record's
	// affected entries that hold the version (goImports).
	imports []gosym.Import
}

// cvePattern finds a CVE ID, also inside distribution IDs such as
// "UBUNTU-CVE-2021-44228" and "DEBIAN-CVE-2022-1292", which name exactly
// that CVE.
var cvePattern = regexp.MustCompile(`(?:^|-)(CVE-\d{4}-\d{4,})$`)

// cveOf returns the CVE an identifier names, or "".
func cveOf(id string) string {
	if m := cvePattern.FindStringSubmatch(id); m != nil {
		return m[1]
	}
	return ""
}

// keys returns the identifiers a record is known by: its ID, aliases and
// upstream IDs, each with the CVE it names. umbrella is true for a
// distribution advisory (DSA, DLA, USN...) whose upstream list covers more
// than one CVE: such a record is not an alias of any one of them, so it
// joins the finding of each CVE it covers instead of merging them.
func keys(v *osv.Vulnerability) (ids []string, cves []string, umbrella bool) {
	add := func(id string) {
		if id == "" {
			return
		}
		ids = append(ids, id)
		if c := cveOf(id); c != "" {
			ids = append(ids, c)
			cves = append(cves, c)
		}
	}
	add(v.ID)
	for _, a := range v.Aliases {
		add(a)
	}
	var upCVEs []string
	for _, u := range v.Upstream {
		add(u)
		if c := cveOf(u); c != "" {
			upCVEs = append(upCVEs, c)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	slices.SortFunc(cves, cveCompare)
	cves = slices.Compact(cves)
	slices.Sort(upCVEs)
	upCVEs = slices.Compact(upCVEs)
	umbrella = len(upCVEs) > 1 && cveOf(v.ID) == ""
	return ids, cves, umbrella
}

// cveCompare orders CVE IDs by year, then number (CVE-2021-9999 before
// CVE-2021-10000).
func cveCompare(a, b string) int {
	ya, na := cveParts(a)
	yb, nb := cveParts(b)
	if ya != yb {
		return ya - yb
	}
	if na != nb {
		if na < nb {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func cveParts(id string) (int, int64) {
	p := strings.SplitN(id, "-", 3)
	if len(p) != 3 {
		return 0, 0
	}
	y, _ := strconv.Atoi(p[1])
	n, _ := strconv.ParseInt(p[2], 10, 64)
	return y, n
}

// group is a set of hits that describe one vulnerability.
type group struct {
	members []int    // indexes into hits, non-umbrella records
	extra   []int    // umbrella records attached to the group
	ids     []string // identifiers of the members
}

// groupHits merges the hits for one package into alias groups: records
// sharing any identifier (ID, alias, upstream, or the CVE these name) are
// one group; umbrella records join every group whose CVE they cover, or
// form one group per CVE where none exists.
func groupHits(hits []hit) []*group {
	parent := make([]int, len(hits))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	type rec struct {
		ids, cves []string
		umbrella  bool
	}
	recs := make([]rec, len(hits))
	owner := map[string]int{} // identifier -> first non-umbrella hit with it
	for i, h := range hits {
		ids, cves, umb := keys(h.vuln)
		recs[i] = rec{ids, cves, umb}
		if umb {
			continue
		}
		for _, id := range ids {
			if j, ok := owner[id]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[id] = i
			}
		}
	}
	byRoot := map[int]*group{}
	var groups []*group
	for i := range hits {
		if recs[i].umbrella {
			continue
		}
		r := find(i)
		g := byRoot[r]
		if g == nil {
			g = &group{}
			byRoot[r] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, i)
		g.ids = append(g.ids, recs[i].ids...)
	}
	byCVE := map[string]*group{}
	for i := range hits {
		if !recs[i].umbrella {
			continue
		}
		attached := map[*group]bool{}
		for _, id := range recs[i].ids {
			if j, ok := owner[id]; ok {
				attached[byRoot[find(j)]] = true
			}
		}
		for _, c := range recs[i].cves {
			if _, ok := owner[c]; ok {
				continue
			}
			g := byCVE[c]
			if g == nil {
				g = &group{}
				byCVE[c] = g
				groups = append(groups, g)
			}
			// The group knows the CVE by the umbrella's IDs that name
			// exactly it ("CVE-2008-1768", "DEBIAN-CVE-2008-1768").
			for _, id := range recs[i].ids {
				if cveOf(id) == c {
					g.ids = append(g.ids, id)
				}
			}
			attached[g] = true
		}
		for _, g := range groups { // deterministic order
			if attached[g] {
				g.extra = append(g.extra, i)
			}
		}
	}
	for _, g := range groups {
		slices.Sort(g.ids)
		g.ids = slices.Compact(g.ids)
	}
	return groups
}

// idRank orders records for choosing the one whose summary and dates a
// finding shows: language advisories (GHSA, GO, PYSEC...) first, then
// distribution notices (DSA, DLA, USN, ALPINE...), then per-CVE records.
func idRank(id string) int {
	switch {
	case strings.HasPrefix(id, "GHSA-"), strings.HasPrefix(id, "GO-"):
		return 0
	case cveOf(id) != "":
		return 2
	}
	return 1
}

// finding builds the Finding of one group for one package, rated from its
// advisories and, when metrics is set, its CVEs' metrics.
func (g *group) finding(ctx context.Context, hits []hit, pkg PackageRef, metrics MetricsSource) Finding {
	all := append(append([]int(nil), g.members...), g.extra...)
	var f Finding
	var cves []string
	for _, id := range g.ids {
		if cveOf(id) == id {
			cves = append(cves, id)
		}
	}
	slices.SortFunc(cves, cveCompare)
	for _, i := range all {
		f.Advisories = append(f.Advisories, hits[i].vuln.ID)
	}
	slices.Sort(f.Advisories)
	f.Advisories = slices.Compact(f.Advisories)
	if len(cves) > 0 {
		f.ID = cves[0]
	} else {
		f.ID = f.Advisories[0]
	}
	for _, id := range g.ids {
		if id != f.ID && !slices.Contains(f.Advisories, id) {
			f.Aliases = append(f.Aliases, id)
		}
	}
	f.Package = pkg

	var fixed, statuses []string
	var fixEco string
	for _, i := range all {
		h := hits[i]
		fixed = append(fixed, h.fixed...)
		statuses = append(statuses, h.statuses...)
		fixEco = h.eco
		if h.vuln.Modified.After(f.Modified) {
			f.Modified = h.vuln.Modified
		}
	}
	class, cands := ratingOf(hits, all)
	rate(ctx, &f, class, cands, cves, metrics)
	f.FixedVersions = sortVersions(fixed, fixEco)
	f.Status = mergeStatus(statuses, len(f.FixedVersions) > 0)

	order := slices.Clone(all)
	slices.SortFunc(order, func(a, b int) int {
		va, vb := hits[a].vuln, hits[b].vuln
		if ra, rb := idRank(va.ID), idRank(vb.ID); ra != rb {
			return ra - rb
		}
		return strings.Compare(va.ID, vb.ID)
	})
	for _, i := range order {
		if s := summaryOf(hits[i].vuln); s != "" {
			f.Summary = s
			break
		}
	}
	f.Published = earliestPublished(hits, order)
	f.References = references(hits, order)
	for _, i := range order {
		f.ExploitReferences = exploitReferences(f.ExploitReferences, hits[i].vuln)
	}
	f.Symbols = goSymbols(hits, order)
	return f
}

// findingSeverity maps a rating to the words of Finding.Severity. A CVSS
// score of 0.0 (NONE) is reported as LOW: the record still says the
// package is affected.
func findingSeverity(r severity.Rating) string {
	if r == severity.None {
		return severity.Low.String()
	}
	return r.String()
}

// summaryOf returns a record's summary, else the first line of its details
// cut to 200 bytes.
func summaryOf(v *osv.Vulnerability) string {
	if s := strings.TrimSpace(v.Summary); s != "" {
		return s
	}
	d, _, _ := strings.Cut(strings.TrimSpace(v.Details), "\n")
	if len(d) > 200 {
		d = strings.ToValidUTF8(d[:200], "") + "…"
	}
	return d
}

func earliestPublished(hits []hit, order []int) time.Time {
	var t time.Time
	for _, i := range order {
		p := hits[i].vuln.Published
		if !p.IsZero() && (t.IsZero() || p.Before(t)) {
			t = p
		}
	}
	return t
}

// maxReferences bounds Finding.References.
const maxReferences = 5

// references returns the advisory page of each record (preferred record
// first), then other ADVISORY/REPORT/WEB links, up to maxReferences.
func references(hits []hit, order []int) []string {
	var out []string
	add := func(u string) {
		if u != "" && len(out) < maxReferences && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	for _, i := range order {
		add(advisoryPage(hits[i].vuln))
	}
	for _, typ := range []string{"ADVISORY", "REPORT", "WEB"} {
		for _, i := range order {
			for _, r := range hits[i].vuln.References {
				if r.Type == typ {
					add(r.URL)
				}
			}
		}
	}
	return out
}

// advisoryPage is the human page of one record: its own ADVISORY link when
// it names the record, else database_specific.url, else the page its
// database is known to publish it at, else osv.dev.
func advisoryPage(v *osv.Vulnerability) string {
	for _, r := range v.References {
		if r.Type == "ADVISORY" && strings.Contains(r.URL, v.ID) {
			return r.URL
		}
	}
	if u, ok := v.DatabaseSpecific["url"].(string); ok && u != "" {
		return u
	}
	switch {
	case strings.HasPrefix(v.ID, "GHSA-"):
		return "https://github.com/advisories/" + v.ID
	case strings.HasPrefix(v.ID, "GO-"):
		return "https://pkg.go.dev/vuln/" + v.ID
	case strings.HasPrefix(v.ID, "USN-"):
		return "https://ubuntu.com/security/notices/" + v.ID
	case strings.HasPrefix(v.ID, "UBUNTU-CVE-"):
		return "https://ubuntu.com/security/" + cveOf(v.ID)
	case strings.HasPrefix(v.ID, "DSA-"), strings.HasPrefix(v.ID, "DLA-"):
		return "https://security-tracker.debian.org/tracker/" + v.ID
	case strings.HasPrefix(v.ID, "DEBIAN-CVE-"):
		return "https://security-tracker.debian.org/tracker/" + cveOf(v.ID)
	}
	return "https://osv.dev/vulnerability/" + v.ID
}

// sortVersions deduplicates versions and sorts them in the ecosystem's
// order (strings that do not parse sort after those that do, by text).
func sortVersions(vs []string, ecosystem string) []string {
	if len(vs) == 0 {
		return nil
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	vs = slices.Compact(vs)
	parsed := make(map[string]semantic.Version, len(vs))
	for _, v := range vs {
		if p, err := semantic.Parse(v, ecosystem); err == nil {
			parsed[v] = p
		}
	}
	slices.SortStableFunc(vs, func(a, b string) int {
		pa, oka := parsed[a]
		pb, okb := parsed[b]
		switch {
		case oka && okb:
			if c, err := pa.Compare(pb); err == nil {
				return c
			}
		case oka:
			return -1
		case okb:
			return 1
		}
		return strings.Compare(a, b)
	})
	return vs
}
