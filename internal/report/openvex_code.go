package report

import (
	"fmt"
	"strings"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// vexCodeKey names one finding in one image for the symbol check.
type vexCodeKey struct{ digest, vuln, name, version, location string }

// vexNotLinked indexes the findings whose Go symbol check found none of
// the advisory's vulnerable functions linked, with the impact statement
// that says so. Only such findings are kept: the index is small.
func vexNotLinked(doc *result.Document) map[vexCodeKey]string {
	var out map[vexCodeKey]string
	for _, img := range doc.Images {
		digest := img.Target.Digest
		if digest == "" {
			digest = img.Target.ConfigDigest
		}
		for i := range img.Findings {
			f := &img.Findings[i]
			impact := notLinkedImpact(f.Symbols)
			if impact == "" || digest == "" {
				continue
			}
			if out == nil {
				out = map[vexCodeKey]string{}
			}
			out[vexCodeKey{digest, f.ID, f.Package.Name, f.Package.Version, f.Package.Location}] = impact
		}
	}
	return out
}

// notLinkedImpact is the impact statement of a checked symbol set with
// nothing linked, "" otherwise.
func notLinkedImpact(gs *match.GoSymbols) string {
	if gs == nil || !gs.Checked || gs.Reachable || len(gs.Vulnerable) == 0 {
		return ""
	}
	return fmt.Sprintf("The vulnerable code %s names (%s) is not linked into %s: runlens read the function table (pclntab) of each binary.",
		gs.Advisory, vexList(gs.Vulnerable), strings.Join(gs.Binaries, ", "))
}
