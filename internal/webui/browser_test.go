package webui

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	browsertest "github.com/runlens/runlens/internal/testing/browser"
)

// browser starts a headless Chromium with a fresh profile and returns a
// context of one tab, cancelled with the test.
func browser(t *testing.T) context.Context { return browsertest.New(t, 1440, 900, 60*time.Second) }

// run runs actions in the tab, failing the test on error.
func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval runs expr in the page and decodes its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls expr until it is true.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	for range 100 {
		if eval[bool](t, ctx, `document.readyState === "complete" && (`+expr+`)`) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (%s)", what, expr)
}

// key sends one key press to the page.
func key(t *testing.T, ctx context.Context, k string) {
	t.Helper()
	run(t, ctx, chromedp.KeyEvent(k))
}

// screenshot saves the page to the test's directory and, with
// RUNLENS_UPDATE_SCREENSHOT=1, to docs/name.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if len(shot) < 8 || string(shot[1:4]) != "PNG" {
		t.Fatalf("%s: not a PNG", name)
	}
	dirs := []string{t.TempDir()}
	if os.Getenv("RUNLENS_UPDATE_SCREENSHOT") == "1" {
		dirs = append(dirs, filepath.Join("..", "..", "docs"))
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: %d bytes", name, len(shot))
}

// text is the page's visible text.
func text(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.body.innerText`)
}

// The UI in a real browser: every page shows the store's content, the
// keyboard selects and opens rows, the filter form swaps the table in
// place through htmx (and the URL follows), and the screenshots in docs
// are made from it.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	s := seed(t, false)
	base := s.server(t)
	log4j := riskOf(t, s.eu, "CVE-2021-44228", "shop")

	// Overview: the headline, the clusters, the tier cards.
	run(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#clusters")))
	body := text(t, ctx)
	for _, want := range []string{"to act on now", "prod-eu", "prod-us", "Risk funnel", "412,387 advisories", "new since the last database update"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview: missing %q", want)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#clusters tbody tr").length`); n != 2 {
		t.Errorf("overview: %d cluster rows, want 2", n)
	}
	screenshot(t, ctx, "server-overview.png")

	// / elsewhere goes to the risks with the search box focused; g o
	// comes back; g r goes to the risks; there / focuses the search.
	key(t, ctx, "/")
	waitFor(t, ctx, "the risks page's search", `location.pathname === "/risks" && document.activeElement && document.activeElement.id === "f-q"`)
	eval[bool](t, ctx, `document.getElementById("f-q").value = ""; document.activeElement.blur(); true`)
	key(t, ctx, "g")
	key(t, ctx, "o")
	waitFor(t, ctx, "the overview", `location.pathname === "/" && !!document.getElementById("clusters")`)
	key(t, ctx, "g")
	key(t, ctx, "r")
	waitFor(t, ctx, "the risks page", `location.pathname === "/risks" && !!document.getElementById("risk-table")`)
	key(t, ctx, "/")
	// (chromedp types the "/" into the box: a browser does not, as the
	// keydown was cancelled.)
	if !eval[bool](t, ctx, `document.activeElement && document.activeElement.id === "f-q"`) {
		t.Error("/ did not focus the search box")
	}
	rows := eval[int](t, ctx, `document.querySelectorAll("#risk-table tbody tr").length`)
	if rows < 10 {
		t.Errorf("risks: %d rows, want the seeded ones", rows)
	}
	// The screenshot: the whole list, its first row selected.
	eval[bool](t, ctx, `const q = document.getElementById("f-q"); q.value = ""; q.blur(); true`)
	key(t, ctx, "j")
	key(t, ctx, "j")
	if !eval[bool](t, ctx, `document.querySelectorAll("#risk-table tbody tr")[1].classList.contains("sel")`) {
		t.Error("j j did not select the second row")
	}
	screenshot(t, ctx, "server-risks.png")
	key(t, ctx, "k")

	// The filter form: choosing a tier swaps the table through htmx (the
	// page is not reloaded: a marker set on window survives) and pushes
	// the URL.
	eval[bool](t, ctx, `document.activeElement.blur(); window.__marker = 1; true`)
	run(t, ctx, chromedp.SetValue(chromedp.CSS("#f-tier"), "immediate"))
	eval[bool](t, ctx, `document.getElementById("f-tier").dispatchEvent(new Event("change", {bubbles: true})); true`)
	waitFor(t, ctx, "the filtered table", `location.search.includes("tier=immediate")`)
	waitFor(t, ctx, "the swap", `[...document.querySelectorAll("#risk-table tbody tr .badge")].every(b => b.textContent === "Immediate")`)
	if !eval[bool](t, ctx, `window.__marker === 1`) {
		t.Error("the filter reloaded the page instead of swapping the table")
	}
	filtered := eval[int](t, ctx, `document.querySelectorAll("#risk-table tbody tr").length`)
	if filtered == 0 || filtered >= rows {
		t.Errorf("tier filter: %d rows of %d", filtered, rows)
	}
	// Searching narrows to log4j, after the typing pause.
	run(t, ctx, chromedp.Click(chromedp.CSS("#f-q")), chromedp.SendKeys(chromedp.CSS("#f-q"), "log4j"))
	waitFor(t, ctx, "the search swap", `location.search === "?tier=immediate&q=log4j"`)
	waitFor(t, ctx, "log4j rows only", `[...document.querySelectorAll("#risk-table tbody tr td.vuln a")].every(a => a.textContent === "CVE-2021-44228")`)

	// j selects the first row, Enter opens it: the finding page.
	eval[bool](t, ctx, `document.activeElement.blur(); true`)
	key(t, ctx, "j")
	if !eval[bool](t, ctx, `document.querySelector("#risk-table tbody tr").classList.contains("sel")`) {
		t.Error("j did not select the first row")
	}
	key(t, ctx, "\r")
	waitFor(t, ctx, "the finding page", `location.pathname.startsWith("/risks/r-") && !!document.getElementById("inputs")`)
	body = text(t, ctx)
	for _, want := range []string{"CVE-2021-44228", "Exploitation", "System Exposure", "Automatable", "Human Impact", "Deployer row", "Every occurrence", "prod-us", "pid 4711 (java)"} {
		if !strings.Contains(body, want) {
			t.Errorf("finding page: missing %q", want)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#occurrence-table tbody tr").length`); n != 2 {
		t.Errorf("finding page: %d occurrences, want 2 (one per cluster)", n)
	}
	if !eval[bool](t, ctx, `document.querySelector("#occurrence-table tr.current").getAttribute("data-href") === location.pathname`) {
		t.Error("finding page: its own occurrence is not marked")
	}
	screenshot(t, ctx, "server-finding.png")

	// The workload and image pages, and the help overlay.
	run(t, ctx, chromedp.Navigate(base+workloadURL(log4j.Cluster, log4j.Namespace, log4j.Workload)), chromedp.WaitVisible(chromedp.CSS("#exposure")))
	if b := text(t, ctx); !strings.Contains(b, "shop.example.com") || !strings.Contains(b, "CVE-2021-44228") {
		t.Error("workload page: missing its exposure path or its risks")
	}
	key(t, ctx, "?")
	if !eval[bool](t, ctx, `document.getElementById("help").open`) {
		t.Error("? did not open the help")
	}
	run(t, ctx, chromedp.Navigate(base+imageURL(log4j.Image)), chromedp.WaitVisible(chromedp.CSS("#findings")))
	if b := text(t, ctx); !strings.Contains(b, "registry.example.com/shop/web:2.4.1") || !strings.Contains(b, "Where it runs") {
		t.Error("image page: missing its reference or where it runs")
	}
	run(t, ctx, chromedp.Navigate(base+"/actions"), chromedp.WaitVisible(chromedp.CSS("#actions")))
	if n := eval[int](t, ctx, `document.querySelectorAll("#action-table tbody tr").length`); n == 0 {
		t.Error("actions page: no actions")
	}
}

// Hostile text from a pushed result (a vulnerability id and a workload
// name that are script) shows as text on every page and never runs.
func TestBrowserHostile(t *testing.T) {
	ctx := browser(t)
	s := seed(t, true)
	base := s.server(t)
	h := riskOf(t, s.eu, hostile, "shop")
	for _, path := range []string{"/", "/risks", "/risks?q=" + url.QueryEscape("<script>"), riskURL(h.ID), workloadURL(h.Cluster, h.Namespace, h.Workload), imageURL(h.Image), "/actions", "/changes?since=7d"} {
		run(t, ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main")))
		if eval[bool](t, ctx, `window.__pwned !== undefined`) {
			t.Fatalf("%s: hostile text ran", path)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("main script, main img").length`); n != 0 {
			t.Errorf("%s: %d script or img elements made from the text", path, n)
		}
		if path != "/" && path != "/actions" && !strings.Contains(text(t, ctx), "<script>window.__pwned=1</script>") {
			t.Errorf("%s: the hostile text is not shown as text", path)
		}
	}
}
