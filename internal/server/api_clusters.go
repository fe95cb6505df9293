package server

import (
	"net/http"
	"strconv"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
)

// healthz answers while the process is up.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 once the store answers (it was opened, so its
// migrations are applied), else 503.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.st.DBVersion(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the store is not reachable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) listClusters(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.Clusters(r.Context())
	if err != nil {
		s.storeError(w, r, "clusters", err)
		return
	}
	page(w, r, list, func(c *store.ClusterInfo) string { return c.Name })
}

func (s *Server) getCluster(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("c")
	list, err := s.st.Clusters(r.Context())
	if err != nil {
		s.storeError(w, r, "clusters", err)
		return
	}
	for _, c := range list {
		if c.Name == name {
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	writeError(w, http.StatusNotFound, "cluster "+strconv.Quote(name)+" not found")
}

func (s *Server) listScans(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// Scans come newest first: the cursor is the last ID seen, and a
	// page holds the scans with smaller IDs.
	before := int64(0)
	if c := r.URL.Query().Get("cursor"); c != "" {
		if before, err = strconv.ParseInt(c, 10, 64); err != nil || before <= 0 {
			writeError(w, http.StatusBadRequest, "cursor: not one this server gave")
			return
		}
	}
	list, err := s.st.Scans(r.Context(), r.PathValue("c"), 0)
	if err != nil {
		s.storeError(w, r, "scans", err)
		return
	}
	out := listPage[store.ScanInfo]{Items: []store.ScanInfo{}}
	for _, sc := range list {
		if before != 0 && sc.ID >= before {
			continue
		}
		if len(out.Items) == limit {
			out.Next = strconv.FormatInt(out.Items[len(out.Items)-1].ID, 10)
			break
		}
		out.Items = append(out.Items, sc)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listWorkloads(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.Workloads(r.Context(), r.URL.Query().Get("cluster"))
	if err != nil {
		s.storeError(w, r, "workloads", err)
		return
	}
	if ns := r.URL.Query().Get("namespace"); ns != "" {
		kept := list[:0]
		for _, wl := range list {
			if wl.Namespace == ns {
				kept = append(kept, wl)
			}
		}
		list = kept
	}
	page(w, r, list, func(wl *result.Workload) string { return wl.Ref() })
}

// workloadDetail is a workload with its current risks.
type workloadDetail struct {
	Workload result.Workload `json:"workload"`
	Risks    []store.RiskRow `json:"risks"`
	// Next continues the risks at /api/v1/risks with the same filters.
	Next string `json:"next,omitempty"`
}

func (s *Server) getWorkload(w http.ResponseWriter, r *http.Request) {
	c, ns, kind, name := r.PathValue("c"), r.PathValue("ns"), r.PathValue("kind"), r.PathValue("name")
	list, err := s.st.Workloads(r.Context(), c)
	if err != nil {
		s.storeError(w, r, "workloads", err)
		return
	}
	for _, wl := range list {
		if wl.Namespace != ns || wl.Kind != kind || wl.Name != name {
			continue
		}
		p, err := s.st.Risks(r.Context(), store.RiskQuery{Cluster: c, Namespace: ns, Workload: kind + "/" + name, Suppressed: true, Limit: maxLimit})
		if err != nil {
			s.storeError(w, r, "risks", err)
			return
		}
		d := workloadDetail{Workload: wl, Risks: p.Risks, Next: p.Next}
		if d.Risks == nil {
			d.Risks = []store.RiskRow{}
		}
		writeJSON(w, http.StatusOK, d)
		return
	}
	writeError(w, http.StatusNotFound, "workload "+c+"/"+ns+"/"+kind+"/"+name+" not found")
}
