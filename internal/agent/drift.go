package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/runlens/runlens/internal/agent/contentstore"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
)

// Defaults of the zero DriftLimits.
const (
	DefaultDriftTimeout     = 30 * time.Second
	DefaultDriftMaxFiles    = 200_000
	DefaultDriftMaxReported = 200
	// DefaultDriftMaxImages is how many images' file lists a Drifter
	// keeps (the least recently read go first).
	DefaultDriftMaxImages = 64
)

// DriftLimits bound the drift check of one container.
type DriftLimits struct {
	// Timeout bounds the whole check (the live inventory and the walk).
	Timeout time.Duration
	// MaxFiles bounds the entries listed, of the image and of the live
	// root each.
	MaxFiles int
	// MaxReported bounds Drift.Files; FilesChanged still counts all.
	MaxReported int
	// MaxImages bounds the images whose file lists are kept.
	MaxImages int
}

func (l DriftLimits) withDefaults() DriftLimits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultDriftTimeout
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultDriftMaxFiles
	}
	if l.MaxReported <= 0 {
		l.MaxReported = DefaultDriftMaxReported
	}
	if l.MaxImages <= 0 {
		l.MaxImages = DefaultDriftMaxImages
	}
	return l
}

// Drifter finds what running containers have that their images do not.
// Its Inventory reads images like Inventories and, for an image read
// from the content store, lists the files of its flattened layers as the
// inventory closes them (no second read); its Drift then compares a
// container's live root with that list and the image's packages. An
// image read from the live root has nothing to compare with: no drift.
type Drifter struct {
	// Store is the runtime's content store (nil: no drift is found).
	Store *contentstore.Store
	// ProcRoot is the host's proc filesystem ("/proc").
	ProcRoot string
	// Scanner reads inventories.
	Scanner *scan.Scanner
	// Limits bound each container's check.
	Limits DriftLimits

	mu     sync.Mutex
	images map[string]*fileSet
	order  []string // digests in images, least recently read first
}

// Inventory reads c's image from the content store, keeping its file
// list, else from the live root (Inventories without a store).
func (d *Drifter) Inventory(ctx context.Context, c *evidence.Container) (*inventory.Inventory, error) {
	var storeErr error
	if d.Store != nil && c.Digest != "" {
		img, err := d.Store.Image(ctx, c.Digest)
		if err == nil {
			set := &fileSet{}
			inv, res, err := d.Scanner.Inventory(ctx, listingImage{Image: img, set: set, max: d.Limits.withDefaults().MaxFiles})
			img.Close()
			if err == nil && res.Status == result.StatusScanned {
				// A cached inventory never flattened the image: no list.
				if set.files != nil {
					d.keep(c.Digest, set)
				}
				return inv, nil
			}
			storeErr = errors.Join(err, incomplete(res))
		} else {
			storeErr = err
		}
	}
	inv, err := Inventories(nil, d.ProcRoot, d.Scanner)(ctx, c)
	if err != nil {
		return inv, errors.Join(storeErr, err)
	}
	return inv, nil
}

// keep remembers digest's file list, forgetting the least recently
// read past Limits.MaxImages.
func (d *Drifter) keep(digest string, set *fileSet) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.images == nil {
		d.images = map[string]*fileSet{}
	}
	d.order = slices.DeleteFunc(d.order, func(s string) bool { return s == digest })
	d.images[digest] = set
	d.order = append(d.order, digest)
	for len(d.order) > d.Limits.withDefaults().MaxImages {
		delete(d.images, d.order[0])
		d.order = d.order[1:]
	}
}

// Drift compares c's live root (through its first process) with its
// image: the packages of the live root's inventory that the image's
// (img) has not, and the files the image's layers do not have as they
// are, with those procs execute or map first. It returns nil when c's
// image was not read from the content store by Inventory.
func (d *Drifter) Drift(ctx context.Context, c *evidence.Container, img *inventory.Inventory, procs []Process) (*evidence.Drift, error) {
	d.mu.Lock()
	set := d.images[c.Digest]
	d.mu.Unlock()
	if set == nil || c.Digest == "" {
		return nil, nil
	}
	if len(c.PIDs) == 0 {
		return nil, errors.New("drift: no process to read the live root through")
	}
	lim := d.Limits.withDefaults()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	pid := c.PIDs[0]
	dir := filepath.Join(d.ProcRoot, strconv.Itoa(pid), "root")
	mounts, err := mountsOf(d.ProcRoot, pid)
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	all, pseudo := map[string]bool{}, map[string]bool{}
	for _, m := range mounts {
		all[m.point] = true
		if pseudoFS[m.fstype] {
			pseudo[m.point] = true
		}
	}
	out := &evidence.Drift{Packages: []evidence.Package{}, Files: []evidence.DriftFile{}, Complete: true}
	var why []string
	root, err := layerfs.Dir(dir)
	if err != nil {
		return nil, fmt.Errorf("drift: live root: %w", err)
	}
	defer root.Close()
	// Files first: they are cheap, and what a check cut by its time
	// should still say. Against a cut image listing a file missing from
	// it may be the image's: compare nothing rather than invent drift.
	changed := map[string]*evidence.DriftFile{}
	if set.cut != "" {
		why = append(why, "files not compared, the image's listing was cut: "+set.cut)
	} else {
		n, cut, err := walk(ctx, root, lim.MaxFiles, func(name string) bool { return all[name] }, func(name string, info fs.FileInfo) error {
			if f := compare(root, set, name, info); f != nil {
				changed[name] = f
			}
			return nil
		})
		out.Compared = n
		if err != nil {
			why = append(why, "live root: "+err.Error())
		} else if cut != "" {
			why = append(why, "live root walk: "+cut)
		}
		inUse(root, set, changed, procs)
	}
	live, res, err := d.Scanner.Inventory(ctx, liveImage{dir: dir, hide: pseudo})
	switch {
	case err != nil:
		why = append(why, "live inventory: "+err.Error())
	case res.Status != result.StatusScanned:
		why = append(why, "live inventory read partly: "+res.Error)
	}
	if live != nil {
		out.Packages = newPackages(img, live)
		owners := map[string]string{}
		for _, p := range live.Packages {
			for _, f := range p.Files {
				owners[strings.TrimPrefix(f, "/")] = p.Name
			}
		}
		for name, f := range changed {
			f.Owner = owners[name]
		}
	}
	out.Files, out.FilesChanged = ranked(root, changed, lim.MaxReported)
	if len(why) > 0 {
		out.Complete, out.Reason = false, strings.Join(why, "; ")
	}
	out.DurationMS = time.Since(start).Milliseconds()
	return out, nil
}

// newPackages are the packages of live that img has not, by type, name
// and version.
func newPackages(img, live *inventory.Inventory) []evidence.Package {
	type key struct{ typ, name, version string }
	have := map[key]bool{}
	if img != nil {
		for _, p := range img.Packages {
			have[key{p.Type, p.Name, p.Version}] = true
		}
	}
	out := []evidence.Package{}
	for _, p := range live.Packages {
		if have[key{p.Type, p.Name, p.Version}] {
			continue
		}
		have[key{p.Type, p.Name, p.Version}] = true
		out = append(out, evidence.Package{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL, Location: first(p.Locations), Type: p.Type})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
	return out
}

// compare says how the live entry name differs from the image's, or nil
// when it does not (or is neither a regular file nor a symlink).
func compare(root layerfs.RootFS, set *fileSet, name string, info fs.FileInfo) *evidence.DriftFile {
	if !info.Mode().IsRegular() && info.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	live := metaOf(root, name, info)
	f := &evidence.DriftFile{Path: "/" + name, Size: live.size, Mode: live.mode.String(), Target: live.target}
	img, ok := set.files[name]
	switch {
	case !ok:
		f.Change = evidence.DriftAdded
	case img != live:
		f.Change = evidence.DriftModified
	default:
		return nil
	}
	return f
}

// inUse marks the changed files processes execute or map, and adds
// those the walk did not see (on a mount, deleted while running) that
// the image does not have.
func inUse(root layerfs.RootFS, set *fileSet, changed map[string]*evidence.DriftFile, procs []Process) {
	mark := func(p string, state string, pid int) {
		name := strings.TrimPrefix(filepath.Clean(p), "/")
		if name == "" || name == "." {
			return
		}
		f := changed[name]
		if f == nil {
			if _, ok := set.files[name]; ok {
				return // the image's own file, as the walk found it
			}
			f = &evidence.DriftFile{Path: "/" + name, Change: evidence.DriftAdded}
			if info, err := root.Lstat(name); err == nil {
				m := metaOf(root, name, info)
				f.Size, f.Mode, f.Target = m.size, m.mode.String(), m.target
			} else {
				f.Gone = true // a memfd, or deleted while it runs
				f.Executable = true
			}
			changed[name] = f
		}
		if f.State == "" || stateRank[state] < stateRank[f.State] {
			f.State = state
		}
		for _, q := range f.PIDs {
			if q == pid {
				return
			}
		}
		f.PIDs = append(f.PIDs, pid)
	}
	for _, p := range procs {
		for _, e := range append([]string{p.Exe}, p.Executed...) {
			if e != "" {
				mark(e, result.RuntimeExecuted, p.PID)
			}
		}
		for _, m := range p.Mapped {
			mark(m, result.RuntimeLoaded, p.PID)
		}
	}
}

// ranked sorts the changed files — in use first, then executables, then
// by path — and keeps the first max; it also returns how many there
// were. Executable is read (ELF or "#!" magic, or an execute bit) for the
// files kept.
func ranked(root layerfs.RootFS, changed map[string]*evidence.DriftFile, max int) ([]evidence.DriftFile, int) {
	list := make([]*evidence.DriftFile, 0, len(changed))
	for _, f := range changed {
		if !f.Gone {
			f.Executable = executable(root, f)
		}
		sort.Ints(f.PIDs)
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if (a.State != "") != (b.State != "") {
			return a.State != ""
		}
		if a.Executable != b.Executable {
			return a.Executable
		}
		return a.Path < b.Path
	})
	out := make([]evidence.DriftFile, 0, min(max, len(list)))
	for _, f := range list[:min(max, len(list))] {
		out = append(out, *f)
	}
	return out, len(list)
}

// executable says whether f has an execute bit or starts as an ELF
// object or a script does.
func executable(root layerfs.RootFS, f *evidence.DriftFile) bool {
	name := strings.TrimPrefix(f.Path, "/")
	info, err := root.Lstat(name)
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	if info.Mode()&0o111 != 0 {
		return true
	}
	file, err := root.Open(name)
	if err != nil {
		return false
	}
	defer file.Close()
	var b [4]byte
	n, _ := io.ReadFull(file, b[:])
	return n == 4 && string(b[:]) == "\x7fELF" || n >= 2 && string(b[:2]) == "#!"
}
