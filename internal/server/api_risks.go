package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
)

// riskQuery reads a RiskQuery from the request's parameters.
func riskQuery(v url.Values, now time.Time) (store.RiskQuery, error) {
	q := store.RiskQuery{
		Cluster: v.Get("cluster"), Namespace: v.Get("namespace"), Workload: v.Get("workload"),
		Tier: v.Get("tier"), MinTier: v.Get("min_tier"), Owner: v.Get("owner"), Fix: v.Get("fix"),
		Image: v.Get("image"), Vulnerability: v.Get("vulnerability"), Package: v.Get("package"),
		Search: v.Get("q"), Cursor: v.Get("cursor"),
	}
	for _, t := range []struct{ name, v string }{{"tier", q.Tier}, {"min_tier", q.MinTier}} {
		if t.v != "" && !slices.Contains(result.Tiers, t.v) {
			return q, fmt.Errorf("%s: want one of %s, got %q", t.name, strings.Join(result.Tiers, ", "), t.v)
		}
	}
	if q.Fix != "" && q.Fix != "available" && q.Fix != "none" {
		return q, fmt.Errorf("fix: want available or none, got %q", q.Fix)
	}
	if q.Workload != "" && !strings.Contains(q.Workload, "/") {
		return q, fmt.Errorf("workload: want Kind/Name, got %q", q.Workload)
	}
	if s := v.Get("new_since"); s != "" {
		t, err := parseSince(s, now)
		if err != nil {
			return q, fmt.Errorf("new_since: %w", err)
		}
		q.NewSince = t
	}
	if s := v.Get("suppressed"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, fmt.Errorf("suppressed: want true or false, got %q", s)
		}
		q.Suppressed = b
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return q, fmt.Errorf("limit: want a positive number, got %q", s)
		}
		q.Limit = min(n, maxLimit)
	}
	return q, nil
}

// parseSince reads an RFC 3339 time, or a duration back from now ("24h",
// "90m", "7d").
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time or a duration such as 24h or 7d, got %q", s)
	}
	return now.Add(-d), nil
}

func (s *Server) listRisks(w http.ResponseWriter, r *http.Request) {
	q, err := riskQuery(r.URL.Query(), s.opts.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := s.st.Risks(r.Context(), q)
	if err != nil {
		if q.Cursor != "" && r.Context().Err() == nil {
			writeError(w, http.StatusBadRequest, "cursor: "+err.Error())
			return
		}
		s.storeError(w, r, "risks", err)
		return
	}
	if p.Risks == nil {
		p.Risks = []store.RiskRow{}
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) getRisk(w http.ResponseWriter, r *http.Request) {
	e, err := s.st.Risk(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, "risk "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// explainRisk writes the whole derivation of a risk as `runlens explain`
// does, as text. The stored risk keeps each input's value and source;
// the basis of each is derived again by ranking the cluster's latest
// result with the server's inputs.
func (s *Server) explainRisk(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	e, err := s.st.Risk(r.Context(), id)
	if err != nil {
		s.storeError(w, r, "risk "+id, err)
		return
	}
	entry := s.derive(r, e)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := risk.Explain(w, entry); err != nil {
		s.log.WarnContext(r.Context(), "explain", "err", err)
	}
}

// derive returns risk e as ranking it again with the server's inputs
// derives it (its workload and its image's one finding, read alone: not
// the cluster's whole result), or e itself (with empty inputs where it
// has none) when that ranking no longer has it.
func (s *Server) derive(r *http.Request, e *result.Risk) *result.Risk {
	if e.Cluster != "" {
		doc, err := s.riskDocument(r.Context(), e)
		if err == nil {
			err = s.rankDocument(r.Context(), e.Cluster, doc)
		}
		if err != nil {
			s.log.WarnContext(r.Context(), "explain: ranking the risk again", "cluster", e.Cluster, "risk", e.ID, "err", err)
		} else {
			for _, found := range risk.Find(doc, e.ID) {
				if found.ID == e.ID {
					return found
				}
			}
		}
	}
	doc := &result.Document{Risks: []result.Risk{*e}}
	doc.CompleteFacts()
	d := &doc.Risks[0].Decision
	for _, in := range []**result.Input{&d.Exploitation, &d.SystemExposure, &d.Automatable, &d.HumanImpact} {
		if *in == nil {
			*in = &result.Input{Value: "-", Source: "-"}
		}
	}
	return &doc.Risks[0]
}

// riskDocument is the least of the cluster's result that ranks risk e
// again: its workload, and its image with only its finding; the risk
// itself is kept for what it said of runtime and VEX (rankDocument).
func (s *Server) riskDocument(ctx context.Context, e *result.Risk) (*result.Document, error) {
	im, err := s.st.Image(ctx, e.Image)
	if err != nil {
		return nil, err
	}
	img := *im.Image
	img.Packages, img.Findings = nil, nil
	if img.Target.Digest == "" {
		img.Target.Digest = e.Image
	}
	if e.ImageReference != "" {
		img.Target.Reference = e.ImageReference
	}
	for _, f := range im.Image.Findings {
		p := &f.Package
		if f.ID == e.Vulnerability && p.Name == e.Package.Name && p.Version == e.Package.Version && p.Location == e.Package.Location {
			img.Findings = append(img.Findings, f)
		}
	}
	doc := &result.Document{Images: []*result.Image{&img}, Risks: []result.Risk{*e}}
	if kind, name, ok := strings.Cut(e.Workload, "/"); ok {
		w, err := s.st.Workload(ctx, e.Cluster, e.Namespace, kind, name)
		if err != nil {
			return nil, err
		}
		doc.Workloads = []*result.Workload{w}
	}
	return doc, nil
}

func (s *Server) getFunnel(w http.ResponseWriter, r *http.Request) {
	f, err := s.st.Funnel(r.Context(), r.URL.Query().Get("cluster"))
	if err != nil {
		s.storeError(w, r, "funnel", err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// clusterAction is a remediation action of one cluster.
type clusterAction struct {
	Cluster string `json:"cluster"`
	result.Action
}

// listRemediation answers the remediation actions of a cluster's latest
// result (?cluster=), or of every cluster's, the most urgent tier and
// the most risk removed first.
func (s *Server) listRemediation(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.Clusters(r.Context())
	if err != nil {
		s.storeError(w, r, "clusters", err)
		return
	}
	only := r.URL.Query().Get("cluster")
	out := []clusterAction{}
	found := false
	for _, c := range list {
		if only != "" && c.Name != only {
			continue
		}
		found = true
		acts, err := s.remediation.actions(r.Context(), s.st, c)
		if err != nil {
			s.storeError(w, r, "cluster "+c.Name, err)
			return
		}
		out = append(out, acts...)
	}
	if !found && only != "" {
		writeError(w, http.StatusNotFound, "cluster "+only+" not found")
		return
	}
	page(w, r, out, actionKey)
}

// actionKey orders actions as the ranking does, the most urgent tier
// first, then the most risk removed, and names each uniquely (one
// package in one image repository of one cluster), for keyset pages.
func actionKey(a *clusterAction) string {
	inverted := max(0, 1e9-a.Risk) // larger risk sorts first
	return fmt.Sprintf("%d|%016.4f|%s\x00%s\x00%s\x00%s", result.TierRank(a.Tier), inverted, a.Cluster, a.Image, a.Package, a.Ecosystem)
}

// listChanges answers the "new since" feed: ?since= (RFC 3339 or a
// duration back from now, default 24h), ?cluster=, ?kind=, ?cause=.
func (s *Server) listChanges(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := store.ChangeQuery{Cluster: v.Get("cluster"), Kind: v.Get("kind"), Cause: v.Get("cause"), Cursor: v.Get("cursor")}
	since := v.Get("since")
	if since == "" {
		since = "24h"
	}
	var err error
	if q.Since, err = parseSince(since, s.opts.Now()); err != nil {
		writeError(w, http.StatusBadRequest, "since: "+err.Error())
		return
	}
	if q.Kind != "" && q.Kind != store.ChangeAppeared && q.Kind != store.ChangeDisappeared {
		writeError(w, http.StatusBadRequest, "kind: want appeared or disappeared")
		return
	}
	if q.Cause != "" && q.Cause != store.CauseScan && q.Cause != store.CauseDBUpdate {
		writeError(w, http.StatusBadRequest, "cause: want scan or db-update")
		return
	}
	if q.Limit, err = parseLimit(r); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := s.st.Changes(r.Context(), q)
	if err != nil {
		s.storeError(w, r, "changes", err)
		return
	}
	if p.Changes == nil {
		p.Changes = []store.Change{}
	}
	writeJSON(w, http.StatusOK, p)
}
