package webui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// A vulnerability id and a workload name that are script render as
// text on every page that shows them: never as markup.
func TestEscaping(t *testing.T) {
	s := seed(t, true)
	h := riskOf(t, s.eu, hostile, "shop")
	escaped := `&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;`
	for _, p := range []string{"/risks", "/risks?q=" + url.QueryEscape("<script>"), riskURL(h.ID), workloadURL(h.Cluster, h.Namespace, h.Workload),
		imageURL(h.Image), "/changes?since=7d"} {
		body := mustGet(t, s.ui, p)
		if strings.Contains(body, "<script>window") || strings.Contains(body, "<img src=x") || strings.Contains(body, `onerror="window`) {
			t.Errorf("%s: hostile text rendered as markup", p)
		}
		contains(t, p, body, escaped)
	}
	// In links it is percent-encoded.
	body := mustGet(t, s.ui, "/risks")
	contains(t, "links", body, `href="/workloads/prod-eu/shop/Deployment/%3Cscript%3Ewindow.__pwned=1%3C%2Fscript%3E%3Cimg%20src=x%20onerror=%22window.__pwned=2%22%3E"`)
	// The search box gives the text back as a value, escaped.
	contains(t, "search", mustGet(t, s.ui, "/risks?q="+url.QueryEscape(`"><script>`)), `value="&#34;&gt;&lt;script&gt;"`)
}

// Pages forbid inline script and outside sources, and are never cached.
func TestSecurityHeaders(t *testing.T) {
	h := newTestUI(storetest.SQLite(t).Store)
	for _, p := range []string{"/", "/risks", "/login", "/nowhere", "/assets/app.css"} {
		rec := record(h, p, nil)
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: missing nosniff or frame denial", p)
		}
	}
	if cc := record(h, "/risks", nil).Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("page Cache-Control %q, want no-store", cc)
	}
	// No page has inline script, style attributes or outside URLs.
	body := mustGet(t, h, "/")
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style="|src="https?:|href="https?:`).MatchString(body) {
		t.Errorf("a page holds inline script, style attributes or outside URLs:\n%s", body)
	}
}

// The embedded assets are served, and the vendored htmx is the file
// hack/webui/vendor.sh pins.
func TestAssets(t *testing.T) {
	h := newTestUI(storetest.SQLite(t).Store)
	for p, ctype := range map[string]string{"/assets/app.css": "text/css", "/assets/app.js": "text/javascript", "/assets/vendor/htmx.min.js": "text/javascript"} {
		rec := record(h, p, nil)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), ctype) || rec.Body.Len() < 100 {
			t.Errorf("%s: status %d, type %q, %d bytes", p, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
		}
	}
	script, err := os.ReadFile("../../hack/webui/vendor.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^JS_SHA256=([0-9a-f]{64})$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("vendor.sh pins no JS_SHA256")
	}
	sum := sha256.Sum256(record(h, "/assets/vendor/htmx.min.js", nil).Body.Bytes())
	if hex.EncodeToString(sum[:]) != string(m[1]) {
		t.Errorf("served htmx.min.js is not the pinned one")
	}
	if _, err := os.Stat("assets/vendor/htmx.LICENSE"); err != nil {
		t.Errorf("htmx's licence is not vendored beside it: %v", err)
	}
}

// The ranked list pages by the store's cursor: every risk once, in
// order, and the last page has no next link.
func TestPagination(t *testing.T) {
	st := storetest.SQLite(t).Store
	storetest.Seed(t, st, 1, 70) // 70 workloads × 4 findings
	page, err := st.Risks(context.Background(), store.RiskQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	total := len(page.Risks)
	if total <= 2*pageSize {
		t.Fatalf("seeded %d risks, want more than two pages", total)
	}
	h := newTestUI(st)
	next, seen, pages := "/risks", map[string]bool{}, 0
	last := -1
	for next != "" {
		body := mustGet(t, h, next)
		pages++
		for _, m := range regexp.MustCompile(`<tr class="row" data-href="/risks/([^"]+)"`).FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("risk %s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		for _, tier := range badges(body) {
			if r := result.TierRank(tier); r < last {
				t.Fatalf("page %d: tier %s after a less urgent one", pages, tier)
			} else {
				last = r
			}
		}
		next = ""
		if m := regexp.MustCompile(`<a id="next" href="([^"]+)"`).FindStringSubmatch(body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
			contains(t, "later page", mustGet(t, h, next), "← First page")
		}
	}
	if len(seen) != total || pages != (total+pageSize-1)/pageSize {
		t.Errorf("%d risks over %d pages, want %d over %d", len(seen), pages, total, (total+pageSize-1)/pageSize)
	}
}

func TestMergeActions(t *testing.T) {
	a := result.Action{Kind: "rebuild", Owner: "internal", Image: "r/web", Package: "openssl", FixedVersion: "3.0.15", Text: "rebuild web",
		Digests: []string{"d1"}, Vulnerabilities: []string{"CVE-1"}, Workloads: []string{"eu/shop/Deployment/web"}, Tier: "scheduled", Risk: 40,
		ByTier: map[string]int{"scheduled": 1}}
	b := a
	b.Digests, b.Vulnerabilities, b.Workloads = []string{"d1", "d2"}, []string{"CVE-1", "CVE-2"}, []string{"us/shop/Deployment/web"}
	b.Tier, b.Risk, b.ByTier = "immediate", 90, map[string]int{"immediate": 1}
	other := result.Action{Kind: "upgrade", Owner: "external", Image: "q/agent", Package: "curl", Text: "upgrade agent", Tier: "out-of-cycle", Risk: 500}
	got := mergeActions([][]result.Action{{a, other}, {b}})
	if len(got) != 2 {
		t.Fatalf("%d actions, want 2", len(got))
	}
	m := got[0]
	if m.Text != "rebuild web" || m.Tier != "immediate" || m.Risk != 130 || len(m.Digests) != 2 || len(m.Vulnerabilities) != 2 ||
		len(m.Workloads) != 2 || m.ByTier["immediate"] != 1 || m.ByTier["scheduled"] != 1 {
		t.Errorf("merged action %+v", m)
	}
	if a.ByTier["immediate"] != 0 || len(a.Digests) != 1 {
		t.Error("merging changed the cluster's own action")
	}
	if got[1].Text != "upgrade agent" {
		t.Errorf("a more urgent tier did not rank first: %v", got)
	}
}
