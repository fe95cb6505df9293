package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	browsertest "github.com/runlens/runlens/internal/testing/browser"
	"github.com/runlens/runlens/internal/webui"
)

// serverCheckCluster pushes a real cluster's scan to a runlens server
// (SQLite, the web UI mounted, a write token bound to the cluster) and
// opens the ranked risks in headless Chromium, signed in with a read
// token: the cluster's most urgent occurrence is first, with its
// workload, and the funnel counts what the scan found.
func serverCheckCluster(t *testing.T, cli *cli, scan []string, clusterName string, doc *result.Document) {
	t.Helper()
	st := storetest.SQLite(t).Store
	ts := httptest.NewServer(server.New(st, server.Options{UI: webui.New(st, webui.Options{})}).Handler())
	t.Cleanup(ts.Close)
	ctx := context.Background()
	_, push, err := server.CreateToken(ctx, st, "e2e-push", store.ScopeWriteCluster, clusterName, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, read, err := server.CreateToken(ctx, st, "e2e-read", store.ScopeRead, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(push), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := cli.run("", append(scan, "-f", "json", "-o", filepath.Join(t.TempDir(), "pushed.json"),
		"--push", ts.URL, "--push-token-file", tokenFile)...); code != exitOK {
		t.Fatalf("scan cluster --push: exit %d\n%s", code, stderr)
	}
	page, err := st.Risks(ctx, store.RiskQuery{Cluster: clusterName, Limit: 5})
	if err != nil || len(page.Risks) == 0 {
		t.Fatalf("the server holds no risks of %s: %v", clusterName, err)
	}
	top := page.Risks[0]
	want := firstUnsuppressed(doc)
	if want == nil || top.Tier != want.Tier || top.Vulnerability != want.Vulnerability {
		t.Errorf("server's first risk %s %s on %s, the CLI's %+v", top.Tier, top.Vulnerability, top.Workload, want)
	}

	bctx := browsertest.New(t, 1440, 900, 90*time.Second)
	err = chromedp.Do(bctx,
		chromedp.Navigate(ts.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="token"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), read),
		chromedp.Submit(chromedp.CSS(`input[name="token"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav`)),
		chromedp.Navigate(ts.URL+"/risks?cluster="+clusterName),
		chromedp.WaitVisible(chromedp.CSS(`table tbody tr`)),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	first, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`table tbody tr`)))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	body, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`body`)))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	name := top.Workload[strings.Index(top.Workload, "/")+1:]
	for _, s := range []string{top.Vulnerability, name, top.Package.Name} {
		if !strings.Contains(first, s) {
			t.Errorf("the first row of the ranked risks %q lacks %q", first, s)
		}
	}
	if !strings.Contains(strings.ToLower(first), top.Tier) {
		t.Errorf("the first row %q does not show tier %s", first, top.Tier)
	}
	if strings.Contains(body, push) || strings.Contains(body, read) {
		t.Error("a token shows in the page")
	}
	t.Logf("server: %d risks of %s pushed; the browser's first row: %s", len(page.Risks), clusterName, strings.Join(strings.Fields(first), " "))
}

// firstUnsuppressed is the document's most urgent risk not set aside.
func firstUnsuppressed(doc *result.Document) *result.Risk {
	for i := range doc.Risks {
		if doc.Risks[i].Suppressed == nil {
			return &doc.Risks[i]
		}
	}
	return nil
}
