package risk

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/runlens/runlens/internal/result"
)

// Find returns the entries id names: the entry of that ID (or unique ID
// prefix), else every entry of that vulnerability (its id or an alias).
func Find(doc *result.Document, id string) []*result.Risk {
	var exact, prefix, vuln []*result.Risk
	for i := range doc.Risks {
		e := &doc.Risks[i]
		switch {
		case e.ID == id:
			exact = append(exact, e)
		case strings.HasPrefix(e.ID, id) && len(id) >= 4:
			prefix = append(prefix, e)
		case strings.EqualFold(e.Vulnerability, id) || containsFold(e.Aliases, id):
			vuln = append(vuln, e)
		}
	}
	switch {
	case len(exact) > 0:
		return exact
	case len(prefix) == 1:
		return prefix
	}
	return vuln
}

// Explain writes the whole derivation of entry e: every input with its
// value, source and basis, the table row, the score's parts, the facts
// and the reasons.
func Explain(w io.Writer, e *result.Risk) error {
	ew := &errWriter{w: w}
	ew.printf("%s  %s in %s %s", e.ID, e.Vulnerability, e.Package.Name, e.Package.Version)
	if e.Package.Ecosystem != "" {
		ew.printf(" (%s)", e.Package.Ecosystem)
	}
	ew.printf("\n")
	if len(e.Aliases) > 0 {
		ew.printf("  aliases     %s\n", strings.Join(e.Aliases, ", "))
	}
	ew.printf("  image       %s", e.Image)
	if e.ImageReference != "" {
		ew.printf(" (%s)", e.ImageReference)
	}
	ew.printf("\n")
	if e.Workload != "" {
		ew.printf("  workload    %s (%d pods; containers %s)\n", e.WorkloadRef(), e.Facts.Replicas, strings.Join(e.Facts.Containers, ", "))
	}
	if p := e.Package; p.Location != "" || p.Layer != "" {
		ew.printf("  package     type %s, at %s, layer %s\n", p.Type, dash(p.Location), dash(p.Layer))
	}
	ew.printf("  tier        %s, score %.1f\n", strings.ToUpper(e.Tier), e.Score)
	if e.Suppressed != nil {
		ew.printf("  SUPPRESSED  by %s: %s\n", e.Suppressed.By, e.Suppressed.Reason)
	}
	d := &e.Decision
	ew.printf("\nDecision: %s, row %d\n", d.Table, d.Row)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  INPUT\tVALUE\tSOURCE\tBASIS")
	for _, in := range []struct {
		name string
		in   *result.Input
	}{{"Exploitation", d.Exploitation}, {"System Exposure", d.SystemExposure}, {"Automatable", d.Automatable}, {"Human Impact", d.HumanImpact}} {
		basis := in.in.Basis
		if len(basis) == 0 {
			basis = []string{"-"}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", in.name, in.in.Value, in.in.Source, basis[0])
		for _, b := range basis[1:] {
			fmt.Fprintf(tw, "  \t\t\t%s\n", b)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ew.printf("  path: exploitation %s → system exposure %s → automatable %s → human impact %s → %s\n",
		d.Exploitation.Value, d.SystemExposure.Value, d.Automatable.Value, d.HumanImpact.Value, d.Outcome)
	if d.Override != "" {
		ew.printf("  tier set to %s by %s\n", e.Tier, d.Override)
	}
	ew.printf("\nScore %.1f = 100 × (", e.Score)
	parts := scoreParts(severityComponent(e.Facts.CVSS, e.Facts.Severity), d, e.Runtime, e.Facts.EPSS)
	for i, p := range parts {
		if i > 0 {
			ew.printf(" + ")
		}
		ew.printf("%.2f×%.2f %s", p.weight, p.value, p.name)
	}
	ew.printf(")\n")
	writeFacts(ew, e)
	ew.printf("\nReasons:\n")
	for _, r := range e.Reasons {
		ew.printf("  - %s\n", r)
	}
	return ew.err
}

func writeFacts(ew *errWriter, e *result.Risk) {
	f := &e.Facts
	ew.printf("\nFacts:\n  severity    %s", f.Severity)
	if f.CVSS != nil {
		ew.printf(" — CVSS %s %.1f %s (%s)", f.CVSS.Version, f.CVSS.Score, f.CVSS.Vector, dash(f.CVSS.Source))
	}
	ew.printf("\n")
	if f.EPSS != nil {
		ew.printf("  EPSS        %.5f (percentile %.5f, %s)\n", f.EPSS.Probability, f.EPSS.Percentile, f.EPSS.ScoreDate.Format(time.DateOnly))
	}
	if f.KEV != nil {
		ew.printf("  KEV         listed %s", f.KEV.DateAdded.Format(time.DateOnly))
		if !f.KEV.DueDate.IsZero() {
			ew.printf(", due %s", f.KEV.DueDate.Format(time.DateOnly))
		}
		if f.KEV.KnownRansomware {
			ew.printf(", used by ransomware")
		}
		ew.printf("\n")
	}
	fix := strings.Join(f.FixedVersions, ", ")
	ew.printf("  fix         %s (status %s)\n", dash(fix), f.Status)
	ew.printf("  exposure    %s\n", f.Exposure)
	for _, p := range f.ExposurePaths {
		ew.printf("              %s\n", p)
	}
	for i, s := range f.Sensitivity {
		label := "            "
		if i == 0 {
			label = "sensitivity "
		}
		ew.printf("  %s%s\n", label, s)
	}
	if f.CriticalNamespace {
		ew.printf("  namespace   critical\n")
	}
	if f.Owner != "" {
		ew.printf("  owner       %s", f.Owner)
		if f.OwnerReason != "" {
			ew.printf(" (%s)", f.OwnerReason)
		}
		ew.printf("\n")
	}
	ew.printf("  runtime     %s", e.Runtime.State)
	if e.Runtime.Window != nil {
		ew.printf(", %s", windowText(e.Runtime.Window))
	}
	ew.printf("\n")
	for _, ev := range e.Runtime.Evidence {
		ew.printf("              %s\n", ev)
	}
	if v := e.VEX; v != nil {
		ew.printf("  VEX         %s %s (%s %s, product %s)\n", v.Status, v.Justification, v.Format, v.Document, v.Product)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errWriter keeps the first write error.
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

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
