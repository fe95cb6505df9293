package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
)

// maxEvidenceBytes caps one pushed evidence document.
const maxEvidenceBytes = 256 << 20

// body returns the request body, decompressed when it is gzip, read at
// most max bytes (decompressed).
func body(w http.ResponseWriter, r *http.Request, max int64) (io.Reader, func(), error) {
	var rd io.Reader = http.MaxBytesReader(w, r.Body, max)
	closeFn := func() {}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip body: %w", err)
		}
		closeFn = func() { zr.Close() }
		rd = &capReader{r: zr, left: max}
	}
	return rd, closeFn, nil
}

// errTooLarge is a body over its cap.
var errTooLarge = errors.New("request body too large")

// capReader fails once more than left bytes were read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// bodyError answers an unreadable body: 413 when over its cap, else 400.
func bodyError(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, errTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, "the body is larger than the server accepts")
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

// checkCluster refuses a document with a workload, a risk or a cluster
// funnel of another cluster than c.
func checkCluster(doc *result.Document, c string) error {
	for _, wl := range doc.Workloads {
		if wl.Cluster != c {
			return fmt.Errorf("workload %s is not of cluster %q", wl.Ref(), c)
		}
	}
	for i := range doc.Risks {
		if e := &doc.Risks[i]; e.Cluster != "" && e.Cluster != c {
			return fmt.Errorf("risk %s is of cluster %q, not %q", e.ID, e.Cluster, c)
		}
	}
	for _, cl := range doc.Summary.Clusters {
		if cl.Name != c {
			return fmt.Errorf("the result holds cluster %q, not only %q", cl.Name, c)
		}
	}
	return nil
}

// pushResult takes a runlens JSON result (gzip accepted) for cluster
// {c}, ranks it with the server's inputs and stores it as the cluster's
// newest scan.
func (s *Server) pushResult(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	start := time.Now()
	rd, done, err := body(w, r, s.opts.MaxPushBytes)
	if err != nil {
		s.metrics.ingest(c, "bad-request")
		bodyError(w, err)
		return
	}
	defer done()
	doc, err := result.Read(rd)
	if err != nil {
		s.metrics.ingest(c, "bad-request")
		bodyError(w, err)
		return
	}
	if err := checkCluster(doc, c); err != nil {
		s.metrics.ingest(c, "bad-request")
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.rankDocument(r.Context(), c, doc); err != nil {
		s.metrics.ingest(c, "error")
		s.log.ErrorContext(r.Context(), "push: ranking", "cluster", c, "err", err)
		writeError(w, http.StatusInternalServerError, "ranking the result failed")
		return
	}
	s.log.InfoContext(r.Context(), "push: ingesting", "cluster", c, "risks", len(doc.Risks), "ranked_ms", time.Since(start).Milliseconds())
	stats, err := s.st.IngestResult(r.Context(), store.Ingest{Cluster: c, Source: "push:" + tokenOf(r).Name,
		Cause: store.CauseScan, Document: doc, At: s.opts.Now().UTC()})
	if err != nil {
		s.metrics.ingest(c, "error")
		s.storeError(w, r, "ingest", err)
		return
	}
	s.metrics.ingest(c, "ok")
	s.metrics.invalidate()
	s.log.InfoContext(r.Context(), "result ingested", "cluster", c, "token", tokenOf(r).Name, "scan", stats.ScanID,
		"images", stats.Images, "risks", stats.Risks, "appeared", stats.Appeared, "disappeared", stats.Disappeared,
		"duration_ms", time.Since(start).Milliseconds())
	writeJSON(w, http.StatusOK, ingestAnswer(stats))
}

// ingestAnswer is a push's answer: what the store wrote.
type ingestAnswer struct {
	ScanID      int64 `json:"scan_id"`
	Images      int   `json:"images"`
	NewImages   int   `json:"new_images"`
	Workloads   int   `json:"workloads"`
	Risks       int   `json:"risks"`
	Appeared    int   `json:"appeared"`
	Disappeared int   `json:"disappeared"`
}

// pushEvidence takes an agent's evidence document for cluster {c}; it
// replaces the node's previous one and is used from the next ranking.
func (s *Server) pushEvidence(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	rd, done, err := body(w, r, maxEvidenceBytes)
	if err != nil {
		bodyError(w, err)
		return
	}
	defer done()
	data, err := io.ReadAll(rd)
	if err != nil {
		bodyError(w, err)
		return
	}
	ev, err := evidence.Read(bytes.NewReader(data))
	if err != nil {
		writeError(w, http.StatusBadRequest, "evidence: "+err.Error())
		return
	}
	if ev.Node == "" {
		writeError(w, http.StatusBadRequest, "evidence: no node")
		return
	}
	d := store.SideDocument{Kind: store.DocEvidence, Cluster: c, Name: ev.Node, Body: data, ReceivedAt: s.opts.Now().UTC()}
	if err := s.st.PutDocument(r.Context(), d); err != nil {
		s.storeError(w, r, "evidence", err)
		return
	}
	s.log.InfoContext(r.Context(), "evidence stored", "cluster", c, "node", ev.Node, "containers", len(ev.Containers))
	writeJSON(w, http.StatusOK, d)
}
