package procscan

import (
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/runlens/runlens/internal/agent/elfnote"
	"github.com/runlens/runlens/internal/layerfs"
)

// maxBuildIDs bounds a BuildIDCache; past it, it starts again empty.
const maxBuildIDs = 1 << 16

// BuildIDCache remembers the GNU build ID of each executable file mapped
// into a process, by the device and inode its maps line names, so a file
// mapped by many processes (libc) is read once. The zero value is ready;
// safe for concurrent use.
type BuildIDCache struct {
	mu  sync.Mutex
	ids map[fileKey]string
}

func (c *BuildIDCache) get(k fileKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[k]
	return id, ok
}

func (c *BuildIDCache) put(k fileKey, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids) >= maxBuildIDs {
		c.ids = map[fileKey]string{}
	}
	c.ids[k] = id
}

// readBuildIDs fills the build IDs of the process's executable mappings.
// Files are read through the process's root with symlinks resolved
// inside it (a container's absolute links never reach the node's files),
// and only regular files are opened; one that cannot be read, or is no
// ELF with a build ID, gets none, and is not tried again.
func (r *processReader) readBuildIDs() {
	c := r.opts.BuildIDs
	var root layerfs.RootFS
	defer func() {
		if root != nil {
			root.Close()
		}
	}()
	for i := range r.proc.Maps {
		m := &r.proc.Maps[i]
		if !m.Exec || m.Deleted || m.Path == "" {
			continue
		}
		k := fileKey{dev: m.Dev, inode: m.Inode}
		if id, ok := c.get(k); ok {
			m.BuildID = id
			continue
		}
		if root == nil {
			var err error
			if root, err = layerfs.Dir(filepath.Join(r.dir, "root")); err != nil {
				return // gone, or its root not readable: no build IDs
			}
		}
		id := buildIDAt(root, m.Path)
		c.put(k, id)
		m.BuildID = id
	}
}

// buildIDAt reads the build ID of the file at path in root, "" if none.
func buildIDAt(root layerfs.RootFS, path string) string {
	if !strings.HasPrefix(path, "/") {
		return ""
	}
	f, err := root.Open(path[1:])
	if err != nil {
		return ""
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return ""
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	id, err := elfnote.BuildID(ra)
	if err != nil {
		return ""
	}
	return id
}
