package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/rematch"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/vulndb"
)

// EnqueueDBCheck queues a look at the database directory: a new build
// is re-matched against every stored inventory. It reports false when a
// check is already waiting.
func (s *Server) EnqueueDBCheck() bool {
	if s.opts.DBDir == "" {
		return false
	}
	return s.jobs.add("db-check", s.checkDB)
}

// rematch brings the store up to the new database (rematch.Run, each
// cluster ranked again with the server's inputs), or runs
// Options.Rematch when set.
func (s *Server) rematch(ctx context.Context, old, new *vulndb.DB) error {
	if s.opts.Rematch != nil {
		return s.opts.Rematch(ctx, s.st, old, new)
	}
	rep, err := rematch.Run(ctx, s.st, old, new, rematch.Options{
		RankFor: func(ctx context.Context, cluster string) (risk.Options, error) {
			opts, _, err := s.rankOptions(ctx, cluster, prior{})
			return opts, err
		},
		Enrich: func(ctx context.Context, findings []match.Finding) { scan.Enrich(ctx, new, findings) },
		Now:    s.opts.Now,
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "re-matched", "keys", rep.Keys, "inventories", rep.Inventories, "changed", rep.Changed,
		"findings_appeared", rep.FindingsAppeared, "findings_disappeared", rep.FindingsDisappeared,
		"clusters", rep.Clusters, "risks_appeared", rep.RisksAppeared, "risks_disappeared", rep.RisksDisappeared)
	return nil
}

// currentDB is the database the watcher holds (nil before the first
// check).
func (s *Server) currentDB() *vulndb.DB {
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	return s.db
}

// closeDB releases the watched database.
func (s *Server) closeDB() {
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	if s.db != nil {
		s.db.Close()
		s.db = nil
	}
}

// sameBuild reports whether the store's findings were matched against md.
func sameBuild(v store.DBVersion, md vulndb.Metadata) bool {
	return v.BuiltAt.Equal(md.BuiltAt) && v.Advisories == md.Advisories
}

// checkDB opens the database directory; when its build differs from the
// one the store's findings were matched against, it re-matches (the
// previous build, when the watcher held one, lets the re-match look at
// the changed advisories only) and records the new version.
func (s *Server) checkDB(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.opts.DBDir, vulndb.FileName)); errors.Is(err, os.ErrNotExist) {
		s.log.WarnContext(ctx, "no vulnerability database yet", "dir", s.opts.DBDir)
		return nil
	}
	old := s.currentDB()
	stamp := stampOf(filepath.Join(s.opts.DBDir, vulndb.FileName))
	if old != nil && stamp == s.dbStamp {
		return nil
	}
	fresh, err := vulndb.Open(ctx, s.opts.DBDir)
	if err != nil {
		return fmt.Errorf("opening the vulnerability database: %w", err)
	}
	md := fresh.Metadata()
	stored, err := s.st.DBVersion(ctx)
	if err != nil {
		fresh.Close()
		return fmt.Errorf("reading the stored database version: %w", err)
	}
	if sameBuild(stored, md) {
		s.swapDB(fresh, stamp)
		return nil
	}
	start := time.Now()
	s.log.InfoContext(ctx, "vulnerability database changed: re-matching", "built", md.BuiltAt, "advisories", md.Advisories)
	err = s.rematch(ctx, old, fresh)
	s.metrics.rematchDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		fresh.Close()
		return fmt.Errorf("re-matching: %w", err)
	}
	if err := s.st.SetDBVersion(ctx, store.DBVersion{BuiltAt: md.BuiltAt, Advisories: md.Advisories}); err != nil {
		fresh.Close()
		return fmt.Errorf("recording the database version: %w", err)
	}
	s.swapDB(fresh, stamp)
	s.metrics.invalidate()
	s.log.InfoContext(ctx, "re-match done", "duration_ms", time.Since(start).Milliseconds())
	return nil
}

// swapDB makes db the watched database, closing the previous one.
func (s *Server) swapDB(db *vulndb.DB, stamp dbStamp) {
	s.dbMu.Lock()
	old := s.db
	s.db, s.dbStamp = db, stamp
	s.dbMu.Unlock()
	if old != nil && old != db {
		old.Close()
	}
}

// dbStamp tells database files apart without reading them: builds are
// written to a new file and renamed into place.
type dbStamp struct {
	size int64
	mod  time.Time
}

// stampOf returns the file's stamp (zero when it cannot be read).
func stampOf(path string) dbStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return dbStamp{}
	}
	return dbStamp{size: fi.Size(), mod: fi.ModTime()}
}
