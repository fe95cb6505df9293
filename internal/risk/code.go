package risk

import (
	"fmt"
	"strings"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// maxCodeNames is how many symbol names a reason or basis lists.
const maxCodeNames = 3

// codeExposure applies code reachability to System Exposure: a Go
// finding whose advisory's vulnerable functions were checked against the
// binaries and none is linked cannot run that code, so its exposure is
// "small" (source code), as SSVC has it for a vulnerable component that
// is present but not reachable; a policy-set exposure stays. The reason
// says what was linked, or that nothing was; "" when unchecked.
func codeExposure(exposure *result.Input, gs *match.GoSymbols) (*result.Input, string) {
	if gs == nil || !gs.Checked {
		return exposure, ""
	}
	if gs.Reachable {
		return exposure, "links " + names(gs.Linked)
	}
	basis := fmt.Sprintf("%s: %s not linked into %s", gs.Advisory, names(gs.Vulnerable), names(gs.Binaries))
	reason := "code: " + basis
	if exposure.Source == result.SourcePolicy {
		return exposure, reason
	}
	return &result.Input{Value: "small", Source: result.SourceCode,
		Basis: append([]string{basis, "was " + exposure.Value + " (" + exposure.Source + ")"}, exposure.Basis...)}, reason
}

// names lists up to maxCodeNames names, then how many more.
func names(list []string) string {
	if len(list) <= maxCodeNames {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:maxCodeNames], ", "), len(list)-maxCodeNames)
}
