package store_test

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

func TestTokensDocumentsAcceptances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store
		h := sha256.Sum256([]byte("secret"))
		tok, err := st.CreateToken(ctx, store.Token{Name: "ci", Scope: store.ScopeWriteCluster, Cluster: "prod", Hash: h[:]})
		if err != nil || tok.ID == 0 {
			t.Fatalf("create token %+v, %v", tok, err)
		}
		if _, err := st.CreateToken(ctx, store.Token{Name: "dup", Scope: store.ScopeRead, Hash: h[:]}); err == nil {
			t.Fatal("two tokens with one hash")
		}
		got, err := st.Authenticate(ctx, h[:])
		if err != nil || got.ID != tok.ID || got.Cluster != "prod" || got.Scope != store.ScopeWriteCluster {
			t.Fatalf("authenticate %+v, %v", got, err)
		}
		if _, err := st.Authenticate(ctx, []byte("other")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		if err := st.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if ts, _ := st.Tokens(ctx); len(ts) != 0 {
			t.Fatalf("tokens after revoke %+v", ts)
		}
		if err := st.RevokeToken(ctx, tok.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke twice: %v", err)
		}

		for _, body := range []string{"v1", "v2"} {
			if err := st.PutDocument(ctx, store.SideDocument{Kind: store.DocEvidence, Cluster: "prod", Name: "node-1", Body: []byte(body)}); err != nil {
				t.Fatal(err)
			}
		}
		st.PutDocument(ctx, store.SideDocument{Kind: store.DocVEX, Cluster: "prod", Name: "vex.json", Body: []byte("{}")})
		docs, err := st.Documents(ctx, store.DocEvidence, "prod")
		if err != nil || len(docs) != 1 || string(docs[0].Body) != "v2" {
			t.Fatalf("documents %+v, %v", docs, err)
		}

		now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		a, err := st.Accept(ctx, store.Acceptance{Vulnerability: "CVE-2024-1", Reason: "not reachable", Expires: now.Add(time.Hour), By: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		st.Accept(ctx, store.Acceptance{Vulnerability: "CVE-2024-2", Reason: "old", Expires: now.Add(-time.Hour), By: "bob"})
		as, err := st.Acceptances(ctx, now)
		if err != nil || len(as) != 1 || as[0].ID != a.ID || as[0].By != "alice" || !as[0].Expires.Equal(now.Add(time.Hour)) {
			t.Fatalf("acceptances %+v, %v", as, err)
		}
		if err := st.Unaccept(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if as, _ := st.Acceptances(ctx, now); len(as) != 0 {
			t.Fatalf("after unaccept %+v", as)
		}

		if err := st.SetDBVersion(ctx, store.DBVersion{BuiltAt: now, Advisories: 42, Digest: "sha256:x"}); err != nil {
			t.Fatal(err)
		}
		if v, err := st.DBVersion(ctx); err != nil || v.Advisories != 42 || !v.BuiltAt.Equal(now) {
			t.Fatalf("db version %+v, %v", v, err)
		}
		if n, err := st.Size(ctx); err != nil || n <= 0 {
			t.Fatalf("size %d, %v", n, err)
		}
	})
}

// TestBackup: SQLite's backup opens as a store with the data;
// PostgreSQL's names pg_dump.
func TestBackup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		storetest.Seed(t, b.Store, 1, 10)
		path := t.TempDir() + "/backup.db"
		err := b.Store.Backup(ctx, path)
		if b.Name == "postgres" {
			if err == nil || !strings.Contains(err.Error(), "pg_dump") {
				t.Fatalf("postgres backup: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		cp, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer cp.Close()
		want := allRisks(t, b.Store, store.RiskQuery{Limit: 1000})
		if got := allRisks(t, cp, store.RiskQuery{Limit: 1000}); len(got) == 0 || len(got) != len(want) {
			t.Fatalf("backup has %d risks, want %d", len(got), len(want))
		}
	})
}

// TestPrune deletes old scans and changes but each cluster's latest
// scan, and the images no cluster runs any more.
func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 3 {
			doc := storetest.Document("prod", 10, storetest.DocOptions{Images: 4 - i, Variant: i})
			if _, err := st.IngestResult(ctx, store.Ingest{Cluster: "prod", Document: doc, At: t0.Add(time.Duration(i) * 24 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		imgs, _ := st.Images(ctx)
		if len(imgs) != 4 {
			t.Fatalf("%d images", len(imgs))
		}
		n, err := st.Prune(ctx, t0.Add(36*time.Hour))
		if err != nil || n == 0 {
			t.Fatalf("prune %d, %v", n, err)
		}
		scans, _ := st.Scans(ctx, "prod", 10)
		if len(scans) != 1 || !scans[0].At.Equal(t0.Add(48*time.Hour)) {
			t.Fatalf("scans after prune %+v", scans)
		}
		if feed := allChanges(t, st, store.ChangeQuery{}); len(feed) == 0 || !feed[len(feed)-1].At.Equal(t0.Add(48*time.Hour)) {
			t.Fatalf("feed after prune: %d changes", len(feed))
		}
		imgs, _ = st.Images(ctx)
		if len(imgs) != 2 {
			t.Fatalf("%d images after prune, want the 2 still running", len(imgs))
		}
		if _, err := st.LatestDocument(ctx, "prod"); err != nil {
			t.Fatalf("latest document after prune: %v", err)
		}
	})
}
