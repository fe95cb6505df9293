package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/openvex/go-vex/pkg/vex"
	"github.com/package-url/packageurl-go"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// writeOpenVEX writes an OpenVEX v0.2.0 document (docs/vex.md): one
// statement per image digest, vulnerability and package, whose status
// says only what runtime evidence or an input VEX statement supports.
func writeOpenVEX(w io.Writer, doc *result.Document, _ Options) error {
	names := vexRepositories(doc)
	groups := vexGroups(doc)
	statements := make([]vex.Statement, 0, len(groups))
	for _, g := range groups {
		statements = append(statements, g.statement(names[g.digest]))
	}
	at := doc.CreatedAt.UTC()
	out := vex.VEX{
		Metadata: vex.Metadata{
			Context:   vex.ContextLocator(),
			Author:    "runlens",
			Timestamp: &at,
			Version:   1,
			Tooling:   strings.TrimSpace("runlens " + doc.Scanner.Version),
		},
		Statements: statements,
	}
	body, err := json.Marshal(&out)
	if err != nil {
		return fmt.Errorf("writing OpenVEX report: %w", err)
	}
	sum := sha256.Sum256(body)
	out.ID = vex.PublicNamespace + "/public/vex-" + hex.EncodeToString(sum[:])
	if err := out.ToJSON(w); err != nil {
		return fmt.Errorf("writing OpenVEX report: %w", err)
	}
	return nil
}

// vexGroup is every occurrence of one finding (vulnerability × package)
// in one image digest.
type vexGroup struct {
	digest, vuln, purl string
	aliases            []string
	risks              []*result.Risk
	// scanOnly is set for findings of an image scan without risks.
	scanOnly bool
	pkgName  string
	// fixed are the finding's fixed versions, lowest first (as match
	// sorts them).
	fixed []string
}

// vexGroups groups the document's risks, or when it has none its images'
// findings, by digest, vulnerability and package, in that order.
func vexGroups(doc *result.Document) []*vexGroup {
	byKey := map[string]*vexGroup{}
	var list []*vexGroup
	get := func(digest, vuln, purl, pkgKey string) (*vexGroup, bool) {
		k := digest + "\x00" + vuln + "\x00" + purl + "\x00" + pkgKey
		if g := byKey[k]; g != nil {
			return g, false
		}
		g := &vexGroup{digest: digest, vuln: vuln, purl: purl}
		byKey[k] = g
		list = append(list, g)
		return g, true
	}
	for i := range doc.Risks {
		r := &doc.Risks[i]
		if r.Image == "" {
			continue
		}
		g, _ := get(r.Image, r.Vulnerability, r.Package.PURL, r.Package.Name+"@"+r.Package.Version)
		g.risks = append(g.risks, r)
		g.aliases = append(g.aliases, r.Aliases...)
		g.pkgName = vexPackageName(r.Package.SourceName, r.Package.Name)
		if len(g.fixed) == 0 {
			g.fixed = r.Facts.FixedVersions
		}
	}
	if len(doc.Risks) == 0 {
		for _, img := range doc.Images {
			if img.Target.Digest == "" {
				continue
			}
			for _, f := range img.Findings {
				g, _ := get(img.Target.Digest, f.ID, f.Package.PURL, f.Package.Name+"@"+f.Package.Version)
				g.scanOnly = true
				g.aliases = append(g.aliases, f.Aliases...)
				g.pkgName = vexPackageName(f.Package.SourceName, f.Package.Name)
				if len(g.fixed) == 0 {
					g.fixed = f.FixedVersions
				}
			}
		}
	}
	sort.SliceStable(list, func(a, b int) bool {
		x, y := list[a], list[b]
		if x.digest != y.digest {
			return x.digest < y.digest
		}
		if x.vuln != y.vuln {
			return x.vuln < y.vuln
		}
		return x.purl < y.purl
	})
	return list
}

// vexPackageName is the name an action speaks of: the source package when
// the match was made on it.
func vexPackageName(source, name string) string {
	if source != "" {
		return source
	}
	return name
}

// statement is the group's OpenVEX statement about the image named by
// repos (its "registry/repo" names).
func (g *vexGroup) statement(repos []string) vex.Statement {
	s := vex.Statement{
		Vulnerability: vex.Vulnerability{Name: vex.VulnerabilityID(g.vuln), Aliases: vexAliases(g.vuln, g.aliases)},
		Products:      vexProducts(g.digest, repos, g.purl),
	}
	g.decide(&s)
	return s
}

// decide sets the status and its statements. An input VEX statement that
// set every occurrence aside is carried through; an affected one, or any
// occurrence in use, makes the finding affected; not_affected needs every
// other occurrence watched over a complete window and never seen in use;
// anything else is under investigation.
func (g *vexGroup) decide(s *vex.Statement) {
	if g.scanOnly {
		s.Status = vex.StatusUnderInvestigation
		s.StatusNotes = "An image scan: no workload running the image was watched."
		return
	}
	var open, carried []*result.Risk
	for _, r := range g.risks {
		if r.Suppressed != nil && r.Suppressed.By == "vex" && r.VEX != nil {
			carried = append(carried, r)
		} else {
			open = append(open, r)
		}
	}
	for _, r := range open {
		if r.VEX != nil && r.VEX.Status == result.VEXAffected {
			s.Status = vex.StatusAffected
			s.ActionStatement = vexFirst(r.VEX.Action, g.action())
			s.StatusNotes = "Affected as stated by " + r.VEX.Document + "."
			return
		}
	}
	if len(open) == 0 {
		vexCarry(s, carried[0].VEX)
		return
	}
	var inUse, watched, unknown []string
	for _, r := range open {
		where := vexPlace(r)
		switch w := r.Runtime.Window; {
		case result.InUse(r.Runtime.State):
			inUse = append(inUse, r.Runtime.State+" in "+where)
		case r.Runtime.State == result.RuntimeNotObserved && w != nil && w.Complete:
			watched = append(watched, where+" from "+vexStamp(w.Start)+" to "+vexStamp(w.End))
		case r.Runtime.State == result.RuntimeNotObserved && w != nil:
			unknown = append(unknown, fmt.Sprintf("%s watched over a partial window (%d events dropped)", where, w.Drops))
		case r.Runtime.State == result.RuntimeNotObserved:
			unknown = append(unknown, where+" not seen in use, with no observation window")
		default:
			unknown = append(unknown, where+": runtime unknown")
		}
	}
	switch {
	case len(inUse) > 0:
		s.Status = vex.StatusAffected
		s.ActionStatement = g.action()
		s.StatusNotes = "In use: " + vexList(inUse) + "."
	case len(unknown) > 0:
		s.Status = vex.StatusUnderInvestigation
		s.StatusNotes = "Not known to be unused: " + vexList(unknown) + "."
	case g.purl == "":
		s.Status = vex.StatusUnderInvestigation
		s.StatusNotes = "Never seen in use, but the package has no purl to name it by."
	default:
		s.Status = vex.StatusNotAffected
		s.Justification = vex.VulnerableCodeNotInExecutePath
		s.ImpactStatement = fmt.Sprintf("runlens watched %d workload(s) running this image and saw no process execute or load a file of %s: %s; every window complete, no events dropped.",
			len(watched), g.pkgName, vexList(watched))
	}
	if len(carried) > 0 {
		s.StatusNotes = strings.TrimSpace(s.StatusNotes + fmt.Sprintf(" %d more occurrence(s) set aside by %s.", len(carried), carried[0].VEX.Document))
	}
}

// vexCarry makes s say what the input statement st said.
func vexCarry(s *vex.Statement, st *result.VEXStatement) {
	s.Status = vex.Status(st.Status)
	s.StatusNotes = "As stated by " + st.Document + " (product " + st.Product + ")."
	if s.Status != vex.StatusNotAffected {
		return
	}
	if j := vex.Justification(st.Justification); j.Valid() {
		s.Justification = j
	}
	s.ImpactStatement = st.Impact
	if s.ImpactStatement == "" && s.Justification == "" {
		s.ImpactStatement = strings.TrimSpace("Not affected as stated by " + st.Document + ": " + st.Justification)
	}
}

// action says what to do: upgrade to the lowest fixed version known, or,
// with none, limit what can reach the package.
func (g *vexGroup) action() string {
	if len(g.fixed) > 0 {
		return "upgrade " + g.pkgName + " to " + g.fixed[0]
	}
	return "no fixed version of " + g.pkgName + " is known: limit the exposure and privileges of the workloads that run it, or remove it from the image"
}

// vexProducts names the image once per repository it runs as (a pkg:oci
// purl with repository_url, the manifest digest as its sha-256 hash), or
// by the bare digest when no repository is known; the package purl is the
// subcomponent.
func vexProducts(digest string, repos []string, purl string) []vex.Product {
	var subs []vex.Subcomponent
	if purl != "" {
		subs = []vex.Subcomponent{{Component: vex.Component{ID: purl}}}
	}
	if len(repos) == 0 {
		return []vex.Product{{Component: vex.Component{ID: digest}, Subcomponents: subs}}
	}
	hashes := map[vex.Algorithm]vex.Hash{}
	if alg, hexDigest, ok := strings.Cut(digest, ":"); ok && alg == "sha256" {
		hashes[vex.SHA256] = vex.Hash(hexDigest)
	}
	out := make([]vex.Product, 0, len(repos))
	for _, repo := range repos {
		name := repo[strings.LastIndexByte(repo, '/')+1:]
		q := packageurl.Qualifiers{{Key: "repository_url", Value: repo}}
		id := packageurl.NewPackageURL(packageurl.TypeOCI, "", name, digest, q, "").ToString()
		out = append(out, vex.Product{Component: vex.Component{ID: id, Hashes: hashes}, Subcomponents: subs})
	}
	return out
}

// vexRepositories maps each digest to the sorted "registry/repo" names
// it runs as: the workloads' containers, the images' repo digests and
// references that name a registry repository (not a file).
func vexRepositories(doc *result.Document) map[string][]string {
	sets := map[string]map[string]bool{}
	add := func(digest, ref string) {
		if digest == "" || !vexRegistryRef(ref) {
			return
		}
		repo, ok := workload.Repository(ref)
		if !ok {
			return
		}
		if sets[digest] == nil {
			sets[digest] = map[string]bool{}
		}
		sets[digest][repo] = true
	}
	for _, img := range doc.Images {
		add(img.Target.Digest, img.Target.Reference)
		for _, rd := range img.Target.RepoDigests {
			add(img.Target.Digest, rd)
		}
	}
	for _, wl := range doc.Workloads {
		for _, c := range wl.Containers {
			add(c.Digest, c.Repository)
			add(c.Digest, c.Image)
		}
	}
	for i := range doc.Risks {
		add(doc.Risks[i].Image, doc.Risks[i].ImageReference)
	}
	out := map[string][]string{}
	for d, set := range sets {
		for repo := range set {
			out[d] = append(out[d], repo)
		}
		sort.Strings(out[d])
	}
	return out
}

// vexRegistryRef reports whether ref may name a registry repository rather
// than an image file or directory.
func vexRegistryRef(ref string) bool {
	if ref == "" || strings.ContainsAny(ref[:1], "/.~") || strings.Contains(ref, "\\") {
		return false
	}
	lower := strings.ToLower(ref)
	for _, suffix := range []string{".tar", ".tar.gz", ".tgz", ".tar.zst"} {
		if strings.HasSuffix(lower, suffix) {
			return false
		}
	}
	for _, prefix := range []string{"docker-archive:", "oci-archive:", "oci:", "dir:", "file:"} {
		if strings.HasPrefix(lower, prefix) {
			return false
		}
	}
	return true
}

// vexPlace names where a risk is: its workload, or the image.
func vexPlace(r *result.Risk) string {
	if ref := r.WorkloadRef(); ref != "" {
		return ref
	}
	return "the image"
}

// vexAliases are the finding's other ids, sorted, without its own.
func vexAliases(id string, aliases []string) []vex.VulnerabilityID {
	var out []vex.VulnerabilityID
	for _, a := range vexUnique(aliases) {
		if a != id {
			out = append(out, vex.VulnerabilityID(a))
		}
	}
	return out
}

// vexUnique returns list sorted without repeats or empty strings.
func vexUnique(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// vexList joins up to ten entries, sorted, saying how many more.
func vexList(list []string) string {
	list = vexUnique(list)
	const most = 10
	if len(list) <= most {
		return strings.Join(list, "; ")
	}
	return strings.Join(list[:most], "; ") + fmt.Sprintf("; and %d more", len(list)-most)
}

// vexStamp is a time in RFC 3339, UTC.
func vexStamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// vexFirst returns the first of list that is not empty.
func vexFirst(list ...string) string {
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
