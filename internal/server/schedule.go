package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
)

// EnqueueScan queues a scan of the kubeconfig contexts; it reports false
// when the same scan is already waiting or the server is shutting down.
func (s *Server) EnqueueScan(contexts []string) bool {
	if s.opts.Scan == nil {
		return false
	}
	contexts = append([]string(nil), contexts...)
	return s.jobs.add("scan "+strings.Join(contexts, ","), func(ctx context.Context) error {
		return s.scanJob(ctx, contexts)
	})
}

// scanJob runs one cluster scan of the contexts and ingests each
// cluster's part as that cluster's newest scan.
func (s *Server) scanJob(ctx context.Context, contexts []string) error {
	start := time.Now()
	doc, err := s.opts.Scan(ctx, contexts)
	s.metrics.scanDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		for _, c := range contexts {
			s.metrics.ingest(c, "scan-failed")
		}
		return fmt.Errorf("scanning %s: %w", strings.Join(contexts, ", "), err)
	}
	var errs []string
	for _, part := range SplitClusters(doc) {
		c := part.Summary.Clusters[0].Name
		if err := s.ingestScheduled(ctx, c, part); err != nil {
			s.metrics.ingest(c, "error")
			errs = append(errs, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		s.metrics.ingest(c, "ok")
	}
	s.metrics.invalidate()
	if len(errs) > 0 {
		return fmt.Errorf("ingesting the scan: %s", strings.Join(errs, "; "))
	}
	return nil
}

// ingestScheduled ranks one cluster's part of a scheduled scan and
// stores it.
func (s *Server) ingestScheduled(ctx context.Context, c string, doc *result.Document) error {
	if err := s.rankDocument(ctx, c, doc); err != nil {
		return err
	}
	stats, err := s.st.IngestResult(ctx, store.Ingest{Cluster: c, Source: "schedule", Cause: store.CauseScan, Document: doc, At: s.opts.Now().UTC()})
	if err != nil {
		return fmt.Errorf("ingesting: %w", err)
	}
	s.log.InfoContext(ctx, "scheduled scan ingested", "cluster", c, "scan", stats.ScanID, "risks", stats.Risks,
		"appeared", stats.Appeared, "disappeared", stats.Disappeared)
	return nil
}

// SplitClusters cuts a multi-cluster scan's document into one document
// per cluster: its funnel, its workloads and the images they run (an
// image no workload names, such as a failed discovery, goes to every
// part), and its risks as they were ranked. The parts share the
// images' findings.
func SplitClusters(doc *result.Document) []*result.Document {
	var out []*result.Document
	for _, cl := range doc.Summary.Clusters {
		var wls []*result.Workload
		for _, wl := range doc.Workloads {
			if wl.Cluster == cl.Name {
				wls = append(wls, wl)
			}
		}
		var imgs []*result.Image
		for _, img := range doc.Images {
			switch mine := runningIn(img, cl.Name); {
			case len(img.RunningIn) == 0:
				imgs = append(imgs, img)
			case len(mine) > 0:
				cp := *img // shallow: the findings are shared, read-only
				cp.RunningIn = mine
				imgs = append(imgs, &cp)
			}
		}
		cl.Risk = nil
		part := result.New(doc.Header, imgs, wls, []result.Cluster{cl})
		for _, e := range doc.Risks {
			if e.Cluster == cl.Name {
				part.Risks = append(part.Risks, e)
			}
		}
		out = append(out, part)
	}
	return out
}

// runningIn returns the workloads of cluster c that run img.
func runningIn(img *result.Image, c string) []string {
	var out []string
	for _, ref := range img.RunningIn {
		if strings.HasPrefix(ref, c+"/") {
			out = append(out, ref)
		}
	}
	return out
}
