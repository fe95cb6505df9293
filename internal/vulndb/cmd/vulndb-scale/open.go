package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runlens/runlens/internal/vulndb"
)

// markerFile is the verified marker Open writes beside the database.
const markerFile = vulndb.FileName + ".verified"

// openCost measures vulndb.Open, runs times each: with the verified marker
// removed before every open (the checksums of every index are computed,
// what the first open of a new database pays, and every open when the
// directory is read-only), with the marker in place (what later opens
// pay), and cold: the file evicted from the page cache first (only this
// file, with posix_fadvise), then opened without a marker. Only the public
// API is used, so the same step measures an older runlens for comparison.
func openCost(ctx context.Context, dbDir string, runs int) (any, error) {
	path := filepath.Join(dbDir, vulndb.FileName)
	open := func() (time.Duration, error) {
		t0 := time.Now()
		db, err := vulndb.Open(ctx, dbDir)
		d := time.Since(t0)
		if err != nil {
			return 0, err
		}
		return d, db.Close()
	}
	removeMarker := func() error {
		if err := os.Remove(filepath.Join(dbDir, markerFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	evict := func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
	modes := []struct {
		name   string
		before func() error
	}{
		{"no_marker", removeMarker},
		{"marker", func() error { return nil }},
		{"cold_no_marker", func() error {
			if err := removeMarker(); err != nil {
				return err
			}
			return evict()
		}},
	}
	out := map[string]any{"runs": runs}
	for _, m := range modes {
		var ds []time.Duration
		for range runs {
			if err := m.before(); err != nil {
				return nil, fmt.Errorf("%s: %w", m.name, err)
			}
			d, err := open()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.name, err)
			}
			ds = append(ds, d)
		}
		slices.Sort(ds)
		out[m.name+"_median_ms"] = ds[len(ds)/2].Seconds() * 1000
		out[m.name+"_max_ms"] = ds[len(ds)-1].Seconds() * 1000
	}
	_, err := os.Stat(filepath.Join(dbDir, markerFile))
	out["marker_written"] = err == nil
	return out, nil
}
