package layerfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"time"
)

// flatFS is the RootFS returned by Flatten. After Flatten returns, its tree
// is immutable, so all methods are safe for concurrent use.
type flatFS struct {
	t         *tree
	layers    []string
	spool     *os.File
	spoolName string
	issues    []Issue
	closeOnce sync.Once
	closeErr  error
}

var _ RootFS = (*flatFS)(nil)
var _ fs.ReadLinkFS = (*flatFS)(nil)

// lookup resolves name; follow controls the final component.
func (v *flatFS) lookup(op, name string, follow bool) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	var buf [32]*node
	mode := walkMode(0)
	if follow {
		mode = followFinal
	}
	p := name
	if p == "." {
		p = ""
	}
	stack, _, err := v.t.walk(buf[:0], p, mode)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return stack[len(stack)-1], nil
}

// Open opens name, following symlinks inside the root. Directories
// implement fs.ReadDirFile; kept regular files implement io.ReaderAt and
// io.Seeker. Regular files whose contents were not kept fail with an error
// wrapping ErrNotKept.
func (v *flatFS) Open(name string) (fs.File, error) {
	n, err := v.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	info := fileInfo{name: path.Base(name), n: n}
	switch {
	case n.isDir():
		return &dirFile{info: info}, nil
	case n.isRegular():
		if n.off < 0 {
			return nil, &fs.PathError{Op: "open", Path: name, Err: ErrNotKept}
		}
		return &file{SectionReader: io.NewSectionReader(v.spool, n.off, n.size), info: info}, nil
	default:
		// Devices, fifos, sockets: never anything to read.
		return &file{SectionReader: io.NewSectionReader(emptyReaderAt{}, 0, 0), info: info}, nil
	}
}

// Stat returns name's metadata, following symlinks.
func (v *flatFS) Stat(name string) (fs.FileInfo, error) {
	n, err := v.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: path.Base(name), n: n}, nil
}

// Lstat returns name's metadata without following a final symlink.
func (v *flatFS) Lstat(name string) (fs.FileInfo, error) {
	n, err := v.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: path.Base(name), n: n}, nil
}

// ReadDir lists the directory name (following symlinks), sorted by name.
func (v *flatFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := v.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	return entries(n), nil
}

// ReadLink returns the stored target of the symlink name.
func (v *flatFS) ReadLink(name string) (string, error) {
	n, err := v.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if !n.isSymlink() {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return n.link, nil
}

// LayerOf returns the diffID of the layer that last wrote name (not
// following a final symlink), or "".
func (v *flatFS) LayerOf(name string) string {
	n, err := v.lookup("layerof", name, false)
	if err != nil || n.layer < 0 || int(n.layer) >= len(v.layers) {
		return ""
	}
	return v.layers[n.layer]
}

// Issues returns a copy of the recorded issues.
func (v *flatFS) Issues() []Issue {
	return append([]Issue(nil), v.issues...)
}

// Close releases the spool. Files opened earlier fail to read afterwards.
func (v *flatFS) Close() error {
	v.closeOnce.Do(func() {
		if v.spool == nil {
			return
		}
		v.closeErr = v.spool.Close()
		if v.spoolName != "" {
			if err := os.Remove(v.spoolName); err != nil && v.closeErr == nil {
				v.closeErr = err
			}
		}
	})
	return v.closeErr
}

func entries(n *node) []fs.DirEntry {
	out := make([]fs.DirEntry, len(n.sorted))
	for i, c := range n.sorted {
		out[i] = (*dirEntry)(c)
	}
	return out
}

// fileInfo describes a node under the name it was looked up by.
type fileInfo struct {
	name string
	n    *node
}

func (fi fileInfo) Name() string { return fi.name }
func (fi fileInfo) Size() int64 {
	if fi.n.isSymlink() {
		return int64(len(fi.n.link))
	}
	return fi.n.size
}
func (fi fileInfo) Mode() fs.FileMode  { return fi.n.mode }
func (fi fileInfo) ModTime() time.Time { return time.Unix(fi.n.mtime, 0) }
func (fi fileInfo) IsDir() bool        { return fi.n.isDir() }
func (fi fileInfo) Sys() any           { return nil }

// dirEntry is a node seen as a directory entry; the conversion from *node
// costs no allocation.
type dirEntry node

func (d *dirEntry) Name() string               { return d.name }
func (d *dirEntry) IsDir() bool                { return (*node)(d).isDir() }
func (d *dirEntry) Type() fs.FileMode          { return d.mode.Type() }
func (d *dirEntry) Info() (fs.FileInfo, error) { return fileInfo{name: d.name, n: (*node)(d)}, nil }
func (d *dirEntry) String() string             { return fs.FormatDirEntry(d) }

// file is an open non-directory.
type file struct {
	*io.SectionReader
	info fs.FileInfo
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }

type emptyReaderAt struct{}

func (emptyReaderAt) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }

// dirFile is an open directory.
type dirFile struct {
	info fileInfo
	ents []fs.DirEntry
	pos  int
	read bool
}

var errIsDir = errors.New("is a directory")

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errIsDir}
}

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(count int) ([]fs.DirEntry, error) {
	if !d.read {
		d.read = true
		d.ents = entries(d.info.n)
	}
	rest := d.ents[d.pos:]
	if count <= 0 {
		d.pos = len(d.ents)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if count > len(rest) {
		count = len(rest)
	}
	d.pos += count
	return rest[:count:count], nil
}
