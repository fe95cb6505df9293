package report

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	browsertest "github.com/runlens/runlens/internal/testing/browser"
)

// browser starts a headless Chromium with a fresh profile and returns a
// context of one tab, cancelled with the test.
func browser(t *testing.T) context.Context { return browsertest.New(t, 1360, 900, 30*time.Second) }

// The report opened from a file in a real browser shows the funnel's
// numbers and the ranked risks in order, its filters hide rows, hostile
// text from images never runs, and it makes the screenshot in docs.
func TestHTMLInBrowser(t *testing.T) {
	ctx := browser(t)
	doc := rankedDocument()
	// A hostile summary: were it not escaped, it would set __pwned.
	doc.Images[0].Findings[0].Summary = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, write(t, "html", doc), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.ID("risk-table"))); err != nil {
		t.Fatal(err)
	}
	stages := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll("#funnel > .funnel .stage")].map(s =>
		[s.dataset.stage, s.querySelector(".st-value").textContent.trim()]))`)
	vulns := eval[[]string](t, ctx, `[...document.querySelectorAll("#risk-table tbody.risk:not([hidden]) td.vuln")].map(td => td.textContent.trim())`)
	allVisible := eval[int](t, ctx, `document.querySelectorAll("#risk-table tbody.risk:not([hidden])").length`)
	pwned := eval[bool](t, ctx, `window.__pwned !== undefined`)
	shownAsText := eval[bool](t, ctx, `document.body.textContent.includes("<script>window.__pwned=1</script>")`)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("f-tier"), "immediate")); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, `document.getElementById("f-tier").dispatchEvent(new Event("change"))`)
	immVisible := eval[int](t, ctx, `document.querySelectorAll("#risk-table tbody.risk:not([hidden])").length`)
	countText := eval[string](t, ctx, `document.getElementById("f-count").textContent`)
	activeText := eval[string](t, ctx, `document.getElementById("f-active").textContent`)
	// Search narrows further, over the rows' details too.
	eval[bool](t, ctx, `const q = document.getElementById("f-q"); q.value = "log4j"; q.dispatchEvent(new Event("input"))`)
	searched := eval[[]string](t, ctx, `[...document.querySelectorAll("#risk-table tbody.risk:not([hidden]) td.where")].map(td => td.textContent.trim())`)
	eval[bool](t, ctx, `document.getElementById("f-clear").click(); true`)
	cleared := eval[int](t, ctx, `document.querySelectorAll("#risk-table tbody.risk:not([hidden])").length`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#risk-table tbody.risk tr.main"))); err != nil {
		t.Fatal(err)
	}
	expanded := eval[bool](t, ctx, `!document.querySelector("#risk-table tbody.risk tr.detail").hidden`)
	// A tier card filters the list to its tier.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.tier-card[data-tier="defer"]`))); err != nil {
		t.Fatal(err)
	}
	deferTiers := eval[[]string](t, ctx, `[...document.querySelectorAll("#risk-table tbody.risk:not([hidden])")].map(r => r.dataset.tier)`)

	for key, want := range map[string]string{"findings": "12 100%", "running": "12 100%", "reachable": "10 83%",
		"in-use": "9 75%", "urgent": "2 / 3 42%"} {
		if got := strings.Join(strings.Fields(stages[key]), " "); got != want {
			t.Errorf("funnel stage %s shows %q, want %q", key, got, want)
		}
	}
	wantFirst := []string{"CVE-2021-44228", "CVE-2021-44228", "CVE-2023-44487", "CVE-2023-38545"}
	if len(vulns) < len(wantFirst) || !slices.Equal(vulns[:len(wantFirst)], wantFirst) {
		t.Errorf("first rows %v, want %v", vulns, wantFirst)
	}
	if allVisible != 12 {
		t.Errorf("%d rows visible before filtering, want 12 (the unsuppressed risks)", allVisible)
	}
	if immVisible != 3 {
		t.Errorf("%d rows visible with tier immediate, want 3", immVisible)
	}
	if !strings.Contains(countText, "Showing 3 of 12") || !strings.Contains(activeText, "tier: immediate") {
		t.Errorf("filter state says %q / %q", countText, activeText)
	}
	if want := []string{"Deployment/apiprod-eu / shop", "Deployment/apiprod-us / shop"}; !slices.Equal(searched, want) {
		t.Errorf("immediate rows matching log4j: %q, want %q", searched, want)
	}
	if !slices.Equal(deferTiers, []string{"defer", "defer", "defer"}) {
		t.Errorf("after clicking the defer card the rows are %q", deferTiers)
	}
	if !expanded {
		t.Error("clicking the first row did not show its details")
	}
	if cleared != 12 {
		t.Errorf("%d rows visible after Clear, want 12", cleared)
	}
	if pwned || !shownAsText {
		t.Errorf("a finding's summary with a script: ran %v, shown as text %v", pwned, shownAsText)
	}

	if err := os.WriteFile(filepath.Join(dir, "report.jpg"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("RUNLENS_UPDATE_SCREENSHOT") == "1" {
		writeScreenshot(t, ctx, page)
	}
}

// writeScreenshot saves the report as it first opens, one risk's details
// expanded, to docs/report-html.png.
func writeScreenshot(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+page),
		chromedp.WaitVisible(chromedp.ID("risk-table")),
		chromedp.Click(chromedp.CSS("#risk-table tbody.risk tr.main")),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, paletted(img)); err != nil {
		t.Fatal(err)
	}
	t.Logf("docs/report-html.png: %d bytes", buf.Len())
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "report-html.png"), buf.Bytes(), 0o644); err != nil {
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

// paletted maps img onto its 256 most frequent colours (each pixel to the
// nearest): a page of flat colours and anti-aliased text loses nothing
// visible and the PNG shrinks to a third.
func paletted(img image.Image) *image.Paletted {
	b := img.Bounds()
	freq := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			freq[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colours := make([]color.RGBA, 0, len(freq))
	for c := range freq {
		colours = append(colours, c)
	}
	slices.SortFunc(colours, func(a, b color.RGBA) int { return freq[b] - freq[a] })
	pal := make(color.Palette, 0, 256)
	for _, c := range colours[:min(256, len(colours))] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	index := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}
