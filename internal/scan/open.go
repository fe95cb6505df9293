package scan

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/layercache"
	"github.com/runlens/runlens/internal/progress"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/vulndb"
)

// StaleAfter is the age past which every scan warns that its database is
// stale.
const StaleAfter = 7 * 24 * time.Hour

// Config is what a scan command opens its Scanner from.
type Config struct {
	// DBDir is the database directory; CacheDir holds the inventory
	// cache and, in its layers/, the layer cache.
	DBDir, CacheDir string
	// NoCache neither reads nor writes either cache.
	NoCache bool
	// MaxDBAge, when positive, refuses an older database with a
	// *vulndb.StaleError.
	MaxDBAge time.Duration
	// IncludePackages keeps the full package list in results.
	IncludePackages bool
	// Progress, if set, shows what is happening on a terminal.
	Progress *progress.Line
	// Log gets the warnings: a stale database, an unusable cache.
	Log *slog.Logger
}

// Open opens the database and the caches of cfg. It returns the Scanner,
// the database as the report's header describes it, and the closer of
// the database. A cache that cannot be opened is a warning: the scan runs
// without it.
func Open(ctx context.Context, cfg Config) (*Scanner, *result.Database, func(), error) {
	db, info, err := OpenDB(ctx, cfg.DBDir, cfg.MaxDBAge, cfg.Log)
	if err != nil {
		return nil, nil, nil, err
	}
	s := &Scanner{Advisories: db, Threats: db, IncludePackages: cfg.IncludePackages, Progress: cfg.Progress}
	if !cfg.NoCache {
		c, err := cache.Open(cfg.CacheDir)
		if err != nil {
			cfg.Log.Warn("inventory cache unavailable; scanning without it", "err", err)
		} else {
			s.Cache = c
		}
		lc, err := layercache.Open(filepath.Join(cfg.CacheDir, "layers"), layercache.Options{})
		if err != nil {
			cfg.Log.Warn("layer cache unavailable; scanning without it", "err", err)
		} else {
			s.LayerCache = lc
		}
	}
	return s, info, func() { db.Close() }, nil
}

// OpenDB opens the database in dir for a scan, refusing one older than
// maxAge (a *vulndb.StaleError) and warning loudly on log about one older
// than StaleAfter.
func OpenDB(ctx context.Context, dir string, maxAge time.Duration, log *slog.Logger) (*vulndb.DB, *result.Database, error) {
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	md := db.Metadata()
	now := time.Now()
	if err := vulndb.CheckAge(md, maxAge, now); err != nil {
		db.Close()
		return nil, nil, err
	}
	age := md.Age(now)
	if age > StaleAfter {
		log.Warn("vulnerability database is stale: findings may be missing; run: runlens db update", "age", age.Round(time.Hour).String(), "built", md.BuiltAt.UTC().Format(time.RFC3339))
	}
	info := &result.Database{BuiltAt: md.BuiltAt, AgeSeconds: int64(age.Seconds()), Advisories: md.Advisories}
	for _, s := range md.Sources {
		info.Sources = append(info.Sources, s.Kind+" "+s.Location)
	}
	return db, info, nil
}
