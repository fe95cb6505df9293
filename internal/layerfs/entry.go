package layerfs

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
)

// whiteoutPrefix marks a deletion; whiteoutOpaque empties a directory of
// lower-layer content (OCI image spec, "Whiteouts").
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// entry applies one tar header. It returns nil for anything that is only an
// Issue, a stream error while copying contents, or errStop.
func (f *flattener) entry(tr io.Reader, h *tar.Header, diff string) error {
	f.entries++
	if f.entries+f.t.implied > f.lim.MaxEntries {
		return f.stop("MaxEntries", int64(f.lim.MaxEntries))
	}
	if f.t.meta > f.lim.MaxMetaBytes {
		return f.stop("MaxMetaBytes", f.lim.MaxMetaBytes)
	}
	name, abs, reason := cleanName(h.Name, &f.lim)
	if reason != "" {
		f.issue(diff, h.Name, "entry skipped: "+reason)
		return nil
	}
	if abs && !f.absNoted {
		f.absNoted = true
		f.issue(diff, h.Name, "absolute entry names were made relative to the image root")
	}
	if strings.HasPrefix(name, whiteoutMeta) && name != whiteoutOpaque {
		// AUFS bookkeeping at the root (.wh..wh.plnk/...): not image content.
		return nil
	}
	mode := modeOf(h)
	if name == "" {
		if h.Typeflag == tar.TypeDir {
			f.t.root.mode = mode
			f.t.root.mtime = h.ModTime.Unix()
		}
		return nil
	}
	dirPath, base := splitLast(name)

	isWhiteout := strings.HasPrefix(base, whiteoutPrefix)
	wmode := followFinal | createDirs
	if isWhiteout {
		wmode = followFinal // deleting must not create parents
	}
	stack, followed, err := f.t.walk(f.stack[:0], dirPath, wmode)
	f.stack = stack[:0]
	if isWhiteout && err != nil {
		return nil // nothing there to hide
	}
	if err != nil {
		f.issue(diff, name, "entry skipped: parent directory: "+err.Error())
		return nil
	}
	parent := stack[len(stack)-1]
	if !parent.isDir() {
		f.issue(diff, name, "entry skipped: parent is not a directory")
		return nil
	}
	if len(stack) > f.lim.MaxDepth {
		f.issue(diff, name, "entry skipped: path deeper than MaxDepth after symlinks")
		return nil
	}
	path := name
	if followed {
		if len(stack) > 1 {
			path = stackPath(stack) + "/" + base
		} else {
			path = base
		}
	}

	if isWhiteout {
		switch {
		case base == whiteoutOpaque:
			f.t.pruneLower(parent)
		case strings.HasPrefix(base, whiteoutMeta):
			// Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not files.
		default:
			target := base[len(whiteoutPrefix):]
			if target == "" || target == "." || target == ".." {
				f.issue(diff, name, "invalid whiteout ignored")
				return nil
			}
			f.t.whiteout(parent, target)
		}
		return nil
	}

	var n *node
	switch h.Typeflag {
	case tar.TypeDir:
		if c := parent.kids[base]; c != nil && c.isDir() {
			c.mode, c.mtime, c.layer = mode, h.ModTime.Unix(), f.t.layer
			return nil
		}
		n = f.t.newNode(base, mode)
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		n = f.t.newNode(base, mode)
		n.size = h.Size
		n.mtime = h.ModTime.Unix()
		// Written through a symlinked directory, the file is also what
		// Want sees under the name the layer gave it.
		if f.want(path, n) || (followed && f.want(name, n)) {
			if err := f.keep(tr, n, diff, path); err != nil {
				parent.kids[n.name] = n // what was read stays listed
				return err
			}
		}
	case tar.TypeSymlink:
		if len(h.Linkname) > f.lim.MaxPathLen {
			f.issue(diff, name, "symlink skipped: target longer than MaxPathLen")
			return nil
		}
		n = f.t.newNode(base, mode)
		n.link = strings.Clone(h.Linkname)
		f.t.meta += int64(len(n.link))
	case tar.TypeLink:
		n = f.hardlink(h, base, path, diff)
		if n == nil {
			return nil
		}
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		n = f.t.newNode(base, mode)
	default:
		f.issue(diff, name, fmt.Sprintf("entry skipped: unsupported type %q", h.Typeflag))
		return nil
	}
	if n.mtime == 0 {
		n.mtime = h.ModTime.Unix()
	}
	parent.kids[n.name] = n
	return nil
}

// hardlink creates a node sharing the target's metadata and kept contents.
// The target is looked up inside the view being built (never on the host);
// per the tar format it must already exist.
func (f *flattener) hardlink(h *tar.Header, base, path, diff string) *node {
	target, _, reason := cleanName(h.Linkname, &f.lim)
	if reason != "" {
		f.issue(diff, path, "hardlink skipped: target "+reason)
		return nil
	}
	if target == "" {
		f.issue(diff, path, "hardlink skipped: target is the root")
		return nil
	}
	stack, _, err := f.t.walk(f.stack2[:0], target, 0)
	f.stack2 = stack[:0]
	if err != nil {
		f.issue(diff, path, "hardlink skipped: target "+h.Linkname+": "+err.Error())
		return nil
	}
	tn := stack[len(stack)-1]
	if tn.isDir() {
		f.issue(diff, path, "hardlink skipped: target is a directory")
		return nil
	}
	n := f.t.newNode(base, tn.mode)
	n.size, n.off, n.mtime, n.link = tn.size, tn.off, tn.mtime, tn.link
	if tn.isRegular() && tn.off < 0 && f.want(path, n) {
		f.issue(diff, path, "hardlink contents not kept: its target was not wanted or too large")
	}
	return n
}

func (f *flattener) want(path string, n *node) bool {
	if f.opts.Want == nil {
		return true
	}
	return f.opts.Want(path, fileInfo{name: n.name, n: n})
}

// keep copies a wanted file's contents to the spool, within the file and
// total caps. It returns only stream (read) errors.
func (f *flattener) keep(r io.Reader, n *node, diff, path string) error {
	size := n.size
	if size > f.lim.MaxFileBytes {
		f.lossy = true
		f.issue(diff, path, fmt.Sprintf("contents not kept: %d bytes exceeds MaxFileBytes", size))
		return nil
	}
	if f.kept+size > f.lim.MaxTotalBytes {
		f.lossy = true
		f.totalHit = true
		f.issue(diff, path, "contents not kept: MaxTotalBytes reached")
		return nil
	}
	if f.spoolErr != nil {
		f.lossy = true
		return nil
	}
	if f.noData && size > 0 {
		return errReplayShort
	}
	if f.spool == nil {
		if err := f.openSpool(); err != nil {
			f.fatal = err
			return err
		}
	}
	off := f.spoolOff
	var written int64
	for written < size {
		chunk := f.buf
		if rem := size - written; rem < int64(len(chunk)) {
			chunk = chunk[:rem]
		}
		m, rerr := r.Read(chunk)
		if m > 0 {
			if _, werr := f.bw.Write(chunk[:m]); werr != nil {
				f.spoolErr = werr
				f.lossy = true
				f.issue(diff, path, "contents not kept: spool write failed: "+werr.Error())
				f.spoolOff += written // unknown state; later files are not kept anyway
				return nil
			}
			written += int64(m)
		}
		if rerr == io.EOF && written < size {
			rerr = io.ErrUnexpectedEOF
		}
		if rerr != nil && rerr != io.EOF {
			f.spoolOff += written
			f.kept += written
			return rerr
		}
	}
	f.spoolOff += written
	f.kept += written
	n.off = off
	return nil
}

// openSpool creates the spool file and unlinks it at once where the OS
// allows, so nothing is left behind even if the process dies.
func (f *flattener) openSpool() error {
	sf, err := os.CreateTemp(f.opts.TempDir, "runlens-layerfs-*.spool")
	if err != nil {
		return fmt.Errorf("layerfs: create spool: %w", err)
	}
	f.spool = sf
	f.spoolName = sf.Name()
	if runtime.GOOS != "windows" {
		if err := os.Remove(sf.Name()); err == nil {
			f.spoolName = ""
		}
	}
	f.bw = bufio.NewWriterSize(sf, 256<<10)
	return nil
}

var _ fs.FileInfo = fileInfo{}
