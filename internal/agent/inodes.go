package agent

import (
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

// maxInodeFiles bounds the owned files an inodeIndex looks at.
const maxInodeFiles = 200_000

// inodeIndex finds, in a running container's root, the file an OS
// package owns that has a given inode: a file a process maps under a path
// no package names (a hard link, a copy the runtime bind-mounted in
// place of the image's) is still the package's file when it is the same
// inode. Inode numbers are unique within one file system, and a
// container's image files (its overlay's layers) share one; only files
// of the root's own file system are indexed, so a volume's inode never
// matches. It is built on first use, once per container; safe for
// concurrent use.
type inodeIndex struct {
	once   sync.Once
	root   string
	owned  []string
	byIno  map[uint64]string
	failed bool
}

// newInodeIndex indexes the owned files of pkgs as the process pid of the
// container sees them, through procRoot/<pid>/root.
func newInodeIndex(procRoot string, pid int, pkgs []inventory.Package) *inodeIndex {
	x := &inodeIndex{root: filepath.Join(procRoot, strconv.Itoa(pid), "root")}
	for i := range pkgs {
		for _, f := range pkgs[i].Files {
			if len(x.owned) >= maxInodeFiles {
				return x
			}
			x.owned = append(x.owned, f)
		}
	}
	return x
}

// path returns the owned file with inode ino, "" when none.
func (x *inodeIndex) path(ino uint64) string {
	if x == nil || ino == 0 {
		return ""
	}
	x.once.Do(x.build)
	return x.byIno[ino]
}

func (x *inodeIndex) build() {
	root, err := layerfs.Dir(x.root)
	if err != nil {
		return // the container is gone: no match by inode
	}
	defer root.Close()
	rootInfo, err := root.Stat(".")
	if err != nil {
		return
	}
	rootDev := statOf(rootInfo.Sys()).Dev
	x.byIno = make(map[uint64]string, len(x.owned))
	for _, f := range x.owned {
		name := strings.TrimPrefix(f, "/")
		if name == "" {
			continue
		}
		fi, err := root.Lstat(name)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		st := statOf(fi.Sys())
		if st.Ino == 0 || st.Dev != rootDev {
			continue
		}
		if _, dup := x.byIno[st.Ino]; !dup {
			x.byIno[st.Ino] = f
		}
	}
}

// statOf returns fi.Sys()'s stat, zero when there is none.
func statOf(sys any) syscall.Stat_t {
	if st, ok := sys.(*syscall.Stat_t); ok && st != nil {
		return *st
	}
	return syscall.Stat_t{}
}
