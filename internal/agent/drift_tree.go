package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/runlens/runlens/internal/agent/mountinfo"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layerfs"
)

// fileMeta is what drift compares of one file: its type and permission
// bits, size, modification time (seconds: tar headers may carry no more)
// and a symlink's target.
type fileMeta struct {
	mode   fs.FileMode
	size   int64
	mtime  int64
	target string
}

// fileSet is the regular files and symlinks of an image, by path
// relative to the root ("usr/bin/python3"), as its flattened layers have
// them. cut says the listing stopped early (a cap, a context end), so a
// path missing from it may still be the image's.
type fileSet struct {
	files map[string]fileMeta
	cut   string
}

// metaOf reads the compared fields of one entry.
func metaOf(root layerfs.RootFS, name string, info fs.FileInfo) fileMeta {
	m := fileMeta{mode: info.Mode() & (fs.ModeType | fs.ModePerm), size: info.Size(), mtime: info.ModTime().Unix()}
	if info.Mode()&fs.ModeSymlink != 0 {
		m.target, _ = root.ReadLink(name)
		m.size = 0
	}
	return m
}

// walkFn is called with each entry below the root that is not a
// directory; a directory is descended unless skip says no.
type walkFn func(name string, info fs.FileInfo) error

// errWalkCut stops a walk at a cap.
var errWalkCut = errors.New("cut")

// walk lists root depth-first, calling fn for every non-directory. It
// never follows symlinks (entries are Lstat'ed by ReadDir) and stops
// after max entries or when ctx ends, saying why.
func walk(ctx context.Context, root layerfs.RootFS, max int, skip func(string) bool, fn walkFn) (entries int, cut string, err error) {
	stack := []string{"."}
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		list, err := root.ReadDir(dir)
		if err != nil && len(list) == 0 {
			if dir == "." {
				return entries, "", err
			}
			cut = fmt.Sprintf("%s: %v", dir, err) // unreadable directory: keep going, but say so
			continue
		}
		for _, e := range list {
			if entries%256 == 0 && ctx.Err() != nil {
				return entries, "time limit reached", nil
			}
			if entries >= max {
				return entries, fmt.Sprintf("file limit (%d) reached", max), nil
			}
			entries++
			name := e.Name()
			if dir != "." {
				name = dir + "/" + name
			}
			if skip != nil && skip(name) {
				continue
			}
			if e.IsDir() {
				stack = append(stack, name)
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue // gone while listed
			}
			if err := fn(name, info); err != nil {
				return entries, "", err
			}
		}
	}
	return entries, cut, nil
}

// listImage records the regular files and symlinks of root into set.
func listImage(ctx context.Context, root layerfs.RootFS, max int, set *fileSet) {
	set.files = map[string]fileMeta{}
	_, cut, err := walk(ctx, root, max, nil, func(name string, info fs.FileInfo) error {
		if info.Mode().IsRegular() || info.Mode()&fs.ModeSymlink != 0 {
			set.files[name] = metaOf(root, name, info)
		}
		return nil
	})
	if err != nil {
		cut = err.Error()
	}
	set.cut = cut
}

// listingImage is an image whose flattened view, once the inventory has
// read it, is listed into set before it is closed: the image's file list
// costs no second read of its layers.
type listingImage struct {
	image.Image
	set *fileSet
	max int
}

// RootFS implements image.Image.
func (l listingImage) RootFS(ctx context.Context, opts layerfs.Options) (layerfs.RootFS, error) {
	root, err := l.Image.RootFS(ctx, opts)
	if root == nil {
		return nil, err
	}
	return &listingRoot{RootFS: root, ctx: ctx, set: l.set, max: l.max, partial: err}, err
}

// listingRoot lists itself into set when closed.
type listingRoot struct {
	layerfs.RootFS
	ctx     context.Context
	set     *fileSet
	max     int
	partial error
	done    bool
}

// Close implements layerfs.RootFS.
func (r *listingRoot) Close() error {
	if !r.done {
		r.done = true
		listImage(r.ctx, r.RootFS, r.max, r.set)
		if r.partial != nil && r.set.cut == "" {
			r.set.cut = "image read partly: " + r.partial.Error()
		}
	}
	return r.RootFS.Close()
}

// mount is one mount of a process's mount namespace.
type mount struct {
	// point is relative to the process's root ("proc", "etc/hosts").
	point, fstype string
}

// mountsOf reads <procRoot>/<pid>/mountinfo: the mounts below the
// process's root, the root itself left out.
func mountsOf(procRoot string, pid int) ([]mount, error) {
	f, err := os.Open(path.Join(procRoot, strconv.Itoa(pid), "mountinfo"))
	if err != nil {
		return nil, fmt.Errorf("mounts: %w", err)
	}
	defer f.Close()
	all, err := mountinfo.Read(f)
	var out []mount
	for _, m := range all {
		p := strings.Trim(path.Clean(m.Point), "/")
		if p == "" || p == "." {
			continue
		}
		out = append(out, mount{point: p, fstype: m.FSType})
	}
	if err != nil {
		return out, fmt.Errorf("mounts: %w", err)
	}
	return out, nil
}

// under reports whether name is one of points or below one.
func under(points map[string]bool, name string) bool {
	for p := name; ; {
		if points[p] {
			return true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// pseudoFS are kernel filesystems whose files are no software: the live
// inventory does not walk them.
var pseudoFS = map[string]bool{"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true, "devpts": true, "mqueue": true,
	"devtmpfs": true, "securityfs": true, "debugfs": true, "tracefs": true, "bpf": true, "pstore": true, "configfs": true, "fusectl": true, "binfmt_misc": true}

// liveImage is a container's live root read in place and confined
// (layerfs.Dir), with the mounts in hide left out, so the live inventory
// does not walk the container's /proc or /sys.
type liveImage struct {
	dir  string
	hide map[string]bool
}

// Descriptor implements image.Image.
func (l liveImage) Descriptor() image.Descriptor { return image.Descriptor{Reference: l.dir} }

// RootFS implements image.Image.
func (l liveImage) RootFS(context.Context, layerfs.Options) (layerfs.RootFS, error) {
	root, err := layerfs.Dir(l.dir)
	if err != nil {
		return nil, err
	}
	return hidingRoot{RootFS: root, hide: l.hide}, nil
}

// Close implements image.Image.
func (l liveImage) Close() error { return nil }

// hidingRoot is a RootFS without the paths in hide.
type hidingRoot struct {
	layerfs.RootFS
	hide map[string]bool
}

func (h hidingRoot) hidden(op, name string) error {
	if under(h.hide, name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

// Open implements fs.FS.
func (h hidingRoot) Open(name string) (fs.File, error) {
	if err := h.hidden("open", name); err != nil {
		return nil, err
	}
	return h.RootFS.Open(name)
}

// Stat implements fs.StatFS.
func (h hidingRoot) Stat(name string) (fs.FileInfo, error) {
	if err := h.hidden("stat", name); err != nil {
		return nil, err
	}
	return h.RootFS.Stat(name)
}

// Lstat implements layerfs.RootFS.
func (h hidingRoot) Lstat(name string) (fs.FileInfo, error) {
	if err := h.hidden("lstat", name); err != nil {
		return nil, err
	}
	return h.RootFS.Lstat(name)
}

// ReadDir implements fs.ReadDirFS, leaving hidden entries out.
func (h hidingRoot) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := h.hidden("readdir", name); err != nil {
		return nil, err
	}
	list, err := h.RootFS.ReadDir(name)
	out := list[:0]
	for _, e := range list {
		p := e.Name()
		if name != "." {
			p = name + "/" + p
		}
		if !h.hide[p] {
			out = append(out, e)
		}
	}
	return out, err
}

// ReadLink implements layerfs.RootFS.
func (h hidingRoot) ReadLink(name string) (string, error) {
	if err := h.hidden("readlink", name); err != nil {
		return "", err
	}
	return h.RootFS.ReadLink(name)
}
