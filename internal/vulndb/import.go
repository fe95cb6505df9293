package vulndb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"
)

// tempPrefix names every file an import leaves behind if it is killed;
// the next import (holding the lock) removes them.
const tempPrefix = FileName + ".tmp-"

const lockName = FileName + ".lock"

// maxRecordBytes is the default cap on one OSV record, checked before decoding.
const maxRecordBytes = 4 << 20

// ErrCollapse is wrapped when a new database would hold far fewer advisories
// than the one it replaces; Importer.Force overrides it.
var ErrCollapse = errors.New("new vulnerability database is much smaller than the current one")

var errLocked = errors.New("locked")

// Limits bound what an import reads from untrusted sources.
type Limits struct {
	MaxRecordBytes   int64 // one OSV JSON document (default 4 MiB)
	MaxTotalBytes    int64 // uncompressed bytes over all zips of one source (default 32 GiB)
	MaxEntries       int   // entries in one zip (default 5,000,000)
	MaxDownloadBytes int64 // one HTTP download or EPSS/KEV file (default 4 GiB)
	MaxThreatBytes   int64 // decompressed EPSS CSV or KEV JSON (default 1 GiB)
}

// Importer builds a database. The zero value is ready to use.
type Importer struct {
	// Force accepts a database that collapses against the current one.
	Force bool
	// Client fetches HTTP sources (default http.DefaultClient).
	Client *http.Client
	// Header is sent with every HTTP request, e.g. mirror authorization.
	// It is never recorded in metadata or errors.
	Header http.Header
	// Limits overrides the default caps; zero fields keep their default.
	Limits Limits
	// Now stamps BuiltAt and FetchedAt (default time.Now).
	Now func() time.Time
	// Workers decode records in parallel (default GOMAXPROCS).
	Workers int
}

func (im *Importer) limits() Limits {
	l := im.Limits
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = maxRecordBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = 32 << 30
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 5_000_000
	}
	if l.MaxDownloadBytes <= 0 {
		l.MaxDownloadBytes = 4 << 30
	}
	if l.MaxThreatBytes <= 0 {
		l.MaxThreatBytes = 1 << 30
	}
	return l
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now().UTC()
	}
	return time.Now().UTC()
}

// Import builds a database in dir from sources with a zero Importer.
func Import(ctx context.Context, dir string, sources ...Source) (Metadata, error) {
	return (&Importer{}).Import(ctx, dir, sources...)
}

// Import builds a new database from sources alone (it does not merge with
// the current one) and swaps it in atomically: it writes a temp file in dir,
// fsyncs it, reopens and verifies it, and renames it over the live file
// under an exclusive lock. Readers that have the old file open keep it. On
// any error the current database is left untouched.
func (im *Importer) Import(ctx context.Context, dir string, sources ...Source) (Metadata, error) {
	if len(sources) == 0 {
		return Metadata{}, errors.New("import: no sources given")
	}
	unlock, prev, err := beginSwap(ctx, dir)
	if err != nil {
		return Metadata{}, fmt.Errorf("import: %w", err)
	}
	defer unlock()

	tmp, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return Metadata{}, fmt.Errorf("import: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	b, err := newBuilder(im, tmp)
	if err != nil {
		return Metadata{}, err
	}
	if err := im.readSources(ctx, dir, b, sources); err != nil {
		return Metadata{}, fmt.Errorf("import: %w", err)
	}
	meta, err := b.finish(ctx)
	if err != nil {
		return Metadata{}, fmt.Errorf("import: %w", err)
	}
	if err := closeTemp(tmp); err != nil {
		return Metadata{}, fmt.Errorf("import: %w", err)
	}
	if meta.Advisories == 0 && !im.Force {
		return Metadata{}, fmt.Errorf("import: %w: no advisories were imported (%d bad records); the current database is kept", ErrCollapse, meta.Bad)
	}
	if err := im.swapIn(ctx, dir, tmp.Name(), meta, prev); err != nil {
		return Metadata{}, fmt.Errorf("import: %w", err)
	}
	done = true
	return meta, nil
}

// lockDir serializes updaters of one directory, waiting for a running one
// while honouring ctx.
func lockDir(ctx context.Context, dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := lockFile(f, true)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, errLocked) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another database update: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: makes the rename durable on crash
		d.Close()
	}
}

// closeTemp makes a finished temp database readable by other users
// (CreateTemp makes 0600; scanners may run as other users), durable, and
// closed, ready for swapIn.
func closeTemp(tmp *os.File) error {
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	return tmp.Close()
}

// openVerify maps the database file at path as a reader would; the caller
// closes both the file and the DB.
func openVerify(path string) (*os.File, *DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	data, unmap, err := mapFile(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	db, err := openMapped(path, data, unmap)
	if err != nil {
		unmap()
		f.Close()
		return nil, nil, err
	}
	return f, db, nil
}

// verifyFile reopens the written file as a reader would and checks every
// checksum, the counts and a sample of records.
func verifyFile(ctx context.Context, path string, meta Metadata) error {
	f, db, err := openVerify(path)
	if err != nil {
		return err
	}
	defer f.Close()
	defer db.Close()
	// Read, not the mapping: touching every mapped page would count the
	// whole file toward this process's RSS.
	if err := verifySections(ctx, f, db.hdr, nil); err != nil {
		return err
	}
	if db.meta.Advisories != meta.Advisories || db.pkgs.n != meta.Packages {
		return corrupt("counts differ after reopening")
	}
	step := max(1, db.ids.n/2000)
	for i := 0; i < db.ids.n; i += step {
		if _, err := db.record(i); err != nil {
			return err
		}
	}
	return nil
}

// readSources feeds every OSV record through parallel decoders into the
// builder, and EPSS/KEV into its threat rows.
func (im *Importer) readSources(ctx context.Context, dir string, b *builder, sources []Source) error {
	g, gctx := errgroup.WithContext(ctx)
	raw := make(chan rawRecord, 256)
	results := make(chan decoded, 256)
	workers := im.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g.Go(func() error {
		defer close(raw)
		emit := func(r rawRecord) error {
			select {
			case raw <- r:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		for i, s := range sources {
			info := SourceInfo{Kind: string(s.Kind), Location: redact(s.Location), FetchedAt: im.now()}
			b.addSource(info)
			rd := &reader{im: im, dir: dir, src: i, emit: emit, bad: b.badFromReader}
			var err error
			switch s.Kind {
			case KindOSVDir:
				err = rd.readDir(gctx, s.Location)
			case KindOSVZip:
				err = rd.readZip(gctx, s.Location)
			case KindOSVExport:
				err = rd.readExport(gctx, s)
			case KindEPSS:
				err = b.readEPSS(gctx, s, i)
			case KindKEV:
				err = b.readKEV(gctx, s)
			case KindNVD, KindCVE5, KindNVDAPI:
				b.metricsSource(i, s)
				mr := &metricsReader{im: im, dir: dir, src: i, emit: emit, b: b}
				err = mr.readSource(gctx, s)
			default:
				err = fmt.Errorf("unknown source kind %q", s.Kind)
			}
			if err != nil {
				return fmt.Errorf("source %s %s: %w", s.Kind, redact(s.Location), err)
			}
		}
		return nil
	})
	wg := make(chan struct{}, workers)
	for range workers {
		g.Go(func() error {
			defer func() { wg <- struct{}{} }()
			for r := range raw {
				d := b.decode(r)
				select {
				case results <- d:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		for range workers {
			<-wg
		}
		close(results)
		return nil
	})
	g.Go(func() error {
		for d := range results {
			if err := b.collect(gctx, d); err != nil {
				return err
			}
		}
		return b.flushPending(gctx)
	})
	return g.Wait()
}
