package match

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/severity"
)

// Source yields the advisories that may affect one package. The store
// (internal/vulndb) implements it; it normalises names with
// osv.NormalizeName, so a lookup of "axios" finds a record for "Axios".
// Match checks every affected entry again, so a Source may return extra
// records.
type Source interface {
	Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error)
}

// Result is the outcome of matching one inventory.
type Result struct {
	// Findings are sorted by severity (CRITICAL first), then ID, then
	// package.
	Findings []Finding
	// Errors lists advisories that could not be evaluated for a package
	// (an installed or advisory version that does not parse, an ecosystem
	// without version rules), one line each, sorted. The package may be
	// affected: these are never silently treated as "not affected".
	Errors []string
	// Skipped lists packages that were not looked up and why (no
	// ecosystem, "(devel)" Go modules, development Go toolchains), sorted.
	Skipped []string
	// Stats counts the work done.
	Stats Stats
}

// Stats counts what Match looked at.
type Stats struct {
	// Packages is the number of inventory packages.
	Packages int `json:"packages"`
	// Lookups is the number of distinct (ecosystem, name) lookups.
	Lookups int `json:"lookups"`
	// Records is the number of distinct advisory records returned.
	Records int `json:"records"`
	// Withdrawn is how many of those were withdrawn and skipped.
	Withdrawn int `json:"withdrawn"`
}

// Match finds the advisories that affect each package of inv. A failing
// lookup fails the whole match (returned as an error) rather than yielding
// a result that would read as clean.
func Match(ctx context.Context, inv *inventory.Inventory, src Source) (Result, error) {
	var res Result
	if inv == nil {
		return res, nil
	}
	if src == nil {
		return res, errors.New("match: no advisory source")
	}
	res.Stats.Packages = len(inv.Packages)
	m := &matcher{
		src: src, res: &res,
		metrics:  metricsOf(src),
		lookups:  map[string][]*osv.Vulnerability{},
		seen:     map[string]bool{},
		packages: map[string][]Finding{},
		versions: versionCache{},
	}
	for i := range inv.Packages {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		p := &inv.Packages[i]
		qs, err := plan(p)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s %s (%s): %v", p.Name, p.Version, p.Ecosystem, err))
			continue
		}
		fs, err := m.matchPackage(ctx, qs)
		if err != nil {
			return Result{}, err
		}
		ref := packageRef(p, qs[0])
		for _, f := range fs {
			// Clone so that no two findings share a slice a consumer
			// might sort or append to.
			f.Advisories, f.Aliases = slices.Clone(f.Advisories), slices.Clone(f.Aliases)
			f.FixedVersions, f.References = slices.Clone(f.FixedVersions), slices.Clone(f.References)
			f.ExploitReferences = slices.Clone(f.ExploitReferences)
			if f.CVSS != nil {
				c := *f.CVSS
				f.CVSS = &c
			}
			if f.Symbols != nil {
				gs := *f.Symbols
				gs.Vulnerable, gs.Imports = slices.Clone(gs.Vulnerable), slices.Clone(gs.Imports)
				f.Symbols = &gs
			}
			f.Package = ref
			res.Findings = append(res.Findings, f)
		}
	}
	res.Findings = sortFindings(res.Findings)
	slices.Sort(res.Errors)
	res.Errors = slices.Compact(res.Errors)
	slices.Sort(res.Skipped)
	return res, nil
}

// matcher holds what one Match call has already computed. Images repeat
// packages (the same npm version in many node_modules trees, many binary
// packages of one source package), so lookups and whole per-package
// results are cached; a cached result differs only in its PackageRef.
type matcher struct {
	src      Source
	metrics  MetricsSource // nil when src knows no CVE metrics
	res      *Result
	lookups  map[string][]*osv.Vulnerability // ecosystem + normalised name
	seen     map[string]bool                 // record IDs counted in Stats
	packages map[string][]Finding            // all queries + versions -> findings without Package
	versions versionCache
}

func (m *matcher) matchPackage(ctx context.Context, qs []query) ([]Finding, error) {
	var pkgKey strings.Builder
	for _, q := range qs {
		pkgKey.WriteString(q.ecosystem + "\x00" + osv.FoldName(q.ecosystem, q.name) + "\x00" + q.version + "\x00")
	}
	if fs, ok := m.packages[pkgKey.String()]; ok {
		return fs, nil
	}
	var hits []hit
	byID := map[string]int{}
	for _, q := range qs {
		key := q.ecosystem + "\x00" + osv.FoldName(q.ecosystem, q.name)
		vulns, ok := m.lookups[key]
		if !ok {
			var err error
			vulns, err = m.src.Lookup(ctx, q.ecosystem, q.name)
			if err != nil {
				return nil, fmt.Errorf("match: looking up %s %q: %w", q.ecosystem, q.name, err)
			}
			m.lookups[key] = vulns
			m.res.Stats.Lookups++
		}
		iv := newInstalled(q.version, q.ecosystem, m.versions)
		for _, v := range vulns {
			if v == nil {
				continue
			}
			if !m.seen[v.ID] {
				m.seen[v.ID] = true
				m.res.Stats.Records++
				if v.Withdrawn != nil {
					m.res.Stats.Withdrawn++
				}
			}
			if v.Withdrawn != nil {
				continue
			}
			h, errs, ok := check(v, q, iv)
			if len(errs) > 0 && !ok {
				m.res.Errors = append(m.res.Errors, fmt.Sprintf("%s: %s %s (%s): %s",
					v.ID, q.name, q.version, q.ecosystem, strings.Join(errs, "; ")))
			}
			if !ok {
				continue
			}
			if j, dup := byID[v.ID]; dup {
				hits[j].fixed = append(hits[j].fixed, h.fixed...)
				hits[j].statuses = append(hits[j].statuses, h.statuses...)
				continue
			}
			byID[v.ID] = len(hits)
			hits = append(hits, h)
		}
	}
	var fs []Finding
	for _, g := range groupHits(hits) {
		fs = append(fs, g.finding(ctx, hits, PackageRef{}, m.metrics))
	}
	m.packages[pkgKey.String()] = fs
	return fs, nil
}

// check evaluates one record for one lookup. Affected entries of another
// ecosystem or package name are ignored.
func check(v *osv.Vulnerability, q query, iv *installed) (hit, []string, bool) {
	want := osv.FoldName(q.ecosystem, q.name)
	listed := func(s string) string { return s }
	if q.ecosystem == "Go" {
		listed = func(s string) string { return strings.TrimPrefix(s, "v") }
	}
	h := hit{vuln: v, eco: q.ecosystem}
	var errs []string
	affected := false
	for i := range v.Affected {
		a := &v.Affected[i]
		if a.Package.Ecosystem != q.ecosystem || osv.FoldName(q.ecosystem, a.Package.Name) != want {
			continue
		}
		vd := evaluate(a, iv, listed)
		errs = append(errs, vd.errs...)
		if !vd.affected {
			continue
		}
		if !affected {
			h.sev = severity.FromRecord(v, a)
		}
		affected = true
		h.fixed = append(h.fixed, vd.fixed...)
		h.imports = append(h.imports, goImports(v, a)...)
		if len(vd.fixed) == 0 {
			h.statuses = append(h.statuses, distroStatus(v, a))
		}
	}
	return h, errs, affected
}

func packageRef(p *inventory.Package, q query) PackageRef {
	ref := PackageRef{
		Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem,
		Type: p.Type, PURL: p.PURL, Layer: p.Layer,
	}
	if len(p.Locations) > 0 {
		ref.Location = p.Locations[0]
	}
	if q.bySource {
		ref.SourceName, ref.SourceVersion = q.name, q.version
	}
	return ref
}

// sortFindings orders findings by severity, ID and package, and drops exact
// duplicates (the same package listed twice at one location).
func sortFindings(fs []Finding) []Finding {
	slices.SortStableFunc(fs, compareFindings)
	return slices.CompactFunc(fs, func(a, b Finding) bool { return compareFindings(a, b) == 0 })
}

func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(severity.Rank(a.Severity), severity.Rank(b.Severity)),
		strings.Compare(a.ID, b.ID),
		strings.Compare(a.Package.Name, b.Package.Name),
		strings.Compare(a.Package.Version, b.Package.Version),
		strings.Compare(a.Package.Ecosystem, b.Package.Ecosystem),
		strings.Compare(a.Package.Location, b.Package.Location),
		strings.Compare(a.Package.Type, b.Package.Type),
		strings.Compare(a.Package.Layer, b.Package.Layer),
	)
}
