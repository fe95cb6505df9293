package layerfs

import (
	"io/fs"
	"os"
)

// rootBackend resolves symlinks itself, one component at a time, and does
// every access through os.Root, which refuses to leave the root even if the
// tree changes between resolution and use. It is the portable fallback.
type rootBackend struct {
	r *os.Root
}

// resolve returns name with every symlink (the last one only if follow)
// replaced by its target, read as if the root were "/".
func (b *rootBackend) resolve(name string, follow bool) (string, error) {
	return resolveLinks(name, follow, b.r.Lstat, b.r.Readlink)
}

func (b *rootBackend) open(name string) (*os.File, fs.FileInfo, error) {
	p, err := b.resolve(name, true)
	if err != nil {
		return nil, nil, err
	}
	fi, err := b.r.Lstat(p)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, fi, nil
	}
	f, err := b.r.OpenFile(p, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi2, err := f.Stat()
	if err != nil || !os.SameFile(fi, fi2) {
		f.Close()
		return nil, nil, errChanged
	}
	if fi2.Mode().IsRegular() {
		if err := clearNonblock(f); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	return f, fi2, nil
}

func (b *rootBackend) stat(name string, follow bool) (fs.FileInfo, error) {
	p, err := b.resolve(name, follow)
	if err != nil {
		return nil, err
	}
	return b.r.Lstat(p)
}

func (b *rootBackend) readlink(name string) (string, error) {
	p, err := b.resolve(name, false)
	if err != nil {
		return "", err
	}
	return b.r.Readlink(p)
}

func (b *rootBackend) close() error { return b.r.Close() }
