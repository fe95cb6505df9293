package result

import (
	"fmt"
	"strings"

	"github.com/runlens/runlens/internal/severity"
)

// Exit statuses of a run, as documented in the README and --help.
const (
	ExitOK         = 0
	ExitFindings   = 1 // the policy matched (or Policy.ExitCode)
	ExitIncomplete = 2 // a scan failed or was partial, or another error
)

// Policy is what makes a run fail CI.
type Policy struct {
	// FailOn is a severity word: a finding at or above it matches, and the
	// verdict is ExitFindings.
	FailOn string
	// ExitCode, when not 0, is the verdict when any finding is reported
	// (and FailOn did not match).
	ExitCode int
	// FailOnTier is a tier: an unsuppressed risk at it or a more urgent
	// one matches, and the verdict is ExitFindings.
	FailOnTier string
}

// Verdict is what a document means for the exit status.
//
// Precedence: a matched policy decides the code (ExitFindings, or
// Policy.ExitCode), even when the result is also incomplete, so CI sees
// the policy failure; Incomplete then says what else went wrong. Without
// a match, an incomplete result is ExitIncomplete: it is never clean.
type Verdict struct {
	// Code is the exit status.
	Code int
	// Matched says why the policy matched ("2 findings at or above
	// CRITICAL"); empty when it did not. FailOn is set when Policy.FailOn
	// matched, rather than Policy.ExitCode; Flag is the flag that matched
	// ("--fail-on-tier out-of-cycle"), empty for --exit-code.
	Matched string
	FailOn  bool
	Flag    string
	// Incomplete lists why the result is not complete, one reason each.
	Incomplete []string
}

// Verdict applies p to the document. also are reasons the run is
// incomplete that the document cannot show (an interruption, a step that
// failed after the scans); they come first in Incomplete.
func (d *Document) Verdict(p Policy, also ...error) Verdict {
	var v Verdict
	for _, err := range also {
		if err != nil {
			v.Incomplete = append(v.Incomplete, err.Error())
		}
	}
	s := d.Summary
	if n := s.Failed + s.Partial; n > 0 {
		v.Incomplete = append(v.Incomplete, fmt.Sprintf("%d of %d images failed to scan completely; their results are incomplete", n, s.Images))
	}
	var down []string
	for _, c := range s.Clusters {
		if c.Status == StatusFailed {
			down = append(down, c.Name)
		}
	}
	if len(down) > 0 {
		v.Incomplete = append(v.Incomplete, fmt.Sprintf("%d of %d clusters could not be scanned: %s", len(down), len(s.Clusters), strings.Join(down, ", ")))
	}
	if p.FailOnTier != "" {
		if n := d.risksAtLeast(p.FailOnTier); n > 0 {
			v.Code, v.Matched, v.FailOn = ExitFindings, fmt.Sprintf("%d risks in tier %s or above", n, p.FailOnTier), true
			v.Flag = "--fail-on-tier " + p.FailOnTier
			return v
		}
	}
	if p.FailOn != "" {
		if n := d.countAtLeast(p.FailOn); n > 0 {
			v.Code, v.Matched, v.FailOn = ExitFindings, fmt.Sprintf("%d findings at or above %s", n, p.FailOn), true
			v.Flag = "--fail-on " + p.FailOn
			return v
		}
	}
	if p.ExitCode != 0 && s.Findings > 0 {
		v.Code, v.Matched = p.ExitCode, fmt.Sprintf("%d findings reported", s.Findings)
		return v
	}
	if len(v.Incomplete) > 0 {
		v.Code = ExitIncomplete
	}
	return v
}

// countAtLeast counts the findings at or above the severity word limit.
func (d *Document) countAtLeast(limit string) int {
	rank := severity.Rank(limit)
	n := 0
	for _, img := range d.Images {
		for _, f := range img.Findings {
			if severity.Rank(f.Severity) <= rank {
				n++
			}
		}
	}
	return n
}

// risksAtLeast counts the unsuppressed risks at tier or a more urgent one.
func (d *Document) risksAtLeast(tier string) int {
	limit := TierRank(tier)
	n := 0
	for i := range d.Risks {
		if d.Risks[i].Suppressed == nil && TierRank(d.Risks[i].Tier) <= limit {
			n++
		}
	}
	return n
}
