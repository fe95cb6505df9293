package store_test

import (
	"slices"
	"testing"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// TestReads checks the views against the document stored: funnel and
// tier counts, images and where they run, workloads, inventories by
// package, and the latest document.
func TestReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store
		doc := storetest.Document("prod", 24, storetest.DocOptions{Images: 6})
		if _, err := st.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: doc}); err != nil {
			t.Fatal(err)
		}
		storetest.Seed(t, st, 1, 8) // cluster c0 on images 0..4

		f, err := st.Funnel(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		want := doc.Summary.Clusters[0].Risk
		if f.Findings != want.Findings || f.Occurrences != want.Occurrences || f.Immediate != want.Immediate || f.OutOfCycle != want.OutOfCycle ||
			f.Scheduled != want.Scheduled || f.Defer != want.Defer || f.Running == nil || *f.Running != *want.Running || *f.Reachable != *want.Reachable {
			t.Fatalf("funnel %+v, want %+v", f, want)
		}
		counts, err := st.TierCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byTier := map[string]int{}
		for _, r := range doc.Risks {
			byTier[r.Tier]++
		}
		if len(counts) != 2 || !mapsEqual(counts["prod"], byTier) {
			t.Fatalf("tier counts %v, want prod %v", counts, byTier)
		}

		imgs, err := st.Images(ctx)
		if err != nil || len(imgs) != 6 {
			t.Fatalf("%d images, %v", len(imgs), err)
		}
		for _, im := range imgs {
			n := 0
			for _, c := range im.Findings {
				n += c
			}
			if n != 4 || im.Packages != 4 || len(im.Clusters) == 0 || len(im.RunningIn) == 0 {
				t.Fatalf("image %+v", im)
			}
			if im.Digest == storetest.Digest(0) && !slices.Equal(im.Clusters, []string{"c0", "prod"}) {
				t.Fatalf("image 0 runs in %v", im.Clusters)
			}
		}
		ws, err := st.Workloads(ctx, "prod")
		if err != nil || len(ws) != 24 || ws[0].Namespace != "ns0" || ws[0].Exposure == nil {
			t.Fatalf("workloads %d, %v", len(ws), err)
		}
		if all, _ := st.Workloads(ctx, ""); len(all) != 32 {
			t.Fatalf("%d workloads in all clusters", len(all))
		}

		// lodash is on even images only; openssl (a source name) on all.
		digests, err := st.InventoriesWith(ctx, []store.PackageKey{store.KeyOf("npm", "Lodash")})
		if err != nil || !slices.Equal(digests, sortedDigests(0, 2, 4)) {
			t.Fatalf("inventories with lodash %v, %v", digests, err)
		}
		digests, _ = st.InventoriesWith(ctx, []store.PackageKey{store.KeyOf("Debian:12", "openssl"), store.KeyOf("PyPI", "Requests")})
		if len(digests) != 6 {
			t.Fatalf("inventories with openssl: %v", digests)
		}
		inv, err := st.Inventory(ctx, storetest.Digest(2))
		if err != nil || len(inv.Packages) != 4 || inv.Distro == nil || inv.Distro.ID != "debian" {
			t.Fatalf("inventory %+v, %v", inv, err)
		}

		if _, err := st.Image(ctx, "sha256:none"); !errorsIs(err, store.ErrNotFound) {
			t.Fatalf("unknown image: %v", err)
		}
		if _, err := st.Inventory(ctx, "sha256:none"); !errorsIs(err, store.ErrNotFound) {
			t.Fatalf("unknown inventory: %v", err)
		}
		if _, err := st.LatestDocument(ctx, "nowhere"); !errorsIs(err, store.ErrNotFound) {
			t.Fatalf("unknown cluster: %v", err)
		}
		if page, err := st.Risks(ctx, store.RiskQuery{Limit: 5000}); err != nil || len(page.Risks) != len(doc.Risks)+32 || page.Next != "" {
			t.Fatalf("one page of everything: %d risks, next %q, %v", len(page.Risks), page.Next, err)
		}
		latest, err := st.LatestDocument(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		if len(latest.Images) != 6 || len(latest.Workloads) != 24 || len(latest.Risks) != len(doc.Risks) || latest.Summary.Clusters[0].Risk == nil {
			t.Fatalf("latest document: %d images, %d workloads, %d risks", len(latest.Images), len(latest.Workloads), len(latest.Risks))
		}
		for _, img := range latest.Images {
			if len(img.Findings) != 4 || len(img.Packages) != 4 {
				t.Fatalf("latest image %s: %d findings, %d packages", img.Target.Digest, len(img.Findings), len(img.Packages))
			}
		}
	})
}

func sortedDigests(is ...int) []string {
	var out []string
	for _, i := range is {
		out = append(out, storetest.Digest(i))
	}
	slices.Sort(out)
	return out
}

func mapsEqual(a, b map[string]int) bool {
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

// TestReplaceFindings swaps one image's findings: the feed has the one
// gone and the one new, kept findings keep their first_seen.
func TestReplaceFindings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store
		storetest.Seed(t, st, 1, 4)
		d := storetest.Digest(1)
		img, err := st.Image(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		fs := slices.Clone(img.Image.Findings)
		gone := fs[0]
		fs[0] = match.Finding{ID: "CVE-2025-9999", Package: gone.Package, Severity: "CRITICAL", FixedVersions: []string{"9"}}
		changes, err := st.ReplaceFindings(ctx, d, fs, store.DBVersion{Advisories: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 2 || changes[0].Seq == 0 {
			t.Fatalf("changes %+v", changes)
		}
		feed := allChanges(t, st, store.ChangeQuery{Cause: store.CauseDBUpdate})
		kinds := map[string]string{}
		for _, c := range feed {
			kinds[c.Kind] = c.Vulnerability
		}
		if len(feed) != 2 || kinds[store.ChangeAppeared] != "CVE-2025-9999" || kinds[store.ChangeDisappeared] != gone.ID {
			t.Fatalf("feed %+v", feed)
		}
		after, _ := st.Image(ctx, d)
		if len(after.Image.Findings) != len(fs) || after.Image.Findings[0].ID != "CVE-2025-9999" {
			t.Fatalf("findings after %+v", after.Image.Findings)
		}
		if _, err := st.ReplaceFindings(ctx, "sha256:none", nil, store.DBVersion{}); err == nil {
			t.Fatal("findings of an unknown image replaced")
		}
	})
}
