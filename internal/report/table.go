package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/runlens/runlens/internal/match"
)

// Table writes a human-readable report: one section per image with its
// findings, then the totals. Images are sorted like the JSON output.
type Table struct {
	w      io.Writer
	header Header
	images []ImageResult
	wls    []WorkloadResult
	// View picks the sections of a cluster scan: "workloads", "images", or
	// "" for both.
	View string
	// Now is used to show the database age; tests pin it.
	Now func() time.Time
}

// NewTable returns a table handler writing to w.
func NewTable(w io.Writer) *Table { return &Table{w: w, Now: time.Now} }

// Start implements Handler.
func (t *Table) Start(h Header) error { t.header = h; return nil }

// Image implements Handler.
func (t *Table) Image(r *ImageResult) error {
	t.images = append(t.images, *r)
	return nil
}

// Workload implements Handler.
func (t *Table) Workload(w *WorkloadResult) error {
	t.wls = append(t.wls, *w)
	return nil
}

// End implements Handler.
func (t *Table) End(s Summary) error {
	SortImages(t.images)
	SortWorkloads(t.wls)
	ew := &errWriter{w: t.w}
	if t.View != "workloads" {
		for i := range t.images {
			t.writeImage(ew, &t.images[i])
		}
	}
	if t.View != "images" && len(t.wls) > 0 {
		writeWorkloads(ew, t.wls)
	}
	t.writeSummary(ew, s)
	return ew.err
}

func (t *Table) writeImage(w *errWriter, r *ImageResult) {
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
	case StatusFailed:
		w.printf("  SCAN FAILED: %s\n\n", r.Error)
		return
	case StatusPartial:
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
			fixed = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, f.Package.Version, f.ID, f.Severity, exploit(f), fixed, f.Package.Type)
	}
	if err := tw.Flush(); err != nil {
		w.err = err
	}
	w.printf("\n")
}

func (t *Table) writeSummary(w *errWriter, s Summary) {
	var parts []string
	for _, sev := range Severities {
		if n := s.BySeverity[sev]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", sev, n))
		}
	}
	sev := ""
	if len(parts) > 0 {
		sev = " (" + strings.Join(parts, ", ") + ")"
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
	if db := t.header.Database; db != nil {
		age := time.Duration(db.AgeSeconds) * time.Second
		w.printf("Database: built %s (%s old), %d advisories\n", db.BuiltAt.UTC().Format(time.RFC3339), humanAge(age), db.Advisories)
	}
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

func distroName(r *ImageResult) string {
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
