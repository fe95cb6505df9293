package server

import (
	"bytes"
	"net/http"
	"time"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/report"
	"github.com/runlens/runlens/internal/store"
)

// evidenceInfo describes one stored evidence document.
type evidenceInfo struct {
	store.SideDocument
	CreatedAt  time.Time `json:"created_at,omitzero"`
	Containers int       `json:"containers"`
	Records    int       `json:"records"`
	Complete   bool      `json:"complete"`
	Problems   []string  `json:"problems,omitempty"`
}

func (s *Server) listEvidence(w http.ResponseWriter, r *http.Request) {
	docs, err := s.st.Documents(r.Context(), store.DocEvidence, r.URL.Query().Get("cluster"))
	if err != nil {
		s.storeError(w, r, "evidence", err)
		return
	}
	out := make([]evidenceInfo, 0, len(docs))
	for _, d := range docs {
		info := evidenceInfo{SideDocument: d}
		if ev, err := evidence.Read(bytes.NewReader(d.Body)); err == nil {
			info.CreatedAt, info.Containers, info.Records = ev.CreatedAt, len(ev.Containers), len(ev.Records)
			info.Complete, info.Problems = ev.Window.Complete, ev.Problems
		}
		out = append(out, info)
	}
	page(w, r, out, func(e *evidenceInfo) string { return e.Cluster + "\x00" + e.Name })
}

// contentTypes are the formats' media types.
var contentTypes = map[string]string{
	"json":      "application/json",
	"sarif":     "application/sarif+json",
	"cyclonedx": "application/vnd.cyclonedx+json",
	"openvex":   "application/json",
	"spdx":      "application/spdx+json",
	"html":      "text/html; charset=utf-8",
	"table":     "text/plain; charset=utf-8",
}

// export writes a cluster's latest result in one of the report formats.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	c, name := r.URL.Query().Get("cluster"), r.URL.Query().Get("format")
	if c == "" {
		writeError(w, http.StatusBadRequest, "cluster: required")
		return
	}
	if name == "" {
		name = "json"
	}
	f, err := report.Lookup(name)
	if err != nil {
		writeError(w, http.StatusBadRequest, "format: "+err.Error())
		return
	}
	doc, err := s.st.LatestDocument(r.Context(), c)
	if err != nil {
		s.storeError(w, r, "cluster "+c, err)
		return
	}
	ct := contentTypes[name]
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="runlens-`+safeName(c)+`.`+extension(name)+`"`)
	if err := f.Write(w, doc, report.Options{Top: 0, ShowSuppressed: true}); err != nil {
		// The status is sent; the log says why the body is cut short.
		s.log.ErrorContext(r.Context(), "export", "cluster", c, "format", name, "err", err)
	}
}

// extension is a format's file extension.
func extension(format string) string {
	switch format {
	case "html":
		return "html"
	case "table":
		return "txt"
	}
	return format + ".json"
}

// safeName keeps the characters of a cluster name a file name may hold.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// dbInfo is the vulnerability database the store's findings were matched
// against, and the one the server watches.
type dbInfo struct {
	Stored store.DBVersion  `json:"stored"`
	Loaded *store.DBVersion `json:"loaded,omitempty"`
	Dir    string           `json:"dir,omitempty"`
}

func (s *Server) getDB(w http.ResponseWriter, r *http.Request) {
	v, err := s.st.DBVersion(r.Context())
	if err != nil {
		s.storeError(w, r, "database version", err)
		return
	}
	out := dbInfo{Stored: v, Dir: s.opts.DBDir}
	if db := s.currentDB(); db != nil {
		md := db.Metadata()
		out.Loaded = &store.DBVersion{BuiltAt: md.BuiltAt, Advisories: md.Advisories}
	}
	writeJSON(w, http.StatusOK, out)
}

// reloadDB queues a check of the database directory now.
func (s *Server) reloadDB(w http.ResponseWriter, _ *http.Request) {
	if s.opts.DBDir == "" {
		writeError(w, http.StatusConflict, "the server watches no database (start it with --db DIR)")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"queued": s.EnqueueDBCheck(), "queue_depth": s.jobs.Depth()})
}

// scanNow queues a scan of cluster {c} (a kubeconfig context the server
// was started with).
func (s *Server) scanNow(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	if s.opts.Scan == nil {
		writeError(w, http.StatusConflict, "the server scans no cluster (start it with --scan-context)")
		return
	}
	known := false
	for _, k := range s.opts.Contexts {
		known = known || k == c
	}
	if !known {
		writeError(w, http.StatusNotFound, "cluster "+c+" is not one of the server's --scan-context")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"queued": s.EnqueueScan([]string{c}), "queue_depth": s.jobs.Depth()})
}
