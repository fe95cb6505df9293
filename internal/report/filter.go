package report

import (
	"fmt"
	"strings"
)

// ParseSeverities turns a comma-separated list ("HIGH,CRITICAL") into
// canonical upper-case severity words, rejecting unknown ones.
func ParseSeverities(list string) ([]string, error) {
	var out []string
	for _, w := range strings.Split(list, ",") {
		w = strings.ToUpper(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if w == "MODERATE" {
			w = "MEDIUM"
		}
		if SeverityRank(w) == len(Severities) {
			return nil, fmt.Errorf("unknown severity %q (want one of %s)", w, strings.Join(Severities, ", "))
		}
		out = append(out, w)
	}
	return out, nil
}

// Apply narrows r's findings to those the filters keep. It changes r in place.
func (f Filters) Apply(r *ImageResult) {
	if len(f.Severities) == 0 && !f.IgnoreUnfixed {
		return
	}
	keep := r.Findings[:0]
	for _, fd := range r.Findings {
		if f.IgnoreUnfixed && len(fd.FixedVersions) == 0 {
			continue
		}
		if len(f.Severities) > 0 && !contains(f.Severities, fd.Severity) {
			continue
		}
		keep = append(keep, fd)
	}
	r.Findings = keep
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// AtLeast reports whether any finding in the results is at or above the
// given severity (for --fail-on).
func AtLeast(results []*ImageResult, severity string) bool {
	limit := SeverityRank(severity)
	for _, r := range results {
		for _, f := range r.Findings {
			if SeverityRank(f.Severity) <= limit {
				return true
			}
		}
	}
	return false
}
