package result

import (
	"fmt"
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/severity"
)

// Severities are the severity words of findings, most severe first
// (severity.Words).
var Severities = severity.Words()

// ParseSeverities turns a comma-separated list ("HIGH,CRITICAL") into
// canonical upper-case severity words, rejecting unknown ones. GitHub's
// MODERATE is taken as MEDIUM.
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
		if severity.Rank(w) == len(Severities) {
			return nil, fmt.Errorf("unknown severity %q (want one of %s)", w, strings.Join(Severities, ", "))
		}
		out = append(out, w)
	}
	return out, nil
}

// ParseStatuses turns a comma-separated list ("will_not_fix,fix_deferred")
// into finding statuses (match.Statuses), rejecting unknown ones; a bad
// one is an error naming --ignore-status.
func ParseStatuses(list string) ([]string, error) {
	var out []string
	for _, w := range strings.Split(list, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if !slices.Contains(match.Statuses, w) {
			return nil, fmt.Errorf("--ignore-status: unknown status %q (want one of %s)", w, strings.Join(match.Statuses, ", "))
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out, nil
}

// StatusOf is a finding's status; a finding of a result written before
// schema 1.2 has none, and is taken as fixed when it lists a fixed
// version, else affected.
func StatusOf(fd *match.Finding) string {
	switch {
	case fd.Status != "":
		return fd.Status
	case len(fd.FixedVersions) > 0:
		return match.StatusFixed
	}
	return match.StatusAffected
}

// Keep reports whether the filters let finding f through.
func (f Filters) Keep(fd *match.Finding) bool {
	if f.IgnoreUnfixed && len(fd.FixedVersions) == 0 {
		return false
	}
	if len(f.IgnoreStatuses) > 0 && slices.Contains(f.IgnoreStatuses, StatusOf(fd)) {
		return false
	}
	return len(f.Severities) == 0 || slices.Contains(f.Severities, fd.Severity)
}

// Apply narrows r's findings to those the filters keep, in place.
func (f Filters) Apply(r *Image) {
	if len(f.Severities) == 0 && !f.IgnoreUnfixed && len(f.IgnoreStatuses) == 0 {
		return
	}
	r.Findings = slices.DeleteFunc(r.Findings, func(fd match.Finding) bool { return !f.Keep(&fd) })
}

// Filter narrows every image's findings to those f keeps, records f in the
// header, drops the risks of findings removed, and derives every count
// again (Recount), so the workloads, the clusters' funnels and the summary
// agree with the findings that are left. The remediation and the risk
// funnels are derived from the risks by the ranking, so Filter drops them
// until it runs again.
func (d *Document) Filter(f Filters) {
	d.Filters = f
	for _, img := range d.Images {
		f.Apply(img)
	}
	if len(d.Risks) > 0 {
		left := map[string]bool{}
		for _, img := range d.Images {
			for i := range img.Findings {
				left[riskKey(img.Target.Digest, img.Findings[i].ID, img.Findings[i].Package)] = true
			}
		}
		d.Risks = slices.DeleteFunc(d.Risks, func(r Risk) bool { return !left[riskKey(r.Image, r.Vulnerability, r.Package)] })
		if len(d.Risks) == 0 {
			d.Risks = nil
		}
	}
	d.Remediation = nil
	for i := range d.Summary.Clusters {
		d.Summary.Clusters[i].Risk = nil
	}
	d.Recount()
}

func riskKey(digest, id string, p match.PackageRef) string {
	return digest + "\x00" + id + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.Location
}
