package risk

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// osPackageTypes are fixed by moving to a newer base image.
var osPackageTypes = map[string]bool{"deb": true, "apk": true, "rpm": true}

// actionKey groups risks into one action: one package (the OS source
// package when there is one) in one image repository.
type actionKey struct{ image, pkg, ecosystem string }

// group is one action being built.
type group struct {
	a              *result.Action
	installed, typ string
	vulns, digests map[string]bool
	works          map[[3]string]bool
}

// remediation groups the unsuppressed risks into actions, ranked by the
// risk they remove: most urgent tier first, then the sum of scores.
func remediation(doc *result.Document) []result.Action {
	repoOf := repositories(doc)
	groups := map[actionKey]*group{}
	var order []*group
	for i := range doc.Risks {
		e := &doc.Risks[i]
		if e.Suppressed != nil {
			continue
		}
		image := repoOf[e.Image]
		if image == "" {
			image = e.ImageReference
		}
		name := e.Package.Name
		if e.Package.SourceName != "" {
			name = e.Package.SourceName
		}
		k := actionKey{image, name, e.Package.Ecosystem}
		g := groups[k]
		if g == nil {
			g = &group{
				a:         &result.Action{Image: image, Package: name, Ecosystem: e.Package.Ecosystem, Owner: orUnknown(e.Facts.Owner), ByTier: map[string]int{}, Tier: e.Tier},
				installed: e.Package.Version, typ: e.Package.Type,
				vulns: map[string]bool{}, works: map[[3]string]bool{}, digests: map[string]bool{},
			}
			if e.Package.SourceVersion != "" {
				g.installed = e.Package.SourceVersion
			}
			groups[k] = g
			order = append(order, g)
		}
		a := g.a
		if a.Owner == workload.OwnerUnknown && e.Facts.Owner != "" {
			a.Owner = e.Facts.Owner
		}
		a.ByTier[e.Tier]++
		a.Risk += e.Score
		if result.TierRank(e.Tier) < result.TierRank(a.Tier) {
			a.Tier = e.Tier
		}
		if !g.vulns[e.Vulnerability] {
			g.vulns[e.Vulnerability] = true
			a.Vulnerabilities = append(a.Vulnerabilities, e.Vulnerability)
			a.FixedVersion = higherFix(e.Package.Ecosystem, g.installed, a.FixedVersion, e.Facts.FixedVersions, &a.Kind)
		}
		if e.Workload != "" {
			if ref := [3]string{e.Cluster, e.Namespace, e.Workload}; !g.works[ref] {
				g.works[ref] = true
				a.Workloads = append(a.Workloads, e.WorkloadRef())
			}
		}
		if !g.digests[e.Image] {
			g.digests[e.Image] = true
			a.Digests = append(a.Digests, e.Image)
		}
	}
	out := make([]result.Action, 0, len(order))
	for _, g := range order {
		a := g.a
		a.Risk = math.Round(10*a.Risk) / 10
		sort.Strings(a.Vulnerabilities)
		sort.Strings(a.Workloads)
		sort.Strings(a.Digests)
		describe(a, osPackageTypes[g.typ])
		out = append(out, *a)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if ta, tb := result.TierRank(a.Tier), result.TierRank(b.Tier); ta != tb {
			return ta < tb
		}
		if a.Risk != b.Risk {
			return a.Risk > b.Risk
		}
		if a.Image != b.Image {
			return a.Image < b.Image
		}
		return a.Package < b.Package
	})
	return out
}

// missingFix marks an action one of whose vulnerabilities has no fix.
const missingFix = "missing"

// higherFix returns the higher of current and the lowest version in fixed
// above the installed one (the first fix this package can move to), by
// the ecosystem's order. A vulnerability without a fix sets kind to
// missingFix: the action then fixes only part, and says so.
func higherFix(ecosystem, installed, current string, fixed []string, kind *string) string {
	if len(fixed) == 0 {
		*kind = missingFix
		return current
	}
	first := ""
	for _, f := range fixed {
		if c, err := match.CompareVersions(ecosystem, f, installed); err == nil && c <= 0 {
			continue
		}
		if first == "" || less(ecosystem, f, first) {
			first = f
		}
	}
	if first == "" {
		first = fixed[len(fixed)-1]
	}
	if current == "" || less(ecosystem, current, first) {
		return first
	}
	return current
}

// less orders versions by the ecosystem's rules, falling back to text.
func less(ecosystem, a, b string) bool {
	if c, err := match.CompareVersions(ecosystem, a, b); err == nil {
		return c < 0
	}
	return a < b
}

// describe sets an action's kind and text.
func describe(a *result.Action, osPackage bool) {
	partial := a.Kind == missingFix
	n := len(a.Workloads)
	affected := ""
	if n > 0 {
		affected = fmt.Sprintf(" (%d workload%s)", n, plural(n))
	}
	vulns := strings.Join(firstN(a.Vulnerabilities, 3), ", ")
	if len(a.Vulnerabilities) > 3 {
		vulns += fmt.Sprintf(" and %d more", len(a.Vulnerabilities)-3)
	}
	if a.FixedVersion == "" {
		a.Kind = result.ActionMitigate
		a.Text = fmt.Sprintf("no fix yet for %s in %s%s: reduce exposure or privileges until one ships (%s)", a.Package, a.Image, affected, vulns)
		return
	}
	want := a.Package + " ≥ " + a.FixedVersion
	switch a.Owner {
	case workload.OwnerExternal:
		a.Kind = result.ActionUpgrade
		a.Text = fmt.Sprintf("upgrade the vendor image %s to a tag with %s (external)%s", a.Image, want, affected)
	case workload.OwnerInternal:
		a.Kind = result.ActionRebuild
		if osPackage {
			a.Text = fmt.Sprintf("rebuild image %s on a base with %s (internal)%s", a.Image, want, affected)
		} else {
			a.Text = fmt.Sprintf("rebuild image %s with %s (internal)%s", a.Image, want, affected)
		}
	default:
		a.Kind = result.ActionRebuild
		a.Text = fmt.Sprintf("rebuild or upgrade image %s to one with %s (owner unknown: configure internal registries)%s", a.Image, want, affected)
	}
	a.Text += ": fixes " + vulns
	if partial {
		a.Text += "; some have no fix yet"
	}
}

// repositories names each digest's repository, from the workloads'
// containers, else from the image's reference.
func repositories(doc *result.Document) map[string]string {
	out := map[string]string{}
	for _, w := range doc.Workloads {
		for _, c := range w.Containers {
			if c.Digest != "" && c.Repository != "" && out[c.Digest] == "" {
				out[c.Digest] = c.Repository
			}
		}
	}
	for _, img := range doc.Images {
		d := imageID(img)
		if d == "" || out[d] != "" {
			continue
		}
		if repo, ok := imageRepository(img.Target.Reference); ok {
			out[d] = repo
		}
	}
	return out
}

func orUnknown(owner string) string {
	if owner == "" {
		return workload.OwnerUnknown
	}
	return owner
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func firstN(list []string, n int) []string {
	if len(list) > n {
		return list[:n]
	}
	return list
}
