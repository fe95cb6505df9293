package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// ReplaceFindingsAt dates the feed's entries, and the first sight of a
// new finding, at the time given, not the clock's.
func TestReplaceFindingsAtDates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store
		storetest.Seed(t, st, 1, 4)
		d := storetest.Digest(1)
		img, err := st.Image(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		fs := slices.Clone(img.Image.Findings)
		fs[0] = match.Finding{ID: "CVE-2025-9999", Package: fs[0].Package, Severity: "CRITICAL"}
		at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
		changes, err := st.ReplaceFindingsAt(ctx, d, fs, store.DBVersion{Advisories: 1}, at)
		if err != nil || len(changes) != 2 {
			t.Fatalf("changes %+v, %v", changes, err)
		}
		feed := allChanges(t, st, store.ChangeQuery{Cause: store.CauseDBUpdate})
		if len(feed) != 2 {
			t.Fatalf("feed %+v", feed)
		}
		for _, c := range append(changes, feed...) {
			if !c.At.Equal(at) {
				t.Fatalf("change dated %v, want %v", c.At, at)
			}
		}
	})
}
