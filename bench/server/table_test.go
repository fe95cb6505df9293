package serverbench

import (
	"fmt"
	"strings"
	"time"
)

// row is one figure of the table: its value on each backend, shown and
// checked against the target (a figure without a target passes).
type row struct {
	name   string
	target string
	value  func(f figures) float64
	format string
	limit  float64 // 0: no target
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rows are the table's figures.
func rows() []row {
	rs := []row{
		{"ingest of one 10,000-pod cluster result (s)", "≤ 10 s", func(f figures) float64 { return f.ingest.Seconds() }, "%.2f", targetIngestS},
		{"ranked-list API, page of 100 with filters, p95 (ms)", "≤ 150 ms", func(f figures) float64 { return ms(p95(f.apiTimes)) }, "%.1f", targetAPIMS},
	}
	for _, p := range uiPages {
		rs = append(rs, row{"UI " + p + " p95 (ms)", "≤ 300 ms", func(f figures) float64 { return ms(p95(f.uiTimes[p])) }, "%.1f", targetUIMS})
	}
	return append(rs,
		row{"re-match after a 1,000-advisory delta (s)", "≤ 15 s", func(f figures) float64 { return f.rematch.Seconds() }, "%.2f", targetRematchS},
		row{"server peak RSS (MB)", "≤ 400 MB", func(f figures) float64 { return f.rssMB }, "%.0f", targetRSSMB},
		row{"store size (MB; SQLite file + WAL, pg_database_size)", "—", func(f figures) float64 { return float64(f.sizeBytes) / (1 << 20) }, "%.0f", 0},
	)
}

// markdownTable prints figure | SQLite | PostgreSQL | target | PASS/FAIL
// (FAIL names the backends that missed).
func markdownTable(sc scale, names []string, figs []figures) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n| figure | SQLite | PostgreSQL | target | PASS/FAIL |\n|---|---|---|---|---|\n", sc)
	for _, r := range rows() {
		cells := map[string]string{"sqlite": "—", "postgres": "—"}
		var missed []string
		for i, n := range names {
			v := r.value(figs[i])
			cells[n] = fmt.Sprintf(r.format, v)
			if r.limit > 0 && v > r.limit {
				missed = append(missed, n)
			}
		}
		verdict := "PASS"
		switch {
		case r.limit == 0:
			verdict = "—"
		case len(missed) > 0:
			verdict = "FAIL (" + strings.Join(missed, ", ") + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.name, cells["sqlite"], cells["postgres"], r.target, verdict)
	}
	return b.String()
}
