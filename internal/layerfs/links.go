package layerfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Alias is a path want accepts that a walk of the view does not reach as a
// regular file of its own: a file reached through a symlink, or a wanted
// path holding a fifo, device or socket.
type Alias struct {
	// Path is where an extractor looks for the file ("var/lib/dpkg/status").
	Path string
	// Target is the file's own path in the root ("opt/dpkg/status"); equal
	// to Path for a wanted path that is not a regular file.
	Target string
	// Mode is the target's mode; a non-regular type means Path cannot be
	// read and should be reported.
	Mode fs.FileMode
}

// maxAliasVisits bounds the entries Aliases looks at below symlinked
// directories, so a million symlinks to the root cost a bounded walk.
const maxAliasVisits = 1 << 20

// ErrAliasBudget is returned by Aliases (with the aliases found so far)
// when symlinked directories hold more entries than it looks at.
var ErrAliasBudget = errors.New("symlinked directories hold too many entries to search")

// Aliases walks fsys and returns the regular files want accepts only under
// a name through a symlink: a symlink to a file, or a path below a symlink
// to a directory (one level of symlinks; links below it are not followed
// again). Symlinks resolve inside the root, as every lookup in layerfs
// does, so an alias never names a host file. A file want accepts under its
// own path too is left out, since a walk finds it there (merged-/usr links
// such as lib -> usr/lib add nothing). Wanted paths that are fifos, devices
// or sockets are listed with their Mode.
func Aliases(ctx context.Context, fsys RootFS, want Want) ([]Alias, error) {
	a := &aliaser{ctx: ctx, fsys: fsys, want: want}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable directory: nothing below it to alias
		}
		if err := a.tick(); err != nil {
			return err
		}
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			return a.link(p)
		case t.IsDir() || t.IsRegular():
			return nil
		}
		if info, err := d.Info(); err == nil && want(p, info) {
			a.out = append(a.out, Alias{Path: p, Target: p, Mode: info.Mode()})
		}
		return nil
	})
	return a.out, err
}

type aliaser struct {
	ctx    context.Context
	fsys   RootFS
	want   Want
	visits int
	out    []Alias
}

// tick counts one entry looked at and checks ctx now and then.
func (a *aliaser) tick() error {
	a.visits++
	if a.visits%1024 == 0 {
		if err := a.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// link handles the symlink at p.
func (a *aliaser) link(p string) error {
	info, err := a.fsys.Stat(p)
	if err != nil {
		return nil // dangling, a loop, or pointing at nothing inside the root
	}
	real, err := RealPath(a.fsys, p)
	if err != nil {
		return nil
	}
	if !info.IsDir() {
		if a.want(p, info) && (!info.Mode().IsRegular() || !a.want(real, info)) {
			a.out = append(a.out, Alias{Path: p, Target: real, Mode: info.Mode()})
		}
		return nil
	}
	if real == "." || strings.HasPrefix(p+"/", real+"/") {
		// A link to an ancestor (a loop, "x -> /"): it names every file
		// below the ancestor again under a new prefix; not searched.
		return nil
	}
	return fs.WalkDir(a.fsys, real, func(rp string, d fs.DirEntry, err error) error {
		if err != nil || rp == real {
			return nil
		}
		if a.visits >= maxAliasVisits {
			return ErrAliasBudget
		}
		if err := a.tick(); err != nil {
			return err
		}
		t := d.Type()
		if t.IsDir() || t&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		ap := p + rp[len(real):]
		if a.want(ap, info) && (!t.IsRegular() || !a.want(rp, info)) {
			a.out = append(a.out, Alias{Path: ap, Target: rp, Mode: info.Mode()})
		}
		return nil
	})
}

// RealPath returns name inside fsys with every symlink resolved, as if the
// root were "/": absolute targets restart at the root and ".." never
// climbs above it. It follows at most 40 symlinks.
func RealPath(fsys RootFS, name string) (string, error) {
	p, err := resolveLinks(name, true, fsys.Lstat, fsys.ReadLink)
	if errors.Is(err, ErrSymlinkLoop) {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return p, err
}
