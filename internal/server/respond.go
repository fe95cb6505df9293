package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/runlens/runlens/internal/store"
)

// Page sizes of the lists the server pages itself.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// writeJSON answers v as JSON with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// errorBody is every error's JSON.
type errorBody struct {
	Error string `json:"error"`
}

// writeError answers {"error": msg} with status code.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// storeError answers a store error: 404 for ErrNotFound, else 500 (the
// details go to the log, not the client).
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, what+" not found")
		return
	}
	if r.Context().Err() != nil {
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
		return
	}
	s.log.ErrorContext(r.Context(), "store", "what", what, "err", err)
	writeError(w, http.StatusInternalServerError, "reading "+what+" failed")
}

// parseLimit reads ?limit= (defaultLimit when absent, at most maxLimit).
func parseLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("limit: want a positive number, got %q", v)
	}
	return min(n, maxLimit), nil
}

// listPage is one page of a list the server pages.
type listPage[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// paginate sorts list by key and returns the page after the cursor (the
// opaque form of the last key of the previous page). Keys are unique, so
// a row inserted between two requests neither repeats nor hides another.
func paginate[T any](list []T, key func(*T) string, cursor string, limit int) (listPage[T], error) {
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return listPage[T]{}, errors.New("cursor: not one this server gave")
		}
		after = string(b)
	}
	sort.SliceStable(list, func(i, j int) bool { return key(&list[i]) < key(&list[j]) })
	start := 0
	if cursor != "" {
		start = sort.Search(len(list), func(i int) bool { return key(&list[i]) > after })
	}
	end := min(start+limit, len(list))
	p := listPage[T]{Items: list[start:end]}
	if p.Items == nil {
		p.Items = []T{}
	}
	if end < len(list) {
		p.Next = base64.RawURLEncoding.EncodeToString([]byte(key(&list[end-1])))
	}
	return p, nil
}

// page pages list as the request asks (?cursor=, ?limit=) and answers it.
func page[T any](w http.ResponseWriter, r *http.Request, list []T, key func(*T) string) {
	limit, err := parseLimit(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := paginate(list, key, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// statusWriter records a response's status for the request log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs each request's method, path (never its query or
// headers, which may carry a token), status and duration.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if p := r.URL.Path; p == "/healthz" || p == "/readyz" || p == "/metrics" {
			level = slog.LevelDebug // probes and scrapes, every few seconds
		}
		s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", sw.code,
			"duration_ms", time.Since(start).Milliseconds())
	})
}
