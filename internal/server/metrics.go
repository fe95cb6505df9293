package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/runlens/runlens/internal/store"
)

// metricsTTL is how long the figures read from the store are served
// before a scrape reads them again.
const metricsTTL = 15 * time.Second

// metrics holds the server's Prometheus collectors, on a registry of
// its own. No metric has a per-vulnerability or per-image label.
type metrics struct {
	s   *Server
	reg *prometheus.Registry

	risks, findings               *prometheus.GaugeVec
	scanDuration, rematchDuration prometheus.Histogram
	queueDepth, dbAge, storeSize  prometheus.Gauge
	ingestTotal                   *prometheus.CounterVec

	mu      sync.Mutex
	fetched time.Time
	http    http.Handler
}

func newMetrics(s *Server) *metrics {
	m := &metrics{s: s, reg: prometheus.NewRegistry()}
	m.risks = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "runlens_risks",
		Help: "Current unsuppressed risk occurrences per cluster, namespace and tier."}, []string{"cluster", "namespace", "tier"})
	m.findings = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "runlens_findings",
		Help: "Findings of the images running in each cluster, per severity."}, []string{"cluster", "severity"})
	buckets := []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600}
	m.scanDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "runlens_scan_duration_seconds",
		Help: "Duration of the server's scheduled and on-demand cluster scans.", Buckets: buckets})
	m.rematchDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "runlens_rematch_duration_seconds",
		Help: "Duration of the re-matches after a vulnerability database update.", Buckets: buckets})
	m.queueDepth = prometheus.NewGauge(prometheus.GaugeOpts{Name: "runlens_queue_depth", Help: "Jobs waiting for the one running."})
	m.dbAge = prometheus.NewGauge(prometheus.GaugeOpts{Name: "runlens_db_age_seconds",
		Help: "Age of the vulnerability database the stored findings were matched against."})
	m.storeSize = prometheus.NewGauge(prometheus.GaugeOpts{Name: "runlens_store_size_bytes", Help: "Size of the store on disk."})
	m.ingestTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runlens_ingest_total",
		Help: "Results ingested per cluster and outcome (ok, bad-request, error, scan-failed)."}, []string{"cluster", "result"})
	m.reg.MustRegister(m.risks, m.findings, m.scanDuration, m.rematchDuration, m.queueDepth, m.dbAge, m.storeSize, m.ingestTotal)
	m.http = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// ingest counts one ingest outcome.
func (m *metrics) ingest(cluster, outcome string) {
	m.ingestTotal.WithLabelValues(cluster, outcome).Inc()
}

// invalidate makes the next scrape read the store again.
func (m *metrics) invalidate() {
	m.mu.Lock()
	m.fetched = time.Time{}
	m.mu.Unlock()
}

// serve answers a scrape, reading the store's figures when they are
// older than metricsTTL.
func (m *metrics) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	if time.Since(m.fetched) > metricsTTL {
		if err := m.refresh(r.Context()); err != nil {
			m.s.log.WarnContext(r.Context(), "metrics: reading the store", "err", err)
		} else {
			m.fetched = time.Now()
		}
	}
	m.mu.Unlock()
	m.http.ServeHTTP(w, r)
}

// refresh sets the gauges computed from the store.
func (m *metrics) refresh(ctx context.Context) error {
	st := m.s.st
	// Counts the store keeps as risks change: no scan of the risks.
	counts, err := st.NamespaceTierCounts(ctx)
	if err != nil {
		return err
	}
	risks := map[[3]string]int{}
	for c, byNS := range counts {
		for ns, byTier := range byNS {
			for t, n := range byTier {
				risks[[3]string{c, ns, t}] = n
			}
		}
	}
	images, err := st.Images(ctx)
	if err != nil {
		return err
	}
	findings := map[[2]string]int{}
	for _, im := range images {
		for _, c := range im.Clusters {
			for sev, n := range im.Findings {
				findings[[2]string{c, sev}] += n
			}
		}
	}
	v, err := st.DBVersion(ctx)
	if err != nil {
		return err
	}
	size, err := st.Size(ctx)
	if err != nil {
		return err
	}
	m.risks.Reset()
	for k, n := range risks {
		m.risks.WithLabelValues(k[0], k[1], k[2]).Set(float64(n))
	}
	m.findings.Reset()
	for k, n := range findings {
		m.findings.WithLabelValues(k[0], k[1]).Set(float64(n))
	}
	built := v.BuiltAt
	if built.IsZero() {
		// No database of the server's own: the oldest one a cluster's
		// latest result was matched against.
		if built, err = oldestScanDB(ctx, st); err != nil {
			return err
		}
	}
	if !built.IsZero() {
		m.dbAge.Set(m.s.opts.Now().Sub(built).Seconds())
	}
	m.storeSize.Set(float64(size))
	return nil
}

// oldestScanDB is the build time of the oldest database any cluster's
// latest scan was matched against (zero when none says).
func oldestScanDB(ctx context.Context, st store.Store) (time.Time, error) {
	clusters, err := st.Clusters(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var oldest time.Time
	for _, c := range clusters {
		scans, err := st.Scans(ctx, c.Name, 1)
		if err != nil {
			return time.Time{}, err
		}
		if len(scans) == 1 && !scans[0].DBBuiltAt.IsZero() && (oldest.IsZero() || scans[0].DBBuiltAt.Before(oldest)) {
			oldest = scans[0].DBBuiltAt
		}
	}
	return oldest, nil
}
