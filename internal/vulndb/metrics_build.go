package vulndb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// MetricsInfo describes the CVE metrics of a database.
type MetricsInfo struct {
	// CVEs is the number of CVE ids with metrics; WithCVSS and WithSSVC
	// count those with at least one CVSS vector and with CISA's SSVC
	// decision.
	CVEs     int `json:"cves"`
	WithCVSS int `json:"with_cvss"`
	WithSSVC int `json:"with_ssvc"`
	// Sources describes each metrics input, in import order.
	Sources []MetricsSource `json:"sources"`
}

// MetricsSource describes one CVE metrics input of an import.
type MetricsSource struct {
	Kind     string `json:"kind"`
	Location string `json:"location"`
	// NVDRecords and CVE5Records count the records read by shape.
	NVDRecords  int `json:"nvd_records"`
	CVE5Records int `json:"cve5_records"`
	// Carried counts NVD records copied from the previous database by an
	// incremental NVD API update.
	Carried int `json:"carried,omitempty"`
	// Skipped counts documents that were no CVE record (not counted as
	// records) and Superseded records an equal or newer one of the same
	// CVE replaced.
	Skipped    int `json:"skipped"`
	Superseded int `json:"superseded"`
	// NewestModified is the latest lastModified / dateUpdated seen: how
	// fresh the source's data is.
	NewestModified time.Time `json:"newest_modified,omitzero"`
	// SyncedThrough is, for the NVD API, the time up to which changes are
	// included; the next update asks for changes since then.
	SyncedThrough time.Time `json:"synced_through,omitzero"`
	// Incremental is set when the NVD API was asked only for changes.
	Incremental bool `json:"incremental,omitempty"`
}

// metricsState is the builder's CVE metrics while importing.
type metricsState struct {
	rows map[string]*metricRow
	strs map[string]string // interned vectors and scorer names
	// bySrc maps a source index to its entry in meta.Metrics.Sources.
	bySrc map[int]int
}

// metricsSource registers source src as a metrics input.
func (b *builder) metricsSource(src int, s Source) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.meta.Metrics == nil {
		b.meta.Metrics = &MetricsInfo{}
	}
	if b.mx.bySrc == nil {
		b.mx.bySrc = map[int]int{}
	}
	b.mx.bySrc[src] = len(b.meta.Metrics.Sources)
	b.meta.Metrics.Sources = append(b.meta.Metrics.Sources, MetricsSource{Kind: string(s.Kind), Location: redact(s.Location)})
}

// metricsInfo runs f on the MetricsSource of src under the lock.
func (b *builder) metricsInfo(src int, f func(*MetricsSource)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i, ok := b.mx.bySrc[src]; ok {
		f(&b.meta.Metrics.Sources[i])
	}
}

// decodeMetrics runs in a worker: one NVD or CVE 5 record.
func (b *builder) decodeMetrics(r rawRecord) decoded {
	d := decoded{src: r.src, name: r.name}
	if r.carried != nil {
		d.metric = r.carried
		return d
	}
	m, err := parseMetricRecord(r.data)
	var nm errNotMetrics
	switch {
	case errors.As(err, &nm):
		d.skip = nm.why
	case err != nil:
		d.fatal = err
	default:
		d.metric = &m
	}
	return d
}

// collectMetric runs in the collector: keeps the newest part per CVE.
func (b *builder) collectMetric(d decoded) error {
	if d.fatal != nil {
		return fmt.Errorf("%s: %w", d.name, d.fatal)
	}
	if d.skip != "" {
		b.mu.Lock()
		b.meta.Sources[d.src].Bad++
		b.mu.Unlock()
		b.metricsInfo(d.src, func(s *MetricsSource) { s.Skipped++ })
		return nil
	}
	m := d.metric
	if b.mx.rows == nil {
		b.mx.rows = make(map[string]*metricRow)
		b.mx.strs = make(map[string]string)
	}
	row := b.mx.rows[m.cve]
	if row == nil {
		row = &metricRow{}
		b.mx.rows[b.internMetric(m.cve)] = row
	}
	slot := &row.nvd
	if m.kind == partCVE5 {
		slot = &row.cve5
	}
	superseded := *slot != nil
	if superseded && (*slot).modified > m.part.modified {
		m.part = nil // an older copy: keep what is there
	}
	if m.part != nil {
		for i := range m.part.cvss {
			c := &m.part.cvss[i]
			c.source, c.vector = b.internMetric(c.source), b.internMetric(c.vector)
		}
		for i, w := range m.part.cwes {
			m.part.cwes[i] = b.internMetric(w)
		}
		*slot = m.part
	}
	mod := unixTime(max(m.partModified(), 0))
	b.mu.Lock()
	b.meta.Sources[d.src].Records++
	b.mu.Unlock()
	b.metricsInfo(d.src, func(s *MetricsSource) {
		switch {
		case m.carried:
			s.Carried++
		case m.kind == partNVD:
			s.NVDRecords++
		default:
			s.CVE5Records++
		}
		if superseded {
			s.Superseded++
		}
		if mod.After(s.NewestModified) {
			s.NewestModified = mod
		}
	})
	return nil
}

func (m *metricRec) partModified() int64 {
	if m.part == nil {
		return 0
	}
	return m.part.modified
}

func (b *builder) internMetric(s string) string {
	if v, ok := b.mx.strs[s]; ok {
		return v
	}
	b.mx.strs[s] = s
	return s
}

// writeMetrics writes the strings table and the metrics table (see
// metrics_codec.go) and fills the counts of meta.Metrics.
func (b *builder) writeMetrics(ctx context.Context) error {
	rows := b.mx.rows
	b.mx.rows, b.mx.strs = nil, nil
	cves := make([]string, 0, len(rows))
	scores := map[string]float64{}
	for c, r := range rows {
		if r.nvd.empty() && r.cve5.empty() {
			continue
		}
		cves = append(cves, c)
		for _, p := range []*metricPart{r.nvd, r.cve5} {
			if p.empty() {
				continue
			}
			for _, e := range p.cvss {
				scores[e.vector] = e.score
				if _, ok := scores[e.source]; !ok {
					scores[e.source] = -1 // a scorer name: no score
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	strs := make([]string, 0, len(scores))
	for s := range scores {
		strs = append(strs, s)
	}
	slices.Sort(strs)
	if len(strs) > math.MaxUint32 {
		return fmt.Errorf("too many distinct CVSS strings: %d", len(strs))
	}
	index := make(map[string]uint64, len(strs))
	for i, s := range strs {
		index[s] = uint64(i)
	}
	err := b.writeTable(secStrings, len(strs), func(i int) string { return strs[i] }, func(i int, dst []byte) []byte {
		if sc := scores[strs[i]]; sc >= 0 {
			return append(dst, byte(math.Round(sc*10)))
		}
		return dst
	})
	if err != nil {
		return err
	}
	slices.Sort(cves)
	idx := func(s string) uint64 { return index[s] }
	err = b.writeTable(secMetrics, len(cves), func(i int) string { return cves[i] }, func(i int, dst []byte) []byte {
		return encodeRow(dst, rows[cves[i]], idx)
	})
	if err != nil {
		return err
	}
	if b.meta.Metrics != nil {
		mi := b.meta.Metrics
		mi.CVEs = len(cves)
		for _, c := range cves {
			r := rows[c]
			hasCVSS, hasSSVC := false, false
			for _, p := range []*metricPart{r.nvd, r.cve5} {
				if p != nil {
					hasCVSS = hasCVSS || len(p.cvss) > 0
					hasSSVC = hasSSVC || p.ssvc != nil
				}
			}
			if hasCVSS {
				mi.WithCVSS++
			}
			if hasSSVC {
				mi.WithSSVC++
			}
		}
	}
	return nil
}
