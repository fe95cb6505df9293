package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"golang.org/x/net/html"
)

func parseHTML(t *testing.T, doc *result.Document) *html.Node {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(write(t, "html", doc)))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// findAll returns the elements under n that match.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return slices.Contains(strings.Fields(attr(n, "class")), class)
}

func byID(t *testing.T, root *html.Node, id string) *html.Node {
	t.Helper()
	found := findAll(root, func(n *html.Node) bool { return attr(n, "id") == id })
	if len(found) != 1 {
		t.Fatalf("%d elements with id %q, want 1", len(found), id)
	}
	return found[0]
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// stageValues maps a funnel's stages to the numbers they show.
func stageValues(funnel *html.Node) map[string]string {
	out := map[string]string{}
	for _, st := range findAll(funnel, func(n *html.Node) bool { return hasClass(n, "stage") }) {
		for _, v := range findAll(st, func(n *html.Node) bool { return hasClass(n, "st-num") || hasClass(n, "st-unknown") }) {
			out[attr(st, "data-stage")] = text(v)
		}
	}
	return out
}

func wantStages(f *result.RiskFunnel) map[string]string {
	n := func(p *int) string { return fmt.Sprint(*p) }
	return map[string]string{"findings": fmt.Sprint(f.Findings), "running": n(f.Running), "reachable": n(f.Reachable),
		"in-use": n(f.InUse), "urgent": fmt.Sprintf("%d / %d", f.Immediate, f.OutOfCycle)}
}

// The funnel, in total and per cluster, shows the document's numbers.
func TestHTMLFunnelNumbers(t *testing.T) {
	doc := rankedDocument()
	root := parseHTML(t, doc)
	funnels := findAll(byID(t, root, "funnel"), func(n *html.Node) bool { return hasClass(n, "funnel") })
	if len(funnels) != 3 {
		t.Fatalf("%d funnels, want the total and one per cluster", len(funnels))
	}
	if got, want := stageValues(funnels[0]), wantStages(doc.Summary.Risk); !equalMaps(got, want) {
		t.Errorf("total funnel shows %v, want %v", got, want)
	}
	for _, c := range doc.Summary.Clusters {
		box := findAll(root, func(n *html.Node) bool { return hasClass(n, "cluster-funnel") && attr(n, "data-cluster") == c.Name })
		if len(box) != 1 {
			t.Fatalf("cluster %s: %d funnels", c.Name, len(box))
		}
		if got, want := stageValues(box[0]), wantStages(c.Risk); !equalMaps(got, want) {
			t.Errorf("cluster %s funnel shows %v, want %v", c.Name, got, want)
		}
	}
	if got := text(findAll(funnels[0], func(n *html.Node) bool { return hasClass(n, "f-suppressed") })[0]); got != "1" {
		t.Errorf("suppressed shows %q, want 1", got)
	}
	cards := findAll(byID(t, root, "tiers"), func(n *html.Node) bool { return hasClass(n, "tier-card") })
	var got []string
	for _, c := range cards {
		got = append(got, attr(c, "data-tier")+" "+text(c))
	}
	want := []string{"immediate Immediate 2 findings on 3 workloads", "out-of-cycle Out-of-cycle 3 findings on 3 workloads",
		"scheduled Scheduled 3 findings on 2 workloads", "defer Defer 3 findings on 2 workloads"}
	for i := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("tier cards %q, want prefixes %q", got, want)
			break
		}
	}
	if h := text(byID(t, root, "headline")); !strings.HasPrefix(h, "5 findings need action before the next patch cycle: 2 immediate, 3 out-of-cycle.") {
		t.Errorf("headline %q", h)
	}
}

// Stages the run knows nothing of say so: no runtime evidence is
// "unknown", and an image scan has no running or reachable stage.
func TestHTMLFunnelUnknownStages(t *testing.T) {
	doc := imageScanDocument()
	root := parseHTML(t, doc)
	got := stageValues(byID(t, root, "funnel"))
	want := map[string]string{"findings": "2", "in-use": "unknown — no runtime evidence", "urgent": "1 / 0"}
	if !equalMaps(got, want) {
		t.Errorf("image scan funnel %v, want %v", got, want)
	}
	if len(findAll(root, func(n *html.Node) bool { return attr(n, "id") == "f-cluster" })) != 0 {
		t.Error("an image scan has a cluster filter")
	}
	where := findAll(root, func(n *html.Node) bool { return hasClass(n, "where") })
	if len(where) == 0 || text(where[0]) != "registry.example.com/tools/cli:1.0" {
		t.Errorf("an image scan's risk is on %q, want the image reference", text(where[0]))
	}
}

// Rows follow doc.Risks, numbered; suppressed ones sit apart with the
// reason; the first reason and the advisory link are on the row.
func TestHTMLRowsInRankOrder(t *testing.T) {
	doc := rankedDocument()
	root := parseHTML(t, doc)
	rows := findAll(byID(t, root, "risk-table"), func(n *html.Node) bool { return hasClass(n, "risk") })
	var want, got []string
	for _, r := range doc.Risks {
		if r.Suppressed == nil {
			want = append(want, fmt.Sprintf("%d %s %s %s", len(want)+1, r.Vulnerability, r.Workload, r.Reasons[0]))
		}
	}
	for _, row := range rows {
		cell := func(class string) string {
			return text(findAll(row, func(n *html.Node) bool { return hasClass(n, class) })[0])
		}
		where := findAll(row, func(n *html.Node) bool { return hasClass(n, "where") })[0]
		got = append(got, fmt.Sprintf("%s %s %s %s", cell("c-rank"), cell("vuln"), where.FirstChild.Data, cell("why")))
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	first := rows[0]
	if a := findAll(first, func(n *html.Node) bool { return n.Data == "a" }); len(a) != 1 || attr(a[0], "href") != "https://nvd.nist.gov/vuln/detail/CVE-2021-44228" {
		t.Errorf("first row's links: %v", a)
	}
	for key, want := range map[string]string{"data-cluster": "prod-eu", "data-ns": "shop", "data-tier": "immediate", "data-owner": "internal", "data-fix": "yes"} {
		if got := attr(first, key); got != want {
			t.Errorf("first row %s=%q, want %q", key, got, want)
		}
	}
	details := text(first)
	for _, want := range []string{"fix: log4j-core 2.17.1", "Exploitation active cisa, 1 Mar 2024 CISA SSVC decision", "System exposure open workload",
		"loaded", "fixed in 2.17.1", "CISA deployer v1 row 17 → immediate"} {
		if !strings.Contains(details, want) {
			t.Errorf("first row's details lack %q: %s", want, details)
		}
	}
	supp := findAll(byID(t, root, "suppressed"), func(n *html.Node) bool { return hasClass(n, "risk") })
	if len(supp) != 1 || !strings.Contains(text(supp[0]), "vex: not_affected: vulnerable_code_not_in_execute_path") {
		t.Errorf("suppressed section: %d rows", len(supp))
	}
	actions := findAll(byID(t, root, "remediation"), func(n *html.Node) bool { return hasClass(n, "action") })
	if len(actions) != 3 || !strings.Contains(text(actions[0]), "Rebuild registry.example.com/shop/api with log4j-core 2.17.1 rebuild") ||
		!strings.Contains(text(actions[2]), "external Immediate 88.0 1 CVE-2023-44487") {
		t.Errorf("remediation rows: %d, first %q", len(actions), text(actions[0]))
	}
}

const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>"'&`

// Strings from images and clusters are text, never markup: one script
// runs (ours, allowed by hash in the CSP), no element or attribute is
// injected, and a javascript: reference is not a link.
func TestHTMLEscapesHostileStrings(t *testing.T) {
	doc := rankedDocument()
	doc.Images[0].Findings[0].Summary = hostile
	doc.Images[0].Findings[0].References = []string{"javascript:alert(1)"}
	r := &doc.Risks[0]
	r.Package.Name, r.Workload, r.Namespace, r.Cluster = hostile, hostile, hostile, hostile
	r.Reasons = []string{hostile}
	r.Facts.Owner = hostile
	doc.Remediation[0].Text = hostile
	doc.Summary.Clusters[0].Name = hostile
	doc.Images = append(doc.Images, result.Incomplete(image.Descriptor{Reference: hostile}, result.StatusFailed, fmt.Errorf("%s", hostile)))
	doc.Recount()
	out := write(t, "html", doc)
	root, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	scripts := findAll(root, func(n *html.Node) bool { return n.Data == "script" })
	if len(scripts) != 1 || strings.Contains(text(scripts[0]), "alert") {
		t.Fatalf("%d scripts in the page; want only the report's own", len(scripts))
	}
	if imgs := findAll(root, func(n *html.Node) bool { return n.Data == "img" }); len(imgs) != 0 {
		t.Errorf("%d img elements injected", len(imgs))
	}
	for _, n := range findAll(root, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || strings.Contains(a.Val, "javascript:") {
				t.Errorf("<%s %s=%q> injected", n.Data, a.Key, a.Val)
			}
		}
	}
	page := text(root)
	if n := strings.Count(page, hostile); n < 8 {
		t.Errorf("the hostile string shows as text %d times, want every place (≥ 8)", n)
	}
	sum := sha256.Sum256([]byte(scripts[0].FirstChild.Data))
	csp := findAll(root, func(n *html.Node) bool { return attr(n, "http-equiv") == "Content-Security-Policy" })
	if len(csp) != 1 || !strings.Contains(attr(csp[0], "content"), "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("no CSP allowing the page's script by its hash: %v", csp)
	}
}

// The page loads nothing: no stylesheet link, no src, no url() and no
// href but the advisory links of anchors.
func TestHTMLSelfContained(t *testing.T) {
	doc := rankedDocument()
	refs := map[string]bool{}
	for _, img := range doc.Images {
		for _, f := range img.Findings {
			for _, r := range f.References {
				refs[r] = true
			}
		}
	}
	out := write(t, "html", doc)
	root, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	anchors := 0
	for _, n := range findAll(root, func(*html.Node) bool { return true }) {
		if n.Data == "link" || n.Data == "iframe" || n.Data == "object" || n.Data == "embed" {
			t.Errorf("<%s> in a self-contained page", n.Data)
		}
		for _, a := range n.Attr {
			switch {
			case a.Key == "src" || a.Key == "srcset" || a.Key == "action" || a.Key == "formaction":
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			case a.Key == "href" && (n.Data != "a" || !refs[a.Val]):
				t.Errorf("<%s href=%q> is not an advisory link", n.Data, a.Val)
			case a.Key == "href":
				anchors++
			}
		}
	}
	if anchors == 0 {
		t.Error("no advisory links")
	}
	for _, bad := range []string{"url(", "@import", "//fonts.", "<link"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("page contains %q", bad)
		}
	}
}

// A failed image or cluster puts a banner on top; a clean run has none.
func TestHTMLIncompleteBanner(t *testing.T) {
	root := parseHTML(t, rankedDocument())
	if got := text(byID(t, root, "incomplete")); !strings.HasPrefix(got, "Results incomplete: 1 image failed.") ||
		!strings.Contains(got, "registry.example.com/shop/search:3.1.0 — failed: pulling image: registry answered 401 Unauthorized") {
		t.Errorf("banner %q", got)
	}
	doc := rankedDocument()
	doc.Images = slices.DeleteFunc(doc.Images, func(img *result.Image) bool { return img.Status == result.StatusFailed })
	doc.Summary.Clusters[1].Status = result.StatusFailed
	doc.Recount()
	if got := text(byID(t, parseHTML(t, doc), "incomplete")); got != "Results incomplete: cluster prod-us could not be read. What could not be scanned is not counted below." {
		t.Errorf("banner %q", got)
	}
	doc = imageScanDocument()
	if found := findAll(parseHTML(t, doc), func(n *html.Node) bool { return attr(n, "id") == "incomplete" }); len(found) != 0 {
		t.Error("a complete scan has an incomplete banner")
	}
}

// A document never ranked lists each image's findings instead.
func TestHTMLFindingsWithoutRanking(t *testing.T) {
	root := parseHTML(t, sampleDocument())
	if found := findAll(root, func(n *html.Node) bool { return attr(n, "id") == "risks" }); len(found) != 0 {
		t.Error("unranked document has a ranked list")
	}
	var got []string
	for _, row := range findAll(byID(t, root, "findings"), func(n *html.Node) bool { return hasClass(n, "finding") }) {
		got = append(got, text(row))
	}
	want := []string{"CVE-2021-44228 org.apache.logging.log4j:log4j-core 2.14.1 CRITICAL KEV EPSS 100.0% 2.15.0", "CVE-2022-1292 libssl1.1 1.1.0l-1~deb9u5 UNKNOWN - -"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if got := text(byID(t, root, "incomplete")); !strings.Contains(got, "1 image failed") {
		t.Errorf("banner %q", got)
	}
}

// A document of 200,000 risks renders the first htmlMaxRows, says how
// many more the JSON holds, and stays small and fast.
func TestHTMLRowCap(t *testing.T) {
	if testing.Short() {
		t.Skip("large document")
	}
	doc := rankedDocument()
	base := doc.Risks[:len(doc.Risks)-1]
	risks := make([]result.Risk, 0, 200_000)
	for i := 0; len(risks) < 200_000; i++ {
		r := base[i%len(base)]
		r.Workload = fmt.Sprintf("Deployment/w%06d", i)
		risks = append(risks, r)
	}
	doc.Risks = risks
	start := time.Now()
	out := write(t, "html", doc)
	took := time.Since(start)
	t.Logf("200,000 risks: %d bytes in %v", len(out), took)
	if len(out) > 20<<20 {
		t.Errorf("page of %d MB, want < 20", len(out)>>20)
	}
	if took > 15*time.Second {
		t.Errorf("rendering took %v", took)
	}
	root, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(findAll(root, func(n *html.Node) bool { return hasClass(n, "risk") })); n != htmlMaxRows {
		t.Errorf("%d rows rendered, want %d", n, htmlMaxRows)
	}
	if got := text(byID(t, root, "rows-cap")); !strings.Contains(got, "195000 more in the JSON output") {
		t.Errorf("cap note %q", got)
	}
}

// imageScanDocument is an image scan ranked without clusters or runtime
// evidence.
func imageScanDocument() *result.Document {
	const digest = "sha256:9999999999999999999999999999999999999999999999999999999999999999"
	img := &result.Image{Target: image.Descriptor{Reference: "registry.example.com/tools/cli:1.0", Digest: digest}, Status: result.StatusScanned,
		Findings: []match.Finding{{ID: "CVE-2024-1", Package: match.PackageRef{Name: "openssl", Version: "3.0.1"}, Severity: "HIGH"},
			{ID: "CVE-2024-2", Package: match.PackageRef{Name: "zlib", Version: "1.2"}, Severity: "LOW"}}}
	doc := result.New(result.Header{Command: "scan image"}, []*result.Image{img}, nil, nil)
	doc.Risks = []result.Risk{
		{Vulnerability: "CVE-2024-1", Package: img.Findings[0].Package, Image: digest, ImageReference: img.Target.Reference,
			Tier: result.TierImmediate, Score: 90, Reasons: []string{"KEV: actively exploited"}, Runtime: result.Runtime{State: result.RuntimeUnknown}},
		{Vulnerability: "CVE-2024-2", Package: img.Findings[1].Package, Image: digest, ImageReference: img.Target.Reference,
			Tier: result.TierDefer, Score: 10, Reasons: []string{"low severity"}, Runtime: result.Runtime{State: result.RuntimeUnknown}},
	}
	doc.Summary.Risk = &result.RiskFunnel{Findings: 2, Immediate: 1, Defer: 1, Occurrences: 2}
	return doc
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
