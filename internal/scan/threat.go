package scan

import (
	"context"
	"strings"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/vulndb"
)

// Threats looks up exploitation data for a CVE; *vulndb.DB implements it.
type Threats interface {
	Threat(ctx context.Context, cve string) (vulndb.Threat, bool)
}

// Enrich adds to matched findings what a scan adds from the database
// besides the match: EPSS and KEV data through their CVE ids, CWEs and
// SSVC decision points, as a scan does; for findings matched again
// without the image (the server's re-match after a database update).
func Enrich(ctx context.Context, db *vulndb.DB, findings []match.Finding) {
	addThreats(ctx, db, findings)
}

// addThreats joins EPSS and KEV data onto findings through their CVE ids,
// then their CWEs and SSVC decision points (addSSVC). A finding with
// several CVEs takes the highest EPSS and any KEV listing.
func addThreats(ctx context.Context, th Threats, findings []match.Finding) {
	for i := range findings {
		f := &findings[i]
		for _, id := range append([]string{f.ID}, f.Aliases...) {
			if !strings.HasPrefix(id, "CVE-") {
				continue
			}
			t, ok := th.Threat(ctx, id)
			if !ok {
				continue
			}
			if t.HasEPSS && (f.EPSS == nil || t.EPSS > f.EPSS.Probability) {
				f.EPSS = &match.EPSS{CVE: id, Probability: t.EPSS, Percentile: t.Percentile, ScoreDate: t.ScoreDate}
			}
			if t.InKEV && f.KEV == nil {
				f.KEV = &match.KEV{CVE: id, DateAdded: t.KEVDateAdded, DueDate: t.KEVDueDate, KnownRansomware: t.KnownRansomware}
			}
		}
	}
	ms, _ := th.(Metrics)
	addSSVC(ctx, ms, findings)
}
