package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// items is a page of a list the server pages.
type items[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

func TestServerReadEndpoints(t *testing.T) {
	seeded(t, 10, func(t *testing.T, e *env) {
		var clusters items[store.ClusterInfo]
		e.get("/api/v1/clusters", &clusters)
		if len(clusters.Items) != 2 || clusters.Items[0].Name != "c0" || clusters.Items[1].Name != "c1" || clusters.Items[0].Workloads != 10 {
			t.Fatalf("clusters: %+v", clusters.Items)
		}
		var c0 store.ClusterInfo
		e.get("/api/v1/clusters/c0", &c0)
		if c0.Name != "c0" || c0.LastScanID == 0 {
			t.Errorf("cluster c0: %+v", c0)
		}
		code, b := e.read("GET", "/api/v1/clusters/nope", e.admin, nil)
		wantError(t, "unknown cluster", code, b, http.StatusNotFound)
		var scans items[store.ScanInfo]
		e.get("/api/v1/clusters/c0/scans", &scans)
		if len(scans.Items) != 1 || scans.Items[0].Cluster != "c0" || scans.Items[0].Source != "push:test" {
			t.Errorf("scans of c0: %+v", scans.Items)
		}

		var wls items[result.Workload]
		e.get("/api/v1/workloads?cluster=c0", &wls)
		if len(wls.Items) != 10 {
			t.Fatalf("workloads of c0: %d, want 10", len(wls.Items))
		}
		for _, w := range wls.Items {
			if w.Cluster != "c0" {
				t.Errorf("workload %s in ?cluster=c0", w.Ref())
			}
		}
		e.get("/api/v1/workloads?cluster=c0&namespace=ns1", &wls)
		if len(wls.Items) != 2 || wls.Items[0].Namespace != "ns1" {
			t.Errorf("workloads of c0/ns1: %+v", wls.Items)
		}
		var wd workloadDetail
		e.get("/api/v1/workloads/c0/ns0/Deployment/app0", &wd)
		if wd.Workload.Name != "app0" || len(wd.Risks) == 0 {
			t.Fatalf("workload app0: %s with %d risks", wd.Workload.Ref(), len(wd.Risks))
		}
		for _, r := range wd.Risks {
			if r.Cluster != "c0" || r.Namespace != "ns0" || r.Workload != "Deployment/app0" {
				t.Errorf("risk %s of %s in app0's risks", r.ID, r.WorkloadRef())
			}
		}
		code, b = e.read("GET", "/api/v1/workloads/c0/ns0/Deployment/nope", e.admin, nil)
		wantError(t, "unknown workload", code, b, http.StatusNotFound)

		var imgs items[store.ImageInfo]
		e.get("/api/v1/images", &imgs)
		if len(imgs.Items) != 6 { // 10/2+1 test images, each running somewhere
			t.Errorf("images: %d, want 6", len(imgs.Items))
		}
		var img store.ImageDetail
		e.get("/api/v1/images/"+storetest.Digest(0), &img)
		if img.Digest != storetest.Digest(0) || img.Image == nil || len(img.Image.Findings) != 4 {
			t.Errorf("image 0: %s with %v", img.Digest, img.Image)
		}
		code, b = e.read("GET", "/api/v1/images/sha256:0000", e.admin, nil)
		wantError(t, "unknown image", code, b, http.StatusNotFound)

		var pkgs items[packageUse]
		e.get("/api/v1/packages?name=lodash", &pkgs)
		if len(pkgs.Items) != 3 { // images 0, 2, 4
			t.Errorf("lodash runs in %d images, want 3: %+v", len(pkgs.Items), pkgs.Items)
		}
		for _, p := range pkgs.Items {
			if !slices.Equal(p.Versions, []string{"4.17.20"}) || len(p.RunningIn) == 0 {
				t.Errorf("lodash in %s: %+v", p.Digest, p)
			}
		}
		for _, eco := range []string{"", "Debian", "Debian:12"} {
			e.get("/api/v1/packages?name=openssl&ecosystem="+url.QueryEscape(eco), &pkgs)
			if len(pkgs.Items) != 6 || pkgs.Items[0].Ecosystem != "Debian:12" {
				t.Errorf("openssl (a source package) in ecosystem %q: %d images, want 6", eco, len(pkgs.Items))
			}
		}
		e.get("/api/v1/packages?name=openssl&ecosystem=npm", &pkgs)
		if len(pkgs.Items) != 0 {
			t.Errorf("openssl in npm: %d images", len(pkgs.Items))
		}
		code, b = e.read("GET", "/api/v1/packages", e.admin, nil)
		wantError(t, "packages without a name", code, b, http.StatusBadRequest)

		var fs items[imageFinding]
		e.get("/api/v1/findings?image="+storetest.Digest(1), &fs)
		if len(fs.Items) != 4 {
			t.Errorf("findings of image 1: %d, want 4", len(fs.Items))
		}
		vuln := fs.Items[0].Finding.ID
		e.get("/api/v1/findings?vulnerability="+vuln, &fs)
		if len(fs.Items) == 0 {
			t.Errorf("no finding of %s", vuln)
		}
		for _, f := range fs.Items {
			if f.Finding.ID != vuln || f.Reference == "" {
				t.Errorf("finding %s of %q in ?vulnerability=%s", f.Finding.ID, f.Reference, vuln)
			}
		}
		code, b = e.read("GET", "/api/v1/findings", e.admin, nil)
		wantError(t, "findings without a filter", code, b, http.StatusBadRequest)

		var f result.RiskFunnel
		e.get("/api/v1/funnel?cluster=c0", &f)
		if f.Occurrences == 0 || f.Findings == 0 {
			t.Errorf("funnel of c0: %+v", f)
		}
		var rem items[clusterAction]
		e.get("/api/v1/remediation?cluster=c0", &rem)
		if len(rem.Items) == 0 || rem.Items[0].Cluster != "c0" {
			t.Errorf("remediation of c0: %d actions", len(rem.Items))
		}
		var acts []clusterAction
		for cursor := ""; ; {
			rem = items[clusterAction]{}
			e.get("/api/v1/remediation?limit=3&cursor="+url.QueryEscape(cursor), &rem)
			acts = append(acts, rem.Items...)
			if cursor = rem.Next; cursor == "" {
				break
			}
		}
		for i := 1; i < len(acts); i++ {
			a, b := acts[i-1], acts[i]
			if result.TierRank(a.Tier) > result.TierRank(b.Tier) || (a.Tier == b.Tier && a.Risk < b.Risk) {
				t.Errorf("remediation out of order at %d", i)
			}
		}
		if len(acts) <= len(rem.Items) {
			t.Errorf("remediation of both clusters: %d actions", len(acts))
		}
		code, b = e.read("GET", "/api/v1/remediation?cluster=nope", e.admin, nil)
		wantError(t, "remediation of an unknown cluster", code, b, http.StatusNotFound)
		var ch store.ChangePage
		e.get("/api/v1/changes?since="+url.QueryEscape(storetest.SeedTime.Add(-time.Hour).Format(time.RFC3339)), &ch)
		if len(ch.Changes) == 0 || ch.Changes[0].Kind != store.ChangeAppeared {
			t.Errorf("changes since the seed: %+v", ch.Changes)
		}
		e.get("/api/v1/changes?since=2h&cluster=c1", &ch)
		for _, c := range ch.Changes {
			if c.Cluster != "c1" && c.Cluster != "" {
				t.Errorf("change of %s in ?cluster=c1", c.Cluster)
			}
		}
		code, b = e.read("GET", "/api/v1/changes?since=yesterday", e.admin, nil)
		wantError(t, "bad since", code, b, http.StatusBadRequest)

		var db dbInfo
		e.get("/api/v1/db", &db)
		for _, p := range []string{"/healthz", "/readyz"} {
			if code, b := e.read("GET", p, "", nil); code != http.StatusOK {
				t.Errorf("%s: %d %s", p, code, b)
			}
		}
		// A new scan of c0 gives its new actions (no stale cache).
		if code, b := e.push("c0", e.admin, storetest.Document("c0", 2, storetest.DocOptions{Variant: 1})); code != http.StatusOK {
			t.Fatalf("push: %d %s", code, b)
		}
		rem = items[clusterAction]{}
		e.get("/api/v1/remediation?cluster=c0&limit=1000", &rem)
		if len(rem.Items) == 0 {
			t.Error("no remediation after the new scan")
		}
		for _, a := range rem.Items {
			for _, w := range a.Workloads {
				if w != "c0/ns0/Deployment/app0" && w != "c0/ns1/Deployment/app1" {
					t.Errorf("after the new scan, an action still names %s", w)
				}
			}
		}

	})
}

func TestServerRiskDetailAndExplain(t *testing.T) {
	seeded(t, 6, func(t *testing.T, e *env) {
		var p store.RiskPage
		e.get("/api/v1/risks?cluster=c0&limit=1", &p)
		if len(p.Risks) != 1 {
			t.Fatalf("risks: %d", len(p.Risks))
		}
		id := p.Risks[0].ID
		var r result.Risk
		e.get("/api/v1/risks/"+id, &r)
		if r.ID != id || r.Vulnerability != p.Risks[0].Vulnerability {
			t.Errorf("risk %s: %+v", id, r)
		}
		code, b := e.read("GET", "/api/v1/risks/"+id+"/explain", e.admin, nil)
		text := string(b)
		if code != http.StatusOK || !strings.HasPrefix(text, id+"  "+r.Vulnerability) || !strings.Contains(text, "Decision:") || !strings.Contains(text, "Exploitation") {
			t.Errorf("explain %s: %d\n%s", id, code, text)
		}
		// The basis of each input is derived again (JSON keeps none).
		if !strings.Contains(text, "exposure") || strings.Count(text, "  -\n") >= 4 {
			t.Errorf("explain %s gives no basis:\n%s", id, text)
		}
		code, b = e.read("GET", "/api/v1/risks/r-nope", e.admin, nil)
		wantError(t, "unknown risk", code, b, http.StatusNotFound)
		code, b = e.read("GET", "/api/v1/risks/r-nope/explain", e.admin, nil)
		wantError(t, "explaining an unknown risk", code, b, http.StatusNotFound)
	})
}

// TestServerRiskFilters checks every filter of /api/v1/risks keeps only
// what it names, and finds some.
func TestServerRiskFilters(t *testing.T) {
	seeded(t, 10, func(t *testing.T, e *env) {
		all := e.allRisks("suppressed=true", 1000)
		if len(all) == 0 {
			t.Fatal("no risks")
		}
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			if result.TierRank(a.Tier) > result.TierRank(b.Tier) || (a.Tier == b.Tier && a.Score < b.Score) {
				t.Fatalf("risks out of order at %d: %s %.1f then %s %.1f", i, a.Tier, a.Score, b.Tier, b.Score)
			}
		}
		some := all[len(all)/2]
		fixed, tiers := "", map[string]bool{}
		for _, r := range all {
			tiers[r.Tier] = true
			if fixed == "" && r.FixedVersion != "" {
				fixed = r.Vulnerability
			}
		}
		tier := some.Tier
		for _, tc := range []struct {
			query string
			keep  func(r store.RiskRow) bool
		}{
			{"cluster=c1", func(r store.RiskRow) bool { return r.Cluster == "c1" }},
			{"namespace=ns2", func(r store.RiskRow) bool { return r.Namespace == "ns2" }},
			{"workload=" + url.QueryEscape(some.Workload), func(r store.RiskRow) bool { return r.Workload == some.Workload }},
			{"tier=" + tier, func(r store.RiskRow) bool { return r.Tier == tier }},
			{"min_tier=" + tier, func(r store.RiskRow) bool { return result.TierRank(r.Tier) <= result.TierRank(tier) }},
			{"owner=" + some.Owner, func(r store.RiskRow) bool { return r.Owner == some.Owner }},
			{"fix=available", func(r store.RiskRow) bool { return r.FixedVersion != "" }},
			{"fix=none", func(r store.RiskRow) bool { return r.FixedVersion == "" }},
			{"image=" + url.QueryEscape(some.Image), func(r store.RiskRow) bool { return r.Image == some.Image }},
			{"vulnerability=" + some.Vulnerability, func(r store.RiskRow) bool { return r.Vulnerability == some.Vulnerability }},
			{"package=" + some.Package.Name, func(r store.RiskRow) bool { return r.Package.Name == some.Package.Name }},
			{"q=" + some.Vulnerability[4:], func(r store.RiskRow) bool {
				return strings.Contains(r.Vulnerability+r.Package.Name+r.ImageReference+r.Workload, some.Vulnerability[4:])
			}},
			{"new_since=" + url.QueryEscape(storetest.SeedTime.Add(-time.Minute).Format(time.RFC3339)), func(r store.RiskRow) bool {
				return r.FirstSeen.After(storetest.SeedTime.Add(-time.Minute))
			}},
			{"cluster=c0&namespace=ns1&min_tier=" + result.TierDefer, func(r store.RiskRow) bool { return r.Cluster == "c0" && r.Namespace == "ns1" }},
		} {
			got := e.allRisks(tc.query+"&suppressed=true", 7)
			want := 0
			for _, r := range all {
				if tc.keep(r) {
					want++
				}
			}
			if len(got) != want || want == 0 {
				t.Errorf("?%s: %d risks, want %d (of %d)", tc.query, len(got), want, len(all))
			}
			for _, r := range got {
				if !tc.keep(r) {
					t.Errorf("?%s kept %s (%s %s %s)", tc.query, r.ID, r.Cluster, r.Namespace, r.Workload)
					break
				}
			}
		}
		if n := len(e.allRisks("new_since=30m", 100)); n != 0 {
			t.Errorf("?new_since=30m (the seed is older): %d risks", n)
		}
		// c1 arrived a minute after c0: only its risks are new since then.
		late := e.allRisks("suppressed=true&new_since="+url.QueryEscape(storetest.SeedTime.Add(30*time.Second).Format(time.RFC3339)), 100)
		if len(late) == 0 || len(late) >= len(all) {
			t.Errorf("new since c0's ingest: %d of %d risks", len(late), len(all))
		}
		for _, r := range late {
			if r.Cluster != "c1" {
				t.Errorf("risk %s of %s is new since c0's ingest", r.ID, r.Cluster)
			}
		}
		for _, bad := range []string{"tier=urgent", "min_tier=x", "fix=maybe", "suppressed=perhaps", "limit=-1", "new_since=soon", "workload=app0"} {
			code, b := e.read("GET", "/api/v1/risks?"+bad, e.admin, nil)
			wantError(t, "?"+bad, code, b, http.StatusBadRequest)
		}
	})
}

// TestServerPaginationStable pages through risks and workloads while a
// new result arrives between pages: no row is repeated, none of those
// there from the start is skipped.
func TestServerPaginationStable(t *testing.T) {
	seeded(t, 12, func(t *testing.T, e *env) {
		before := e.allRisks("", 1000)
		var wlBefore items[result.Workload]
		e.get("/api/v1/workloads?limit=1000", &wlBefore)
		seen, seenWL := map[string]int{}, map[string]int{}
		cursor, wlCursor, risksDone := "", "", false
		for n := 0; ; n++ {
			if !risksDone {
				var p store.RiskPage
				e.get("/api/v1/risks?limit=9&cursor="+url.QueryEscape(cursor), &p)
				for _, r := range p.Risks {
					seen[r.ID]++
				}
				cursor, risksDone = p.Next, p.Next == ""
			}
			var w items[result.Workload]
			if n == 0 || wlCursor != "" {
				e.get("/api/v1/workloads?limit=5&cursor="+url.QueryEscape(wlCursor), &w)
				for _, wl := range w.Items {
					seenWL[wl.Ref()]++
				}
				wlCursor = w.Next
			}
			if n == 1 {
				// A third cluster arrives mid-listing.
				if code, b := e.push("c2", e.admin, storetest.Document("c2", 12, storetest.DocOptions{Variant: 2})); code != http.StatusOK {
					t.Fatalf("push c2: %d %s", code, b)
				}
			}
			if risksDone && wlCursor == "" {
				break
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("risk %s listed %d times", id, n)
			}
		}
		for _, r := range before {
			if seen[r.ID] == 0 {
				t.Errorf("risk %s, there before the listing began, was skipped", r.ID)
			}
		}
		for ref, n := range seenWL {
			if n > 1 {
				t.Errorf("workload %s listed %d times", ref, n)
			}
		}
		for _, w := range wlBefore.Items {
			if seenWL[w.Ref()] == 0 {
				t.Errorf("workload %s was skipped", w.Ref())
			}
		}
		if len(seen) <= len(before) {
			t.Errorf("the listing saw %d risks, the seed alone has %d: c2's later ones never showed", len(seen), len(before))
		}
		code, b := e.read("GET", "/api/v1/workloads?cursor=!!!", e.admin, nil)
		wantError(t, "bad cursor", code, b, http.StatusBadRequest)
	})
}
