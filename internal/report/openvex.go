package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/openvex/go-vex/pkg/vex"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// writeOpenVEX writes an OpenVEX v0.2.0 document (docs/vex.md): one
// statement per image digest, vulnerability and package, whose status
// says only what runtime evidence or an input VEX statement supports.
func writeOpenVEX(w io.Writer, doc *result.Document, opts Options) error {
	names := vexRepositories(doc)
	groups := vexGroups(doc)
	statements := make([]vex.Statement, 0, len(groups))
	for _, g := range groups {
		statements = append(statements, g.statement(names[g.digest], opts.MinObservation))
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
	// The id is the hash of the compact document without it; both it and
	// the document are streamed a statement at a time, never held whole.
	var arrays []jsonArray
	if len(statements) > 0 {
		out.Statements = []vex.Statement{{Vulnerability: vex.Vulnerability{Name: "\x00runlens:statements"}}}
		arrays = append(arrays, jsonArray{marker: &out.Statements[0], n: len(statements), elem: func(i int) any { return &statements[i] }})
	}
	h := sha256.New()
	if err := streamCompactJSON(h, &out, arrays...); err != nil {
		return fmt.Errorf("writing OpenVEX report: %w", err)
	}
	out.ID = vex.PublicNamespace + "/public/vex-" + hex.EncodeToString(h.Sum(nil))
	// As the library's ToJSON writes it: indented, and HTML escaped (its
	// MarshalJSON uses json.Marshal), with a final newline.
	if err := streamJSON(w, &out, true, arrays...); err != nil {
		return fmt.Errorf("writing OpenVEX report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing OpenVEX report: %w", err)
	}
	return nil
}

// vexGroup is every occurrence of one finding (vulnerability × package)
// in one image digest.
type vexGroup struct {
	digest, vuln, purl string
	// pkg is "name version", which names the package when it has no purl.
	pkg     string
	aliases []string
	risks   []*result.Risk
	// scanOnly is set for findings of an image scan without risks.
	scanOnly bool
	pkgName  string
	// fixed are the finding's fixed versions, lowest first (as match
	// sorts them).
	fixed []string
	// notLinked, if set, says the vulnerable Go code is not in the
	// binaries (openvex_code.go).
	notLinked string
}

// vexGroups groups the document's risks, or when it has none its images'
// findings, by digest, vulnerability and package, in that order.
func vexGroups(doc *result.Document) []*vexGroup {
	// A group is keyed by its digest, vulnerability and purl, and by the
	// package's "name version" when it has no purl.
	type key struct{ digest, vuln, purl, pkg string }
	byKey := map[key]*vexGroup{}
	var list []*vexGroup
	notLinked := vexNotLinked(doc)
	get := func(digest, vuln string, p match.PackageRef) *vexGroup {
		k := key{digest: digest, vuln: vuln, purl: p.PURL}
		if p.PURL == "" {
			k.pkg = p.Name + " " + p.Version
		}
		if old := byKey[k]; old != nil {
			return old
		}
		g := &vexGroup{digest: digest, vuln: vuln, purl: p.PURL, pkg: k.pkg}
		byKey[k] = g
		list = append(list, g)
		return g
	}
	for i := range doc.Risks {
		r := &doc.Risks[i]
		if r.Image == "" {
			continue
		}
		g := get(r.Image, r.Vulnerability, r.Package)
		g.risks = append(g.risks, r)
		g.aliases = append(g.aliases, r.Aliases...)
		g.pkgName = vexPackageName(r.Package.SourceName, r.Package.Name)
		if len(g.fixed) == 0 {
			g.fixed = r.Facts.FixedVersions
		}
		if notLinked != nil {
			g.notLinked = notLinked[vexCodeKey{r.Image, r.Vulnerability, r.Package.Name, r.Package.Version, r.Package.Location}]
		}
	}
	if len(doc.Risks) == 0 {
		for _, img := range doc.Images {
			if img.Target.Digest == "" {
				continue
			}
			for _, f := range img.Findings {
				g := get(img.Target.Digest, f.ID, f.Package)
				g.scanOnly = true
				g.aliases = append(g.aliases, f.Aliases...)
				g.pkgName = vexPackageName(f.Package.SourceName, f.Package.Name)
				if len(g.fixed) == 0 {
					g.fixed = f.FixedVersions
				}
				g.notLinked = notLinkedImpact(f.Symbols)
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
		if x.purl != y.purl {
			return x.purl < y.purl
		}
		return x.pkg < y.pkg
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
// repos (its "registry/repo" names); min is the shortest complete window
// that proves a package unused.
func (g *vexGroup) statement(repos []string, min time.Duration) vex.Statement {
	s := vex.Statement{
		Vulnerability: vex.Vulnerability{Name: vex.VulnerabilityID(g.vuln), Aliases: vexAliases(g.vuln, g.aliases)},
		Products:      vexProducts(g.digest, repos, g.purl),
	}
	g.decide(&s, min)
	if g.purl == "" {
		s.StatusNotes = strings.TrimSpace(s.StatusNotes + " The package, " + g.pkg + ", has no purl: the statement names the whole image.")
	}
	return s
}

// decide sets the status and its statements. An input VEX statement that
// set every occurrence aside is carried through; an affected one, or any
// occurrence in use, makes the finding affected; not_affected needs every
// other occurrence watched over a complete window and never seen in use;
// anything else is under investigation.
func (g *vexGroup) decide(s *vex.Statement, min time.Duration) {
	if g.scanOnly && g.notLinked != "" && g.purl != "" {
		s.Status, s.Justification, s.ImpactStatement = vex.StatusNotAffected, vex.VulnerableCodeNotPresent, g.notLinked
		return
	}
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
	// Of several input statements one speaks, whatever the order of the
	// risks: fixed before not_affected, then by document and product.
	vexSortStatements(carried)
	var affected []*result.Risk
	for _, r := range open {
		if r.VEX != nil && r.VEX.Status == result.VEXAffected {
			affected = append(affected, r)
		}
	}
	if len(affected) > 0 {
		vexSortStatements(affected)
		st := affected[0].VEX
		s.Status = vex.StatusAffected
		s.ActionStatement = vexFirst(st.Action, g.action())
		s.StatusNotes = "Affected as stated by " + st.Document + "."
		return
	}
	if len(open) == 0 {
		vexCarry(s, carried[0].VEX)
		return
	}
	if g.notLinked != "" && g.purl != "" {
		// Whatever runs, code that is not in the binary cannot.
		s.Status, s.Justification, s.ImpactStatement = vex.StatusNotAffected, vex.VulnerableCodeNotPresent, g.notLinked
		if len(carried) > 0 {
			s.StatusNotes = fmt.Sprintf("%d more occurrence(s) set aside by %s.", len(carried), carried[0].VEX.Document)
		}
		return
	}
	var inUse, watched, unknown []string
	for _, r := range open {
		switch w := r.Runtime.Window; {
		case result.InUse(r.Runtime.State):
			inUse = append(inUse, r.Runtime.State+" in "+vexPlace(r))
		case r.Runtime.State == result.RuntimeNotObserved && w.Proves(min):
			watched = append(watched, vexPlaceThen(r, " from "+vexStamp(w.Start)+" to "+vexStamp(w.End)))
		case r.Runtime.State == result.RuntimeNotObserved && w != nil && w.Complete:
			unknown = append(unknown, vexPlaceThen(r, fmt.Sprintf(" watched for %s only, less than the %s an unused package needs", w.End.Sub(w.Start).Round(time.Minute), minOrDefault(min))))
		case r.Runtime.State == result.RuntimeNotObserved && w != nil:
			unknown = append(unknown, fmt.Sprintf("%s watched over a partial window (%d events dropped)", vexPlace(r), w.Drops))
		case r.Runtime.State == result.RuntimeNotObserved:
			unknown = append(unknown, vexPlaceThen(r, " not seen in use, with no observation window"))
		default:
			unknown = append(unknown, vexPlaceThen(r, ": runtime unknown"))
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

// vexSortStatements orders risks by their VEX statements: fixed first,
// then by document and product.
func vexSortStatements(list []*result.Risk) {
	sort.SliceStable(list, func(a, b int) bool {
		x, y := list[a].VEX, list[b].VEX
		if (x.Status == result.VEXFixed) != (y.Status == result.VEXFixed) {
			return x.Status == result.VEXFixed
		}
		if x.Document != y.Document {
			return x.Document < y.Document
		}
		return x.Product < y.Product
	})
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

// vexPlaceThen is vexPlace followed by text, made in one allocation (it
// is made for every risk of a large document).
func vexPlaceThen(r *result.Risk, text string) string {
	if r.Workload == "" {
		return "the image" + text
	}
	return r.Cluster + "/" + r.Namespace + "/" + r.Workload + text
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

func minOrDefault(min time.Duration) time.Duration {
	if min <= 0 {
		return result.DefaultMinObservation
	}
	return min
}
