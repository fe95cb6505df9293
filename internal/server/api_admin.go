package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/store"
)

// maxFormBytes caps a small JSON request (a token, an acceptance).
const maxFormBytes = 1 << 20

// decode reads a small JSON request body into v, refusing unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		bodyError(w, err)
		return false
	}
	return true
}

// tokenRequest asks for a new token.
type tokenRequest struct {
	Name    string `json:"name"`
	Scope   string `json:"scope"`
	Cluster string `json:"cluster,omitempty"`
}

// newToken is a created token with its secret, shown this once.
type newToken struct {
	store.Token
	Secret string `json:"token"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if !decode(w, r, &req) {
		return
	}
	t, secret, err := CreateToken(r.Context(), s.st, req.Name, req.Scope, req.Cluster, s.opts.Now())
	if err != nil {
		if strings.HasPrefix(err.Error(), "storing") {
			s.storeError(w, r, "token", err)
			return
		}
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.log.InfoContext(r.Context(), "token created", "id", t.ID, "name", t.Name, "scope", t.Scope, "cluster", t.Cluster, "by", tokenOf(r).Name)
	writeJSON(w, http.StatusCreated, newToken{Token: t, Secret: secret})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.Tokens(r.Context())
	if err != nil {
		s.storeError(w, r, "tokens", err)
		return
	}
	page(w, r, list, func(t *store.Token) string { return strconv.FormatInt(1<<62+t.ID, 10) })
}

// pathID reads the route's {id} as a row ID.
func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "id: want a number")
		return 0, false
	}
	return id, true
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := s.st.RevokeToken(r.Context(), id); err != nil {
		s.storeError(w, r, "token "+r.PathValue("id"), err)
		return
	}
	s.log.InfoContext(r.Context(), "token revoked", "id", id, "by", tokenOf(r).Name)
	w.WriteHeader(http.StatusNoContent)
}

// acceptanceRequest is an accepted risk as the API takes it.
type acceptanceRequest struct {
	Vulnerability string    `json:"vulnerability"`
	Package       string    `json:"package,omitempty"`
	Cluster       string    `json:"cluster,omitempty"`
	Namespace     string    `json:"namespace,omitempty"`
	Image         string    `json:"image,omitempty"`
	Reason        string    `json:"reason"`
	Expires       time.Time `json:"expires"`
}

func (s *Server) createAcceptance(w http.ResponseWriter, r *http.Request) {
	var req acceptanceRequest
	if !decode(w, r, &req) {
		return
	}
	t, now := tokenOf(r), s.opts.Now()
	switch {
	case strings.TrimSpace(req.Vulnerability) == "":
		writeError(w, http.StatusBadRequest, "vulnerability: required")
		return
	case strings.TrimSpace(req.Reason) == "":
		writeError(w, http.StatusBadRequest, "reason: required (why the risk is accepted)")
		return
	case !req.Expires.After(now):
		writeError(w, http.StatusBadRequest, "expires: required, an RFC 3339 time in the future (an accepted risk must end)")
		return
	case t.Scope == store.ScopeWriteCluster && req.Cluster != t.Cluster:
		writeError(w, http.StatusForbidden, "token "+t.Name+" may accept risks of cluster "+t.Cluster+" only (set cluster)")
		return
	}
	a := store.Acceptance{Vulnerability: req.Vulnerability, Package: req.Package, Cluster: req.Cluster, Namespace: req.Namespace,
		Image: req.Image, Reason: req.Reason, Expires: req.Expires.UTC(), By: t.Name, CreatedAt: now.UTC()}
	if _, _, err := loadPolicy(acceptancePolicy(a)); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	a, err := s.st.Accept(r.Context(), a)
	if err != nil {
		s.storeError(w, r, "acceptance", err)
		return
	}
	s.log.InfoContext(r.Context(), "risk accepted", "id", a.ID, "vulnerability", a.Vulnerability, "cluster", a.Cluster, "by", a.By)
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) listAcceptances(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.Acceptances(r.Context(), s.opts.Now())
	if err != nil {
		s.storeError(w, r, "acceptances", err)
		return
	}
	page(w, r, list, func(a *store.Acceptance) string { return strconv.FormatInt(1<<62+a.ID, 10) })
}

func (s *Server) deleteAcceptance(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if t := tokenOf(r); t.Scope == store.ScopeWriteCluster {
		list, err := s.st.Acceptances(r.Context(), time.Time{})
		if err != nil {
			s.storeError(w, r, "acceptances", err)
			return
		}
		for _, a := range list {
			if a.ID == id && a.Cluster != t.Cluster {
				writeError(w, http.StatusForbidden, "token "+t.Name+" may remove acceptances of cluster "+t.Cluster+" only")
				return
			}
		}
	}
	if err := s.st.Unaccept(r.Context(), id); err != nil {
		s.storeError(w, r, "acceptance "+r.PathValue("id"), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
