package webui

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/workload"
)

// badges are the tier badges of a page's risk rows, in order.
func badges(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td><span class="badge t-([a-z-]+)">`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// Every page renders the seeded store's content, on both backends.
func TestPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		s := seedStore(t, b.Store, false)
		log4j := riskOf(t, s.eu, "CVE-2021-44228", "shop")
		log4jLayer := digestOf("registry.example.com/shop/web:2.4.1 app")

		t.Run("overview", func(t *testing.T) {
			body := mustGet(t, s.ui, "/")
			contains(t, "overview", body, `2 findings to act on now`, `>prod-eu</a>`, `>prod-us</a>`,
				"412,387 advisories", "built <time", ">sha256:5f1e0c2b9a7d<", `href="/changes?since=db"`, "new since the last database update",
				`href="/risks?tier=immediate"`, `href="/risks?cluster=prod-us&amp;tier=immediate"`, "Risk funnel", "In running images")
			// prod-us was scanned after the database update: its 8 findings
			// appeared since.
			contains(t, "overview", body, "<b>8</b> new since")
		})

		t.Run("risks", func(t *testing.T) {
			body := mustGet(t, s.ui, "/risks")
			contains(t, "risks", body, "CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q", "org.apache.logging.log4j:log4j-core@2.14.1", "→ 2.17.1",
				"CVE-2023-45853", "no fix", `id="filters"`, `hx-get="/risks"`, `name="q"`, "KEV: actively exploited")
			got := badges(body)
			if len(got) != len(s.eu.Risks)+len(s.us.Risks) {
				t.Errorf("%d rows, want %d", len(got), len(s.eu.Risks)+len(s.us.Risks))
			}
			if len(got) == 0 || got[0] != "immediate" || got[len(got)-1] != "defer" {
				t.Errorf("rows not most urgent first: %v", got)
			}
		})

		t.Run("filters", func(t *testing.T) {
			for _, c := range []struct {
				query      string
				want, not  []string
				rows       int
				onlyTier   string
				selectedOK string
			}{
				{query: "tier=immediate", want: []string{"CVE-2021-44228"}, not: []string{"CVE-2023-38545"}, rows: 2, onlyTier: "immediate", selectedOK: `<option value="immediate" selected>`},
				{query: "cluster=prod-us", not: []string{"· prod-eu</div>"}, rows: len(s.us.Risks), selectedOK: `<option selected>prod-us</option>`},
				{query: "q=log4j", want: []string{"CVE-2021-44228"}, not: []string{"libcurl4"}, rows: 2},
				{query: "fix=none", want: []string{"CVE-2023-4039", "CVE-2023-45853"}, not: []string{"CVE-2021-44228"}, rows: 4},
				{query: "ns=batch", want: []string{"report-export"}, not: []string{"CVE-2021-44228"}, rows: 2},
				{query: "new=db", not: []string{"· prod-eu</div>"}, rows: len(s.us.Risks)},
				{query: "owner=external", want: []string{"node-agent"}, not: []string{"CVE-2021-44228"}, rows: 2},
			} {
				body := mustGet(t, s.ui, "/risks?"+c.query)
				contains(t, c.query, body, c.want...)
				contains(t, c.query, body, c.selectedOK)
				for _, n := range c.not {
					if strings.Contains(body, n) {
						t.Errorf("%s: has %q", c.query, n)
					}
				}
				got := badges(body)
				if len(got) != c.rows {
					t.Errorf("%s: %d rows, want %d", c.query, len(got), c.rows)
				}
				for _, tier := range got {
					if c.onlyTier != "" && tier != c.onlyTier {
						t.Errorf("%s: a %s row", c.query, tier)
					}
				}
			}
			body := mustGet(t, s.ui, "/risks?q=no-such-thing")
			contains(t, "no match", body, "No risk matches these filters.", `<a href="/risks">clear them</a>`)
		})

		t.Run("htmx partial", func(t *testing.T) {
			body := mustGet(t, s.ui, "/risks?tier=immediate", "HX-Request", "true")
			if !strings.HasPrefix(body, `<section id="results"`) || strings.Contains(body, "<html") || strings.Contains(body, `id="filters"`) {
				t.Errorf("htmx request got more than the results:\n%.300s", body)
			}
			if n := len(badges(body)); n != 2 {
				t.Errorf("partial: %d rows, want 2", n)
			}
			// A history restore needs the whole page.
			full := mustGet(t, s.ui, "/risks?tier=immediate", "HX-Request", "true", "HX-History-Restore-Request", "true")
			contains(t, "history restore", full, "<!DOCTYPE html>", `id="filters"`)
		})

		t.Run("finding", func(t *testing.T) {
			body := mustGet(t, s.ui, riskURL(log4j.ID))
			contains(t, "finding", body, "CVE-2021-44228", "org.apache.logging.log4j:log4j-core 2.14.1",
				// The four inputs with values, sources and bases.
				"Exploitation", "<b>active</b>", "listed in CISA KEV", "System Exposure", "<b>open</b>",
				"Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080", "Automatable", "<b>yes</b>", netVector,
				"Human Impact", "<b>high</b>", "class lateral", `<span class="src">computed</span>`, `<span class="src">workload</span>`,
				// The Deployer row and outcome, the score's parts, the reasons.
				"Deployer row", "outcome <b>immediate</b>", "Score 95.0 = 100 × (", "exploitation (with EPSS)", "KEV: actively exploited",
				// Runtime window and evidence; VEX; every occurrence.
				"pid 4711 (java) maps /app/lib/log4j-core-2.14.1.jar", "complete", "No VEX statement applies",
				"Every occurrence", "· prod-eu</div>", "· prod-us</div>", "As <code>runlens explain</code> prints it")
			if n := len(badges(body)); n != 2 {
				t.Errorf("finding: %d occurrences, want 2", n)
			}
			if strings.Contains(body, `id="tier-differs"`) {
				t.Error("ranked again, the entry changed tier")
			}
		})

		t.Run("workload", func(t *testing.T) {
			body := mustGet(t, s.ui, workloadURL(log4j.Cluster, log4j.Namespace, log4j.Workload))
			contains(t, "workload", body, "Deployment <span class=\"mono\">shop/web</span>", `<span class="exp exp-internet">internet</span>`,
				"Ingress shop/web (shop.example.com/)", "secret db-password in env", "cloud identity aws:arn:aws:iam::123456789012:role/shop-web",
				`<span class="rt rt-loaded">loaded</span> 1 risk`, "CVE-2021-44228", "CVE-2023-38545", "registry.example.com/shop/web:2.4.1")
			if n := len(badges(body)); n != 4 {
				t.Errorf("workload: %d risks, want its image's 4", n)
			}
		})

		t.Run("image", func(t *testing.T) {
			body := mustGet(t, s.ui, imageURL(log4j.Image))
			contains(t, "image", body, "registry.example.com/shop/web:2.4.1", log4j.Image, "Where it runs", "prod-eu/shop/Deployment/web",
				"prod-us/shop/Deployment/web", "Advisory text for CVE-2021-44228", "Packages", "libgcc-s1",
				"Layers", "29.2 MB", `<td class="mono" title="`+log4jLayer+`">`+shortDigest(log4jLayer)+`</td>`)
			if n := len(badges(body)); n != 8 {
				t.Errorf("image: %d risks, want 8 (4 findings on 2 workloads)", n)
			}
		})

		t.Run("actions", func(t *testing.T) {
			body := mustGet(t, s.ui, "/actions")
			contains(t, "actions", body, "merged over 2 clusters", "log4j-core", "2.17.1", "CVE-2021-44228")
			// log4j is fixed once for both clusters: one row, two workloads.
			if n := strings.Count(body, "org.apache.logging.log4j:log4j-core → 2.17.1"); n != 1 {
				t.Errorf("log4j action listed %d times, want once (merged)", n)
			}
			if got := badges(body); len(got) == 0 || got[0] != "immediate" {
				t.Errorf("actions not most urgent first: %v", got)
			}
		})

		t.Run("changes", func(t *testing.T) {
			db := mustGet(t, s.ui, "/changes")
			contains(t, "changes since db", db, "+ appeared", "· prod-us</div>", `<option value="db" selected>`)
			if strings.Contains(db, "· prod-eu</div>") {
				t.Error("changes since the database update list prod-eu, scanned before it")
			}
			week := mustGet(t, s.ui, "/changes?since=7d")
			contains(t, "changes 7d", week, "· prod-eu</div>", "· prod-us</div>", `<option value="7d" selected>`)
		})
	})
}

// The login page's form posts the token to /login (handled by the API).
func TestLoginPage(t *testing.T) {
	h := newTestUI(storetest.SQLite(t).Store)
	body := mustGet(t, h, "/login")
	contains(t, "login", body, `<form method="post" action="/login">`, `<label for="token">Token</label>`,
		`<input id="token" name="token" type="password"`)
	contains(t, "failed login", mustGet(t, h, "/login?failed=1"), "That token was not accepted.")
	// The page it came from is posted back (a local path only).
	contains(t, "next", mustGet(t, h, "/login?next="+url.QueryEscape("/risks?tier=immediate")), `<input type="hidden" name="next" value="/risks?tier=immediate">`)
	for _, bad := range []string{"https://evil.example/", "//evil.example/", "/\\evil"} {
		if strings.Contains(mustGet(t, h, "/login?next="+url.QueryEscape(bad)), `name="next"`) {
			t.Errorf("next %q kept", bad)
		}
	}
	// Every other page has a sign-out button posting to /logout.
	contains(t, "sign out", mustGet(t, h, "/"), `<form method="post" action="/logout">`)
}

// An empty store says what to do; unknown names are 404 pages.
func TestEmptyAndNotFound(t *testing.T) {
	h := newTestUI(storetest.SQLite(t).Store)
	for _, p := range []string{"/", "/risks", "/actions"} {
		contains(t, p, mustGet(t, h, p), "No results yet", "runlens scan cluster --push")
	}
	contains(t, "/changes", mustGet(t, h, "/changes"), "No vulnerability database is recorded yet", "Nothing changed")
	for _, p := range []string{"/risks/r-000000000000", "/images/sha256:00", "/workloads/c/ns/Deployment/x", "/nowhere"} {
		code, body := get(t, h, p)
		if code != http.StatusNotFound || !strings.Contains(body, "Not found") {
			t.Errorf("%s: status %d, want a 404 page", p, code)
		}
	}
}

// The UI's caches of a cluster's workloads and actions follow its newer
// scans.
func TestCachesFollowNewScans(t *testing.T) {
	s := seed(t, false)
	log4j := riskOf(t, s.eu, "CVE-2021-44228", "shop")
	page := workloadURL(log4j.Cluster, log4j.Namespace, log4j.Workload)
	contains(t, "before", mustGet(t, s.ui, page), "Ingress shop/web (shop.example.com/)")
	contains(t, "before", mustGet(t, s.ui, "/actions"), "merged over 2 clusters", "registry.example.com/batch/report-export")

	doc := clusterDocument(t, "prod-eu", false)
	for _, w := range doc.Workloads {
		if w.Name == "web" {
			w.Exposure.Paths = []string{"Service shop/web-lb type LoadBalancer :443 → pod port 8080"}
		}
	}
	web := doc.Images[0]
	web.Findings = append(web.Findings, finding("CVE-2099-0001", "libnew1", "1.0-1", "Debian:12", "deb", "HIGH", 8.1, netVector, "1.0-2"))
	if err := risk.Rank(doc, risk.Options{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.IngestResult(context.Background(), store.Ingest{Cluster: "prod-eu", Source: "push:ci", Cause: store.CauseScan,
		Document: doc, At: testNow.Add(-30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	body := mustGet(t, s.ui, page)
	contains(t, "after", body, "Service shop/web-lb type LoadBalancer :443")
	if strings.Contains(body, "shop.example.com") {
		t.Error("the workload page still shows the previous scan's exposure")
	}
	// The actions page gives the new scan's actions at once.
	body = mustGet(t, s.ui, "/actions")
	contains(t, "new scan's actions", body, "libnew1")
}

// A cluster whose scan could not read what runs in it says so on the
// overview, with its problems; one not scanned for two days is marked.
func TestOverviewWarnings(t *testing.T) {
	st := storetest.SQLite(t).Store
	doc := clusterDocument(t, "edge", false)
	doc.Summary.Clusters[0].Status = result.StatusFailed
	doc.Summary.Clusters[0].Problems = []workload.Problem{{Cluster: "edge", Kind: "pods", Reason: "forbidden: cannot list pods"}}
	if _, err := st.IngestResult(context.Background(), store.Ingest{Cluster: "edge", Source: "push:ci", Cause: store.CauseScan,
		Document: doc, At: testNow.Add(-72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	body := mustGet(t, newTestUI(st), "/")
	contains(t, "overview", body, `<span class="pill warn">not read</span>`, "1 problem: pods: forbidden: cannot list pods",
		`class="warn-text">3 days ago</time>`, "Vulnerability database: <span class=\"warn-text\">none recorded</span>")
}

// When the server's policy changed since an entry was ranked, its page
// shows the stored decision, says what ranking it again would give, and
// gives no basis for the input that changed.
func TestFindingUnderChangedPolicy(t *testing.T) {
	s := seed(t, false)
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte("rules:\n  - namespace: shop\n    humanImpact: low\n    reason: shop holds no customer data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pol, err := risk.LoadPolicy(file)
	if err != nil {
		t.Fatal(err)
	}
	h := New(s.st, Options{Policy: pol, Now: func() time.Time { return testNow }})
	log4j := riskOf(t, s.eu, "CVE-2021-44228", "shop")
	body := mustGet(t, h, riskURL(log4j.ID))
	contains(t, "finding", body, `id="tier-differs"`, "not <b>Immediate</b> as stored", "outcome <b>immediate</b>",
		"<b>high</b>", "listed in CISA KEV", "Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080")
	if strings.Contains(body, "class lateral") {
		t.Error("the changed input kept the basis of another value")
	}
}
