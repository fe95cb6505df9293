package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/runlens/runlens/internal/store"
)

// CookieName is the login cookie holding a token.
const CookieName = "runlens_token"

// Scopes a route needs (beside those of store).
const (
	needNone  = ""      // open: health, login
	needRead  = "read"  // any token but write-cluster
	needPush  = "push"  // write-cluster for the route's {c}, or admin
	needWrite = "write" // write-cluster or admin; the handler checks the cluster
	needAdmin = "admin"
)

type tokenKey struct{}

// tokenOf returns the request's authenticated token (an admin stand-in
// when auth is off).
func tokenOf(r *http.Request) store.Token {
	t, _ := r.Context().Value(tokenKey{}).(store.Token)
	return t
}

// presented returns the secret a request carries: the Authorization
// bearer token, else the login cookie.
func presented(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if k, v, ok := strings.Cut(h, " "); ok && strings.EqualFold(k, "Bearer") {
			return strings.TrimSpace(v)
		}
		return ""
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

// authenticate finds the request's token; ok is false with the status to
// answer when there is none or it is unknown.
func (s *Server) authenticate(r *http.Request) (store.Token, int, string) {
	if s.opts.NoAuth {
		return store.Token{Name: "anonymous", Scope: store.ScopeAdmin}, 0, ""
	}
	secret := presented(r)
	if secret == "" {
		return store.Token{}, http.StatusUnauthorized, "a token is required (Authorization: Bearer rl_…)"
	}
	t, err := s.st.Authenticate(r.Context(), HashSecret(secret))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Token{}, http.StatusUnauthorized, "unknown or revoked token"
	case err != nil:
		s.log.ErrorContext(r.Context(), "authenticating", "err", err)
		return store.Token{}, http.StatusServiceUnavailable, "the store cannot be read"
	}
	return t, 0, ""
}

// allowed reports whether token t may use a route needing need, for the
// cluster the route names ("" when none).
func allowed(t store.Token, need, cluster string) bool {
	switch t.Scope {
	case store.ScopeAdmin:
		return true
	case store.ScopeRead:
		return need == needRead || need == needNone
	case store.ScopeWriteCluster:
		switch need {
		case needNone, needWrite:
			return true
		case needPush:
			return cluster != "" && cluster == t.Cluster
		}
	}
	return false
}

// guard wraps a route's handler with authentication and its scope.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.need == needNone {
			rt.handler(w, r)
			return
		}
		t, code, msg := s.authenticate(r)
		if code != 0 {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="runlens"`)
			}
			writeError(w, code, msg)
			return
		}
		if !allowed(t, rt.need, r.PathValue("c")) {
			writeError(w, http.StatusForbidden, "token "+t.Name+" ("+t.Scope+") may not do this")
			return
		}
		rt.handler(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, t)))
	})
}

// guardUI lets the login page and assets through and sends a browser
// without a valid token to /login.
func (s *Server) guardUI(ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" || strings.HasPrefix(r.URL.Path, "/assets/") {
			ui.ServeHTTP(w, r)
			return
		}
		t, code, _ := s.authenticate(r)
		if code != 0 || t.Scope == store.ScopeWriteCluster {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			writeError(w, http.StatusUnauthorized, "log in first")
			return
		}
		ui.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, t)))
	})
}

// login takes a token from a form (field "token") and sets the login
// cookie: HttpOnly, SameSite=Strict, Secure under TLS. It redirects to
// the form's "next" (a local path) or "/".
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "bad form")
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	t, err := s.st.Authenticate(r.Context(), HashSecret(secret))
	if secret == "" || err != nil {
		s.log.InfoContext(r.Context(), "login refused", "remote", r.RemoteAddr)
		http.Redirect(w, r, "/login?failed=1", http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: secret, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.opts.TLS})
	s.log.InfoContext(r.Context(), "login", "token", t.Name)
	next := r.PostForm.Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout clears the login cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.opts.TLS})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
