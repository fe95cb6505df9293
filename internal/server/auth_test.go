package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

func TestServerAuthScopes(t *testing.T) {
	seeded(t, 4, func(t *testing.T, e *env) {
		_, read := e.mint("grafana", store.ScopeRead, "")
		_, c0 := e.mint("ci-c0", store.ScopeWriteCluster, "c0")
		doc := storetest.Document("c1", 4, storetest.DocOptions{Variant: 1})

		code, b := e.read("GET", "/api/v1/clusters", "", nil)
		wantError(t, "no token", code, b, http.StatusUnauthorized)
		code, b = e.read("GET", "/api/v1/clusters", "rl_notatoken", nil)
		wantError(t, "unknown token", code, b, http.StatusUnauthorized)
		if code, _ := e.read("GET", "/api/v1/clusters", read, nil); code != http.StatusOK {
			t.Errorf("read token GET: %d, want 200", code)
		}
		code, b = e.push("c1", read, doc)
		wantError(t, "read token pushing", code, b, http.StatusForbidden)
		code, b = e.push("c1", c0, doc)
		wantError(t, "c0 token pushing c1", code, b, http.StatusForbidden)
		code, b = e.read("GET", "/api/v1/risks", c0, nil)
		wantError(t, "write-cluster token reading", code, b, http.StatusForbidden)
		code, b = e.read("POST", "/api/v1/tokens", read, strings.NewReader(`{"name":"x","scope":"admin"}`))
		wantError(t, "read token minting", code, b, http.StatusForbidden)
		code, b = e.read("POST", "/api/v1/clusters/c0/scan", c0, nil)
		wantError(t, "write-cluster token scanning", code, b, http.StatusForbidden)
		if code, b := e.push("c0", c0, storetest.Document("c0", 4, storetest.DocOptions{Variant: 1})); code != http.StatusOK {
			t.Errorf("c0 token pushing c0: %d %s", code, b)
		}

		// Admin mints a token; its secret is shown once, and it works.
		code, b = e.read("POST", "/api/v1/tokens", e.admin, strings.NewReader(`{"name":"ci-c1","scope":"write-cluster","cluster":"c1"}`))
		if code != http.StatusCreated {
			t.Fatalf("admin minting: %d %s", code, b)
		}
		var nt struct {
			ID     int64  `json:"id"`
			Secret string `json:"token"`
			Scope  string `json:"scope"`
		}
		if err := json.Unmarshal(b, &nt); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^rl_[A-Za-z0-9_-]{43}$`).MatchString(nt.Secret) || nt.Scope != store.ScopeWriteCluster {
			t.Errorf("minted token %q scope %q, want rl_<43 base64url chars>, write-cluster", nt.Secret, nt.Scope)
		}
		if code, b := e.push("c1", nt.Secret, doc); code != http.StatusOK {
			t.Errorf("minted c1 token pushing c1: %d %s", code, b)
		}
		code, b = e.read("GET", "/api/v1/tokens", e.admin, nil)
		if code != http.StatusOK || strings.Contains(string(b), nt.Secret) || strings.Contains(string(b), `"hash"`) {
			t.Errorf("token list: %d, leaks a secret or hash: %s", code, b)
		}
		code, b = e.read("POST", "/api/v1/tokens", e.admin, strings.NewReader(`{"name":"bad","scope":"write-cluster"}`))
		wantError(t, "write-cluster token without cluster", code, b, http.StatusBadRequest)
		if code, _ := e.read("DELETE", "/api/v1/tokens/"+itoa(int(nt.ID)), e.admin, nil); code != http.StatusNoContent {
			t.Errorf("revoke: %d", code)
		}
		code, b = e.push("c1", nt.Secret, doc)
		wantError(t, "revoked token", code, b, http.StatusUnauthorized)

		// No secret ever reaches the log.
		logs := e.logs.String()
		for _, s := range []string{e.admin, read, c0, nt.Secret} {
			if strings.Contains(logs, s) || strings.Contains(logs, s[3:]) {
				t.Errorf("the log holds a token secret")
			}
		}
		if !strings.Contains(logs, `"token":"ci-c0"`) {
			t.Errorf("the log does not name the pushing token: %.2000s", logs)
		}
	})
}

func TestServerLoginCookie(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		for _, tls := range []bool{false, true} {
			e := newEnv(t, st, Options{TLS: tls})
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.PostForm(e.ts.URL+"/login", url.Values{"token": {e.admin}, "next": {"/risks"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/risks" {
				t.Errorf("login: %d to %q, want 303 to /risks", resp.StatusCode, resp.Header.Get("Location"))
			}
			var c *http.Cookie
			for _, k := range resp.Cookies() {
				if k.Name == CookieName {
					c = k
				}
			}
			if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tls || c.Value != e.admin {
				t.Fatalf("tls %v: cookie %+v, want HttpOnly, SameSite=Strict, Secure=%v", tls, c, tls)
			}
			req, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/clusters", nil)
			req.AddCookie(c)
			if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("GET with the cookie: %v %v", resp.StatusCode, err)
			}
			resp, _ = client.PostForm(e.ts.URL+"/login", url.Values{"token": {"rl_wrong"}, "next": {"//evil.example"}})
			if resp.Header.Get("Location") != "/login?failed=1" || len(resp.Cookies()) != 0 {
				t.Errorf("bad login: to %q with %d cookies", resp.Header.Get("Location"), len(resp.Cookies()))
			}
			resp, _ = client.PostForm(e.ts.URL+"/login", url.Values{"token": {e.admin}, "next": {"//evil.example"}})
			if resp.Header.Get("Location") != "/" {
				t.Errorf("login with an outside next goes to %q, want /", resp.Header.Get("Location"))
			}
			resp, _ = client.Post(e.ts.URL+"/logout", "", nil)
			if cs := resp.Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 || cs[0].Value != "" {
				t.Errorf("logout cookies %+v, want the token cookie cleared", cs)
			}
		}
	})
}

func TestServerUIRedirectsToLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page " + r.URL.Path)) })
		e := newEnv(t, st, Options{UI: ui})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(e.ts.URL + "/risks?tier=immediate")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Frisks%3Ftier%3Dimmediate" {
			t.Errorf("UI without a token: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		for _, open := range []string{"/login", "/assets/app.css"} {
			if code, b := e.read("GET", open, "", nil); code != http.StatusOK || string(b) != "page "+open {
				t.Errorf("GET %s without a token: %d %s", open, code, b)
			}
		}
		if code, b := e.read("GET", "/", e.admin, nil); code != http.StatusOK || string(b) != "page /" {
			t.Errorf("UI with a token: %d %s", code, b)
		}
	})
}

func TestServerNoAuth(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{NoAuth: true})
		if code, b := e.read("GET", "/api/v1/clusters", "", nil); code != http.StatusOK {
			t.Errorf("no-auth GET: %d %s", code, b)
		}
	})
}

func TestServerEnsureAdminOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		secret, err := EnsureAdmin(ctx, st, testNow)
		if err != nil || !strings.HasPrefix(secret, TokenPrefix) {
			t.Fatalf("first EnsureAdmin: %q %v", secret, err)
		}
		tok, err := st.Authenticate(ctx, HashSecret(secret))
		if err != nil || tok.Scope != store.ScopeAdmin {
			t.Errorf("the initial token: %+v %v, want admin", tok, err)
		}
		again, err := EnsureAdmin(ctx, st, testNow)
		if err != nil || again != "" {
			t.Errorf("second EnsureAdmin: %q %v, want none made", again, err)
		}
	})
}
