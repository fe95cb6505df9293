package match

import (
	"strings"

	"github.com/runlens/runlens/internal/osv"
)

// The statuses of a finding (Finding.Status): whether a fix exists for
// the installed package and, when none does, what the distribution said
// it will do. docs/vulndb.md#distribution-triage-status maps the records'
// words to them.
const (
	// StatusFixed: a fixed version exists for the installed version's range.
	StatusFixed = "fixed"
	// StatusAffected: no fix is known yet, and nothing says one will not come.
	StatusAffected = "affected"
	// StatusWillNotFix: the distribution will not fix it (Debian
	// "unimportant" or "ignored").
	StatusWillNotFix = "will_not_fix"
	// StatusFixDeferred: the distribution put the fix off to a later point
	// release or update (Debian "no-dsa", "postponed").
	StatusFixDeferred = "fix_deferred"
	// StatusEndOfLife: the release is out of the distribution's security
	// support, so no fix will come for it (Debian "end-of-life").
	StatusEndOfLife = "end_of_life"
)

// Statuses are the finding statuses, in the order a finding merged from
// several records takes them: the first that any record gives wins (see
// mergeStatus).
var Statuses = []string{StatusFixed, StatusWillNotFix, StatusFixDeferred, StatusEndOfLife, StatusAffected}

// distroStatus reads the triage status an OS distribution gives an
// affected entry of record v that has no fix: Debian's urgency word
// (the entry's ecosystem_specific.urgency, as osv.dev writes it, else the
// entry's or the record's database_specific.urgency) mapped as
// distroStatusWords says. It is
// StatusAffected for any other word, for none, and for entries of
// language ecosystems.
func distroStatus(v *osv.Vulnerability, a *osv.Affected) string {
	base, _, _ := strings.Cut(a.Package.Ecosystem, ":")
	if !osEcosystems[base] {
		return StatusAffected
	}
	for _, field := range []map[string]any{a.EcosystemSpecific, a.DatabaseSpecific, v.DatabaseSpecific} {
		w, _ := field["urgency"].(string)
		w = strings.ToLower(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(w), "*")))
		if s, ok := distroStatusWords[w]; ok {
			return s
		}
	}
	return StatusAffected
}

// distroStatusWords maps the Debian security tracker's words for a CVE
// that is left unfixed in a release to a status. Severity words ("low",
// "medium", "high") and "not yet assigned" say nothing about a fix and are
// not listed: such an entry is StatusAffected.
var distroStatusWords = map[string]string{
	"unimportant": StatusWillNotFix,
	"ignored":     StatusWillNotFix,
	"no-dsa":      StatusFixDeferred,
	"postponed":   StatusFixDeferred,
	"end-of-life": StatusEndOfLife,
}

// mergeStatus returns the status of a finding from its records': fixed
// when any has a fix, else the first of Statuses any gives.
func mergeStatus(statuses []string, hasFix bool) string {
	if hasFix {
		return StatusFixed
	}
	best := len(Statuses) - 1
	for _, s := range statuses {
		for i, want := range Statuses[1:] {
			if s == want && i+1 < best {
				best = i + 1
			}
		}
	}
	return Statuses[best]
}
