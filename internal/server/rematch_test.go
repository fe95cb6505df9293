package server

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
	"github.com/runlens/runlens/internal/vulndb"
)

// lodashAdvisory is a real GitHub advisory for npm's lodash, which the
// even test images hold at 4.17.20.
const lodashAdvisory = `{"schema_version":"1.6.0","id":"GHSA-35jh-r3h4-6jhm","modified":"2026-05-01T00:00:00Z","published":"2021-02-15T00:00:00Z",
	"aliases":["CVE-2021-23337"],"summary":"Command Injection in lodash",
	"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}],
	"database_specific":{"severity":"HIGH"}}`

// The watcher's default re-match is rematch.Run: a database with the
// lodash advisory gives the images holding lodash the finding, its
// risks are ranked in every cluster running them, and the feed says the
// database update caused it.
func TestServerRematchesOnNewDB(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		storetest.Seed(t, st, 2, 10)
		dir, src := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(src, "lodash.json"), []byte(lodashAdvisory), 0o644); err != nil {
			t.Fatal(err)
		}
		built := testNow.Add(-time.Hour)
		im := &vulndb.Importer{Now: func() time.Time { return built }}
		if _, err := im.Import(context.Background(), dir, vulndb.OSVDir(src)); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, Options{DBDir: dir})
		if code, b := e.read("POST", "/api/v1/db/reload", e.admin, nil); code != http.StatusAccepted {
			t.Fatalf("reload: %d %s", code, b)
		}
		if err := e.srv.checkDB(context.Background()); err != nil {
			t.Fatal(err)
		}
		var fs items[imageFinding]
		e.get("/api/v1/findings?vulnerability=CVE-2021-23337", &fs)
		if len(fs.Items) != 3 { // images 0, 2 and 4
			t.Errorf("lodash's advisory found in %d images, want 3", len(fs.Items))
		}
		risks := e.allRisks("suppressed=true&vulnerability=CVE-2021-23337", 100)
		clusters := map[string]bool{}
		for _, r := range risks {
			clusters[r.Cluster] = true
		}
		if len(risks) == 0 || !clusters["c0"] || !clusters["c1"] {
			t.Errorf("risks of the new advisory: %d in %v", len(risks), clusters)
		}
		var ch store.ChangePage
		e.get("/api/v1/changes?since=30d&cause=db-update&kind=appeared&limit=1000", &ch)
		if len(ch.Changes) == 0 {
			t.Errorf("the feed has no db-update change")
		}
		var db dbInfo
		e.get("/api/v1/db", &db)
		if !db.Stored.BuiltAt.Equal(built) {
			t.Errorf("stored database version %v, want %v", db.Stored.BuiltAt, built)
		}
		e.srv.closeDB()
	})
}
