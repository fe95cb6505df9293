package layerfs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// backend resolves paths inside a host directory with chroot semantics.
// Implementations never follow a path outside the root and never open
// devices, fifos or sockets for reading.
type backend interface {
	// open opens name (following symlinks) for reading when it is a regular
	// file or a directory; for other types f is nil and only info is set.
	open(name string) (f *os.File, info fs.FileInfo, err error)
	// stat returns name's metadata, following a final symlink if follow.
	stat(name string, follow bool) (fs.FileInfo, error)
	// readlink returns the target of the symlink name.
	readlink(name string) (string, error)
	close() error
}

// forceRootBackend makes Dir use the portable backend (tests).
var forceRootBackend bool

// Dir returns a confined, read-only view of the root filesystem at root on
// the host, for --rootfs and a live container's /proc/<pid>/root. Every
// lookup resolves symlinks as if root were "/" (absolute targets and ".."
// stay inside), so a hostile rootfs cannot make the scanner read host files.
// On Linux this uses openat2(RESOLVE_IN_ROOT); elsewhere, or when the kernel
// lacks openat2, a component-by-component resolver on os.Root.
// LayerOf always returns "" and Issues is empty.
func Dir(root string) (RootFS, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("layerfs: dir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("layerfs: dir %s: not a directory", root)
	}
	var b backend
	if !forceRootBackend {
		b, err = newNativeBackend(root)
		if err != nil {
			return nil, fmt.Errorf("layerfs: dir: %w", err)
		}
	}
	if b == nil {
		r, err := OpenRoot(root)
		if err != nil {
			return nil, fmt.Errorf("layerfs: dir: %w", err)
		}
		b = &rootBackend{r: r}
	}
	return &dirFS{b: b}, nil
}

// dirFS is the RootFS returned by Dir.
type dirFS struct {
	b backend
}

var _ RootFS = (*dirFS)(nil)
var _ fs.ReadLinkFS = (*dirFS)(nil)

func checkPath(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

func pathErr(op, name string, err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Open opens name inside the root, following symlinks inside it.
func (d *dirFS) Open(name string) (fs.File, error) {
	if err := checkPath("open", name); err != nil {
		return nil, err
	}
	f, info, err := d.b.open(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	info = renamed{info, path.Base(name)}
	if f == nil {
		return &file{SectionReader: io.NewSectionReader(emptyReaderAt{}, 0, 0), info: info}, nil
	}
	if info.IsDir() {
		return &hostDir{f: f, d: d, name: name, info: info}, nil
	}
	return &hostFile{f: f, info: info}, nil
}

// Stat returns name's metadata, following symlinks inside the root.
func (d *dirFS) Stat(name string) (fs.FileInfo, error) {
	return d.stat("stat", name, true)
}

// Lstat returns name's metadata without following a final symlink.
func (d *dirFS) Lstat(name string) (fs.FileInfo, error) {
	return d.stat("lstat", name, false)
}

func (d *dirFS) stat(op, name string, follow bool) (fs.FileInfo, error) {
	if err := checkPath(op, name); err != nil {
		return nil, err
	}
	fi, err := d.b.stat(name, follow)
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	return renamed{fi, path.Base(name)}, nil
}

// ReadDir lists a directory, sorted by name. It reads names and types with
// getdents only; an entry's Info is fetched (confined) when asked for.
func (d *dirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := d.Open(name)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	defer f.Close()
	hd, ok := f.(*hostDir)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	list, err := hd.ReadDir(-1)
	slices.SortFunc(list, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return list, err
}

// ReadLink returns the stored target of the symlink name.
func (d *dirFS) ReadLink(name string) (string, error) {
	if err := checkPath("readlink", name); err != nil {
		return "", err
	}
	t, err := d.b.readlink(name)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	return t, nil
}

// LayerOf returns "": a directory has no layers.
func (d *dirFS) LayerOf(string) string { return "" }

// Issues returns nil: a directory view skips nothing up front.
func (d *dirFS) Issues() []Issue { return nil }

// Close releases the root handle.
func (d *dirFS) Close() error { return d.b.close() }

// renamed reports a FileInfo under the name it was looked up by.
type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }

// hostFile is an open regular file. It wraps rather than embeds *os.File
// so only reading methods are reachable (no Chmod, Fd or host-path ReadDir).
type hostFile struct {
	f    *os.File
	info fs.FileInfo
}

// Stat returns the metadata captured when the file was opened.
func (f *hostFile) Stat() (fs.FileInfo, error)                { return f.info, nil }
func (f *hostFile) Read(p []byte) (int, error)                { return f.f.Read(p) }
func (f *hostFile) ReadAt(p []byte, off int64) (int, error)   { return f.f.ReadAt(p, off) }
func (f *hostFile) Seek(off int64, whence int) (int64, error) { return f.f.Seek(off, whence) }
func (f *hostFile) Close() error                              { return f.f.Close() }

// hostDir is an open directory. Its entries' Info goes back through the
// confined resolver: os.DirEntry.Info would lstat a host path by name.
type hostDir struct {
	f    *os.File
	d    *dirFS
	name string
	info fs.FileInfo
}

func (h *hostDir) Stat() (fs.FileInfo, error) { return h.info, nil }
func (h *hostDir) Close() error               { return h.f.Close() }
func (h *hostDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: h.name, Err: errIsDir}
}

// ReadDir implements fs.ReadDirFile.
func (h *hostDir) ReadDir(n int) ([]fs.DirEntry, error) {
	list, err := h.f.ReadDir(n)
	out := make([]fs.DirEntry, len(list))
	for i, e := range list {
		out[i] = &hostEntry{name: e.Name(), typ: e.Type(), d: h.d, dir: h.name}
	}
	return out, err
}

type hostEntry struct {
	name string
	typ  fs.FileMode
	d    *dirFS
	dir  string
}

func (e *hostEntry) Name() string      { return e.name }
func (e *hostEntry) IsDir() bool       { return e.typ.IsDir() }
func (e *hostEntry) Type() fs.FileMode { return e.typ }
func (e *hostEntry) String() string    { return fs.FormatDirEntry(e) }
func (e *hostEntry) Info() (fs.FileInfo, error) {
	return e.d.Lstat(path.Join(e.dir, e.name))
}
