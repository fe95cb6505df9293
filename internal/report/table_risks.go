package report

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/runlens/runlens/internal/result"
)

// maxActions is how many remediation actions the table lists.
const maxActions = 10

// writeRisks prints the answer: the funnel, the ranked risks (the first
// opts.Top), the suppressed ones when asked, and the remediation actions.
func writeRisks(w *errWriter, doc *result.Document, opts Options) {
	if doc.Summary.Risk == nil {
		return
	}
	writeFunnel(w, "Funnel", doc.Summary.Risk)
	if len(doc.Summary.Clusters) > 1 {
		for i := range doc.Summary.Clusters {
			if c := &doc.Summary.Clusters[i]; c.Risk != nil {
				writeFunnel(w, "  "+c.Name, c.Risk)
			}
		}
	}
	w.printf("\n")
	var shown, suppressed []*result.Risk
	for i := range doc.Risks {
		e := &doc.Risks[i]
		if e.Suppressed != nil {
			suppressed = append(suppressed, e)
		} else {
			shown = append(shown, e)
		}
	}
	f := doc.Summary.Risk
	w.printf("RISKS (%d: %d immediate, %d out-of-cycle, %d scheduled, %d defer)\n", len(shown),
		countTier(shown, result.TierImmediate), countTier(shown, result.TierOutOfCycle), countTier(shown, result.TierScheduled), countTier(shown, result.TierDefer))
	more := 0
	if opts.Top > 0 && len(shown) > opts.Top {
		more = len(shown) - opts.Top
		shown = shown[:opts.Top]
	}
	if len(shown) > 0 {
		writeRiskRows(w, shown, true)
	}
	if more > 0 {
		w.printf("  … %d more (--top 0 lists all; -f json or -f html has every entry)\n", more)
	}
	switch {
	case len(suppressed) > 0 && opts.ShowSuppressed:
		w.printf("\nSUPPRESSED (%d)\n", len(suppressed))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tVULNERABILITY\tPACKAGE\tWHERE\tBY\tREASON")
		for _, e := range suppressed {
			fmt.Fprintf(tw, "  %s\t%s\t%s %s\t%s\t%s\t%s\n", e.ID, e.Vulnerability, e.Package.Name, e.Package.Version, where(e), e.Suppressed.By, e.Suppressed.Reason)
		}
		if err := tw.Flush(); err != nil {
			w.err = err
		}
	case len(suppressed) > 0:
		w.printf("  %d suppressed by VEX or an accepted risk (%d findings; --show-suppressed lists them)\n", len(suppressed), f.Suppressed)
	}
	w.printf("\n")
	writeActions(w, doc.Remediation)
}

func writeFunnel(w *errWriter, label string, f *result.RiskFunnel) {
	w.printf("%s: %d findings in scanned images", label, f.Findings)
	if f.Running != nil {
		w.printf(" → %d in running images → %d on reachable workloads", *f.Running, *f.Reachable)
	}
	if f.InUse != nil {
		w.printf(" → %d in use at runtime", *f.InUse)
	} else if f.Running != nil {
		w.printf(" → in use: unknown (no runtime evidence)")
	}
	w.printf(" → %d immediate, %d out-of-cycle", f.Immediate, f.OutOfCycle)
	if f.Suppressed > 0 {
		w.printf(" (%d suppressed)", f.Suppressed)
	}
	w.printf("\n")
}

func writeRiskRows(w *errWriter, list []*result.Risk, withID bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIER\tSCORE\tVULNERABILITY\tPACKAGE\tWHERE\tEXPOSURE\tREASON\tID")
	for _, e := range list {
		fmt.Fprintf(tw, "  %s\t%.1f\t%s\t%s %s\t%s\t%s\t%s\t%s\n", e.Tier, e.Score, e.Vulnerability, e.Package.Name, e.Package.Version,
			where(e), e.Facts.Exposure, firstReason(e), e.ID)
	}
	if err := tw.Flush(); err != nil {
		w.err = err
	}
}

// where names an entry's workload, or its image for image scans.
func where(e *result.Risk) string {
	if e.Workload != "" {
		return e.WorkloadRef()
	}
	if e.ImageReference != "" {
		return e.ImageReference
	}
	return shortDigest(e.Image)
}

// firstReason is the weightiest reason, to its first clause.
func firstReason(e *result.Risk) string {
	if len(e.Reasons) == 0 {
		return "-"
	}
	r, _, _ := strings.Cut(e.Reasons[0], "; ")
	return r
}

func countTier(list []*result.Risk, tier string) int {
	n := 0
	for _, e := range list {
		if e.Tier == tier {
			n++
		}
	}
	return n
}

func writeActions(w *errWriter, actions []result.Action) {
	if len(actions) == 0 {
		return
	}
	w.printf("REMEDIATION (%d actions, by their most urgent tier, then the risk each removes)\n", len(actions))
	for i, a := range actions {
		if i == maxActions {
			w.printf("  … %d more in -f json or -f html\n", len(actions)-maxActions)
			break
		}
		w.printf("  %d. [%s] %s\n", i+1, a.Tier, a.Text)
		n := sumTiers(a.ByTier)
		w.printf("     owner %s, risk removed %.1f, %d risk%s\n", a.Owner, a.Risk, n, plural(n))
	}
	w.printf("\n")
}

func sumTiers(by map[string]int) int {
	n := 0
	for _, v := range by {
		n += v
	}
	return n
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
