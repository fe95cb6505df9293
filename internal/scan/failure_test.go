package scan_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/extract"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/testing/testimage"
)

// A layer that breaks mid-stream leaves a partial result: the packages read
// before the break are matched and reported, the status says partial with
// the reason, and nothing is cached, so the next scan tries again.
func TestCorruptLayerIsPartialAndNeverCached(t *testing.T) {
	f := newFixture(t, 1<<10)
	img := testimage.Image(t, "linux/amd64", baseFiles(1<<10), map[string]string{"app/big.txt": strings.Repeat("runlens ", 64<<10)})
	f.reg.Push(t, "app/broken:1", img)
	layers, _ := img.Layers()
	top, _ := layers[1].Digest()
	f.reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+top.String()) {
			return false
		}
		rc, _ := layers[1].Compressed()
		defer rc.Close()
		buf := make([]byte, 2048)
		n, _ := rc.Read(buf)
		w.Header().Set("Content-Length", "2048")
		w.WriteHeader(http.StatusOK)
		w.Write(buf[:n/2])
		return true
	})
	c, _ := cache.Open(t.TempDir())
	s := &scan.Scanner{Advisories: f.db, Cache: c, TempDir: t.TempDir()}
	ref := f.reg.Ref("app/broken:1")
	for i := range 2 {
		res := f.scan(t, s, ref)
		if res.Status != result.StatusPartial || res.Error == "" {
			t.Fatalf("scan %d: status %q error %q; want partial with a reason", i, res.Status, res.Error)
		}
		if res.Cached {
			t.Fatalf("scan %d: a partial inventory was cached", i)
		}
		if len(res.Findings) == 0 || res.PackageCount != 2 {
			t.Errorf("scan %d: %d packages, %d findings; the base layer's findings must still be reported", i, res.PackageCount, len(res.Findings))
		}
		if res.Findings == nil {
			t.Errorf("scan %d: findings is nil, want a list", i)
		}
	}
	id, _ := scan.Identity(f.scan(t, s, ref).Target)
	if _, hit, _ := c.Get(context.Background(), id, extract.Version); hit {
		t.Error("the cache holds an entry for a partial scan")
	}
}

// An image that cannot be opened is failed, with the reason and an empty
// (not null) finding list; so is a match that cannot complete.
func TestScanDigestFailures(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1<<10)
	s := &scan.Scanner{Advisories: f.db, TempDir: t.TempDir()}
	boom := errors.New("registry said no")
	res, err := s.ScanDigest(ctx, "example.test/app:1", "sha256:"+strings.Repeat("ab", 32), func(context.Context) (image.Image, error) { return nil, boom })
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != result.StatusFailed || !strings.Contains(res.Error, "registry said no") || res.Findings == nil || len(res.Findings) != 0 {
		t.Errorf("open failure: %+v", res)
	}

	// Cancelled before the open: the caller learns it was cancelled, and
	// nothing is reported as scanned.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if res, err := s.ScanDigest(cctx, "example.test/app:1", "sha256:"+strings.Repeat("ab", 32), func(ctx context.Context) (image.Image, error) { return nil, ctx.Err() }); err == nil {
		t.Errorf("cancelled scan returned %+v and no error", res)
	}

	// A source whose lookups fail makes the scan failed, not clean.
	broken := &scan.Scanner{Advisories: failingSource{}, TempDir: t.TempDir()}
	res = f.scan(t, broken, f.refA)
	if res.Status != result.StatusFailed || !strings.Contains(res.Error, "matching advisories") || len(res.Findings) != 0 {
		t.Errorf("lookup failure: status %q error %q findings %d", res.Status, res.Error, len(res.Findings))
	}
}

// failingSource stands in for an advisory store whose every lookup fails
// (a real damaged store is exercised in the vulndb tests); it is the one
// way to reach the scan's match-failure path in isolation.
type failingSource struct{}

func (failingSource) Lookup(context.Context, string, string) ([]*osv.Vulnerability, error) {
	return nil, errors.New("record 17 is unreadable")
}

// Threat data from the store reaches the findings: EPSS and KEV of the
// bundled sample's log4j advisory.
func TestThreatsReachFindings(t *testing.T) {
	res := scanSample(t)
	var got string
	for _, f := range res.Findings {
		if f.ID == "CVE-2021-44228" || strings.Contains(strings.Join(f.Aliases, " "), "CVE-2021-44228") {
			if f.KEV != nil && f.EPSS != nil && f.EPSS.Probability > 0.9 {
				got = "ok"
			}
		}
	}
	if got != "ok" {
		t.Errorf("log4shell lacks KEV and EPSS: %+v", res.Findings)
	}
}
