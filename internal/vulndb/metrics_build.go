package vulndb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
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

// metricsState is the builder's CVE metrics while importing. Each part is
// kept encoded (metrics_codec.go) with builder-local string ids — about
// 40 bytes a CVE instead of the few hundred its structs would take — and
// re-encoded with the final strings table when the table is written.
type metricsState struct {
	rows map[string]*builtRow
	ids  map[string]uint64 // interned vectors and scorer names
	strs []string          // by id
	// score is a vector's base score by id; -1 for a scorer name.
	score []float64
	// bySrc maps a source index to its entry in meta.Metrics.Sources.
	bySrc map[int]int
}

// builtRow is one CVE's parts: encoded (nil when the part is empty) and
// the modification time that decides which copy of a part is kept.
type builtRow struct {
	nvd, cve5       []byte
	nvdMod, cve5Mod int64
	nvdSet, cve5Set bool
	// flags: hasCVSS and hasSSVC of each part.
	nvdFlags, cve5Flags byte
}

const (
	rowCVSS byte = 1 << iota
	rowSSVC
)

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
		b.mx.rows = make(map[string]*builtRow)
		b.mx.ids = make(map[string]uint64)
	}
	row := b.mx.rows[m.cve]
	if row == nil {
		row = &builtRow{}
		b.mx.rows[strings.Clone(m.cve)] = row
	}
	enc, mod, set, flags := &row.nvd, &row.nvdMod, &row.nvdSet, &row.nvdFlags
	if m.kind == partCVE5 {
		enc, mod, set, flags = &row.cve5, &row.cve5Mod, &row.cve5Set, &row.cve5Flags
	}
	superseded := *set
	if !*set || m.part.modified >= *mod {
		*enc, *mod, *set, *flags = nil, m.part.modified, true, 0
		if !m.part.empty() {
			*enc = b.encodeBuilt(m.part)
			if len(m.part.cvss) > 0 {
				*flags |= rowCVSS
			}
			if m.part.ssvc != nil {
				*flags |= rowSSVC
			}
		}
	}
	modified := unixTime(m.part.modified)
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
		if modified.After(s.NewestModified) {
			s.NewestModified = modified
		}
	})
	return nil
}

// encodeBuilt encodes a part with builder-local string ids, recording each
// vector's score.
func (b *builder) encodeBuilt(p *metricPart) []byte {
	for _, c := range p.cvss {
		b.metricID(c.source, -1)
		b.mx.score[b.metricID(c.vector, c.score)] = c.score
	}
	e := encoder{}
	encodePart(&e, p, func(s string) uint64 { return b.metricID(s, -1) })
	return slices.Clip(e.b)
}

// metricID interns s, a vector with its score or a scorer name (-1).
func (b *builder) metricID(s string, score float64) uint64 {
	if id, ok := b.mx.ids[s]; ok {
		return id
	}
	id := uint64(len(b.mx.strs))
	s = strings.Clone(s)
	b.mx.ids[s] = id
	b.mx.strs = append(b.mx.strs, s)
	b.mx.score = append(b.mx.score, score)
	return id
}

// writeMetrics writes the strings table and the metrics table (see
// metrics_codec.go), re-encoding every part with the strings table's ids,
// and fills the counts of meta.Metrics.
func (b *builder) writeMetrics(ctx context.Context) error {
	mx := b.mx
	b.mx = metricsState{bySrc: mx.bySrc}
	cves := make([]string, 0, len(mx.rows))
	for c, r := range mx.rows {
		if r.nvd != nil || r.cve5 != nil {
			cves = append(cves, c)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sorted := slices.Clone(mx.strs)
	slices.Sort(sorted)
	if len(sorted) > math.MaxUint32 {
		return fmt.Errorf("too many distinct CVSS strings: %d", len(sorted))
	}
	final := make([]uint64, len(mx.strs)) // builder id -> table index
	for i, s := range sorted {
		final[mx.ids[s]] = uint64(i)
	}
	err := b.writeTable(secStrings, len(sorted), func(i int) string { return sorted[i] }, func(i int, dst []byte) []byte {
		if sc := mx.score[mx.ids[sorted[i]]]; sc >= 0 {
			return append(dst, byte(math.Round(sc*10)))
		}
		return dst
	})
	if err != nil {
		return err
	}
	slices.Sort(cves)
	var failed error
	err = b.writeTable(secMetrics, len(cves), func(i int) string { return cves[i] }, func(i int, dst []byte) []byte {
		r := mx.rows[cves[i]]
		var mask byte
		if r.nvd != nil {
			mask |= partNVD
		}
		if r.cve5 != nil {
			mask |= partCVE5
		}
		dst = append(dst, mask)
		for _, part := range [][]byte{r.nvd, r.cve5} {
			if part == nil {
				continue
			}
			var ok bool
			if dst, ok = reencodePart(dst, part, final); !ok && failed == nil {
				failed = fmt.Errorf("CVE %s: its metrics do not re-encode", cves[i])
			}
		}
		return dst
	})
	if err != nil {
		return err
	}
	if failed != nil {
		return failed
	}
	if b.meta.Metrics != nil {
		mi := b.meta.Metrics
		mi.CVEs = len(cves)
		for _, c := range cves {
			r := mx.rows[c]
			if (r.nvdFlags|r.cve5Flags)&rowCVSS != 0 {
				mi.WithCVSS++
			}
			if (r.nvdFlags|r.cve5Flags)&rowSSVC != 0 {
				mi.WithSSVC++
			}
		}
	}
	return nil
}

// reencodePart rewrites an encoded part's string ids (builder ids to
// strings-table indexes). The part was encoded by encodePart, so its
// layout is known: only the two ids of each CVSS entry change.
func reencodePart(dst []byte, part []byte, final []uint64) ([]byte, bool) {
	d := decoder{s: bytesString(part)}
	e := encoder{b: dst}
	e.uvarint(d.uvarint()) // published
	e.uvarint(d.uvarint()) // modified
	flags := d.byte()
	e.b = append(e.b, flags)
	if flags&pflagSSVC != 0 {
		e.b = append(e.b, d.byte())
		e.uvarint(d.uvarint())
	}
	n := d.count()
	e.uvarint(uint64(n))
	for range n {
		e.b = append(e.b, d.byte())
		src, vec := d.uvarint(), d.uvarint()
		if src >= uint64(len(final)) || vec >= uint64(len(final)) {
			d.fail()
			break
		}
		e.uvarint(final[src])
		e.uvarint(final[vec])
	}
	e.b = append(e.b, part[d.i:]...) // the CWE codes, unchanged
	return e.b, d.err == nil
}
