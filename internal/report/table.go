package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// writeTable writes a human-readable report: one section per image with
// its findings, the ranked risks, the workloads of a cluster scan, then
// the totals.
//
// A cluster scan leads with the answer: the funnel, the ranked risks and
// the remediation actions, then the workloads; its per-image sections
// only with --list-packages or --view images. Image and registry scans
// show each image first, then the ranking.
func writeTable(w io.Writer, doc *result.Document, opts Options) error {
	ew := &errWriter{w: w}
	cluster := len(doc.Workloads) > 0 || len(doc.Summary.Clusters) > 0
	if cluster {
		writeRisks(ew, doc, opts)
	}
	if !cluster || opts.View == "images" || opts.ListPackages {
		for _, img := range doc.Images {
			writeImage(ew, img)
		}
	}
	if !cluster {
		writeRisks(ew, doc, opts)
	}
	if opts.View != "images" && len(doc.Workloads) > 0 {
		writeWorkloads(ew, doc.Workloads)
	}
	writeSummary(ew, doc.Summary, doc.Database)
	return ew.err
}

func writeImage(w *errWriter, r *result.Image) {
	title := r.Target.Reference
	if r.Target.Digest != "" && !strings.Contains(title, r.Target.Digest) {
		title += " (" + shortDigest(r.Target.Digest) + ")"
	}
	w.printf("%s\n", title)
	if len(r.Tags) > 0 {
		w.printf("  tags: %s\n", strings.Join(r.Tags, ", "))
	}
	if len(r.RunningIn) > 0 {
		w.printf("  running in: %s\n", strings.Join(r.RunningIn, ", "))
	} else if r.Running != nil && !*r.Running {
		w.printf("  running in: nothing (stale: no workload in the given clusters runs this digest)\n")
	}
	if r.Distro != nil {
		w.printf("  os: %s\n", distroName(r))
	}
	switch r.Status {
	case result.StatusFailed:
		w.printf("  SCAN FAILED: %s\n\n", r.Error)
		return
	case result.StatusPartial:
		w.printf("  PARTIAL SCAN (results incomplete): %s\n", r.Error)
	}
	w.printf("  %d packages, %d vulnerabilities", r.PackageCount, len(r.Findings))
	if n := len(r.FileErrors) + len(r.LayerIssues); n > 0 {
		w.printf(", %d files or entries skipped (see JSON output)", n)
	}
	w.printf("\n")
	if len(r.Findings) == 0 {
		w.printf("\n")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  PACKAGE\tVERSION\tVULNERABILITY\tSEVERITY\tEXPLOIT\tFIXED IN\tTYPE")
	for _, f := range r.Findings {
		name := f.Package.Name
		if f.Package.SourceName != "" && f.Package.SourceName != name {
			name += " (src " + f.Package.SourceName + ")"
		}
		fixed := strings.Join(f.FixedVersions, ", ")
		if fixed == "" {
			fixed = unfixedLabel(f.Status)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, f.Package.Version, f.ID, f.Severity, exploit(f), fixed, f.Package.Type)
	}
	if err := tw.Flush(); err != nil {
		w.err = err
	}
	w.printf("\n")
}

func writeSummary(w *errWriter, s result.Summary, db *result.Database) {
	sev := ""
	if s.Findings > 0 {
		sev = " (" + severityCounts(s.BySeverity) + ")"
	}
	w.printf("Total: %d vulnerabilities%s in %d images", s.Findings, sev, s.Images)
	if s.Tags > 0 {
		w.printf(" (%d tags)", s.Tags)
	}
	w.printf("; %d scanned", s.Scanned)
	if s.Partial > 0 {
		w.printf(", %d PARTIAL", s.Partial)
	}
	if s.Failed > 0 {
		w.printf(", %d FAILED", s.Failed)
	}
	w.printf("\n")
	for _, c := range s.Clusters {
		w.printf("Cluster %s: %d pods -> %d containers (%d unresolved) -> %d digests -> %d scanned, %d failed -> %d findings\n",
			c.Name, c.Pods, c.Containers, c.Unresolved, c.Digests, c.Scanned, c.Failed, c.Findings)
		for _, p := range c.Problems {
			w.printf("  problem: %s: %s\n", p.Kind, p.Reason)
		}
	}
	if db != nil {
		age := time.Duration(db.AgeSeconds) * time.Second
		w.printf("Database: built %s (%s old), %d advisories\n", db.BuiltAt.UTC().Format(time.RFC3339), humanAge(age), db.Advisories)
	}
}

// severityCounts lists the severities that have findings, most severe
// first, as "CRITICAL: 1, UNKNOWN: 3"; words outside result.Severities
// (from a hand-edited result) follow in sorted order. "0" when none.
func severityCounts(by map[string]int) string {
	var parts []string
	for _, sev := range result.Severities {
		if n := by[sev]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", sev, n))
		}
	}
	var other []string
	for sev, n := range by {
		if n > 0 && !slices.Contains(result.Severities, sev) {
			other = append(other, fmt.Sprintf("%s: %d", sev, n))
		}
	}
	slices.Sort(other)
	if parts = append(parts, other...); len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}

// unfixedLabels are what the FIXED IN column says of a finding without a
// fixed version, by its status; "-" for any other (affected: no fix yet).
var unfixedLabels = map[string]string{
	match.StatusWillNotFix:  "will not fix",
	match.StatusFixDeferred: "deferred",
	match.StatusEndOfLife:   "end of life",
}

func unfixedLabel(status string) string {
	if l, ok := unfixedLabels[status]; ok {
		return l
	}
	return "-"
}

// exploit summarises threat data: "KEV" when CISA lists the CVE as
// exploited, and the EPSS probability.
func exploit(f match.Finding) string {
	var parts []string
	if f.KEV != nil {
		parts = append(parts, "KEV")
	}
	if f.EPSS != nil {
		parts = append(parts, fmt.Sprintf("EPSS %.1f%%", f.EPSS.Probability*100))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func distroName(r *result.Image) string {
	if r.Distro.PrettyName != "" {
		return r.Distro.PrettyName
	}
	return strings.TrimSpace(r.Distro.ID + " " + r.Distro.VersionID)
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

func humanAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// errWriter keeps the first write error so formatting code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
