package extract

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	rpmdb "github.com/erikvarga/go-rpmdb/pkg"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

// osv-scalibr's rpm extractor keeps no file lists, so the ownership step
// reads each rpm database a second time (the same reader, go-rpmdb) for the
// BaseNames, DirNames and DirIndexes tags of every header.

const (
	// rpmTimeout bounds one database read, as scalibr's does: a corrupt
	// Berkeley DB can make the reader loop.
	rpmTimeout = 5 * time.Minute
	// maxRPMListed bounds the file entries looked at in one database (every
	// listed path is a Stat in the root); a full Fedora install lists a few
	// hundred thousand.
	maxRPMListed = 5_000_000
	// maxRPMBytes bounds the file names kept from one database. Paths are
	// a directory and a base name, so a header can name many long paths in
	// few bytes.
	maxRPMBytes = 256 << 20
)

// rpmFileLists is the file lists of one rpm database, by package.
type rpmFileLists map[string][]rpmFiles

// rpmFiles is one installed header's files.
type rpmFiles struct {
	arch  string
	files []string
}

// rpmKey names a header as runlens names its package: convert prefixes the
// version with a non-zero epoch.
func rpmKey(name, version string) string { return name + "\x00" + version }

// files returns the list for p, told apart by architecture when a name and
// version is installed for several.
func (l rpmFileLists) files(p *inventory.Package) []string {
	cands := l[rpmKey(p.Name, p.Version)]
	arch := purlQualifier(p.PURL, "arch")
	for _, c := range cands {
		if c.arch == arch {
			return c.files
		}
	}
	if len(cands) == 1 {
		return cands[0].files
	}
	return nil
}

// rpmOwnership fills Files for rpm packages from the databases they were
// found in (their first location).
func rpmOwnership(ctx context.Context, root layerfs.RootFS, pkgs []inventory.Package, opts Options) []inventory.FileError {
	var errs []inventory.FileError
	dbs := map[string]rpmFileLists{}
	for i := range pkgs {
		p := &pkgs[i]
		if p.Type != "rpm" || len(p.Locations) == 0 {
			continue
		}
		if ctx.Err() != nil {
			return errs
		}
		loc := p.Locations[0]
		lists, ok := dbs[loc]
		if !ok {
			var fes []inventory.FileError
			lists, fes = readRPMFiles(ctx, root, loc, opts.MaxBinaryBytes)
			errs = append(errs, fes...)
			dbs[loc] = lists
		}
		p.Files = lists.files(p)
	}
	return errs
}

// readRPMFiles reads the file lists of the rpm database at loc (an
// image-absolute path). A database that cannot be read yields no lists and
// one FileError; a list cut at a cap is kept as far as it goes, with a
// FileError naming the package.
func readRPMFiles(ctx context.Context, root layerfs.RootFS, loc string, max int64) (rpmFileLists, []inventory.FileError) {
	fail := func(err error) (rpmFileLists, []inventory.FileError) {
		return rpmFileLists{}, []inventory.FileError{{Path: loc, Extractor: "ownership/rpm", Reason: err.Error()}}
	}
	tmp, err := os.MkdirTemp("", "runlens-rpmdb-")
	if err != nil {
		return fail(fmt.Errorf("copying the database: %w", err))
	}
	defer os.RemoveAll(tmp)
	local := filepath.Join(tmp, path.Base(loc))
	if err := copyOut(root, strings.TrimPrefix(loc, "/"), local, max); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(ctx, rpmTimeout)
	defer cancel()
	db, err := rpmdb.Open(local)
	if err != nil {
		return fail(fmt.Errorf("opening the database: %w", err))
	}
	defer db.Close()
	infos, err := db.ListPackagesWithContext(ctx)
	if err != nil {
		return fail(fmt.Errorf("reading the database: %w", err))
	}

	out := rpmFileLists{}
	var errs []inventory.FileError
	b := &rpmBudget{}
	for _, info := range infos {
		if ctx.Err() != nil {
			break
		}
		version := info.Version + "-" + info.Release
		if e := info.EpochNum(); e > 0 {
			version = strconv.Itoa(e) + ":" + version
		}
		files, cut := rpmPackageFiles(info, b, func(p string) bool { return keepOwned(root, p) })
		if cut != "" {
			errs = append(errs, inventory.FileError{Path: loc, Extractor: "ownership/rpm",
				Reason: fmt.Sprintf("package %s-%s: %s", info.Name, version, cut)})
		}
		k := rpmKey(info.Name, version)
		out[k] = append(out[k], rpmFiles{arch: info.Arch, files: files})
	}
	return out, errs
}

// rpmBudget is what one database may still cost.
type rpmBudget struct {
	listed int // entries looked at
	bytes  int // bytes of names kept
}

// rpmPackageFiles joins one header's directory and base names into the
// absolute paths keep accepts, sorted, under the per-package caps of
// ownedList and the database's budget; cut says why the list stops short.
func rpmPackageFiles(info *rpmdb.PackageInfo, b *rpmBudget, keep func(string) bool) (files []string, cut string) {
	if len(info.DirIndexes) != len(info.BaseNames) {
		return nil, fmt.Sprintf("file list inconsistent: %d base names, %d directory indexes", len(info.BaseNames), len(info.DirIndexes))
	}
	var l ownedList
	for i, base := range info.BaseNames {
		if b.listed >= maxRPMListed {
			l.cut = fmt.Sprintf("database lists more than %d files; list truncated", maxRPMListed)
			break
		}
		b.listed++
		idx := int(info.DirIndexes[i])
		if idx < 0 || idx >= len(info.DirNames) {
			return l.sorted(), fmt.Sprintf("file list inconsistent: directory index %d of %d", idx, len(info.DirNames))
		}
		dir := info.DirNames[idx]
		if len(dir)+len(base) > maxListLine {
			continue // longer than any path layerfs keeps
		}
		p := path.Clean("/" + dir + "/" + base)
		if !keep(p) {
			continue
		}
		if b.bytes+len(p) > maxRPMBytes {
			l.cut = fmt.Sprintf("database names more than %d bytes of files; list truncated", maxRPMBytes)
			break
		}
		if !l.add(p) {
			break
		}
		b.bytes += len(p)
	}
	return l.sorted(), l.cut
}

// copyOut copies the root's file name to the local path dst, refusing
// files over max bytes.
func copyOut(root layerfs.RootFS, name, dst string, max int64) error {
	f, err := root.Open(name)
	if err != nil {
		return fmt.Errorf("opening: %w", err)
	}
	defer f.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("copying the database: %w", err)
	}
	n, err := io.Copy(out, io.LimitReader(f, max+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copying the database: %w", err)
	}
	if n > max {
		return fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
	}
	return nil
}
