package layerfs

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// keepAliases keeps the contents of files Want accepts only through a
// symlink (var/lib/dpkg -> ../../opt/dpkg, or a status file linked to
// /opt/status): when their own entry was read nothing said they were
// wanted. Each layer that wrote such a file is read once more, keeping
// just those files. Files it cannot keep are Issues; the error returned
// (layer failures, the image cap) means the view is partial.
func (f *flattener) keepAliases(ctx context.Context, layers []Layer, failed map[int]bool) error {
	view := &flatFS{t: f.t, layers: f.diffs}
	als, err := Aliases(ctx, view, f.opts.Want)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		f.issue("", "", "files reached through symlinks not all found: "+err.Error())
	}
	need := map[*node]string{} // unkept node -> the wanted path reaching it
	var idxs []int
	for _, a := range als {
		if !a.Mode.IsRegular() {
			continue
		}
		n, err := view.lookup("alias", a.Target, false)
		if err != nil || !n.isRegular() || n.off >= 0 || n.layer < 0 || int(n.layer) >= len(layers) {
			continue
		}
		if _, dup := need[n]; !dup {
			idxs = append(idxs, int(n.layer))
		}
		need[n] = a.Path
	}
	if len(need) == 0 {
		return nil
	}
	slices.Sort(idxs)
	idxs = slices.Compact(idxs)
	var errs []error
	for _, idx := range idxs {
		switch {
		case f.stopErr != nil, failed[idx]:
			// A cap stopped the read, or this layer failed: already
			// reported; its files are listed as not kept below.
		default:
			if err := f.reread(ctx, idx, layers[idx], need); err != nil {
				if cerr := ctx.Err(); cerr != nil {
					return cerr
				}
				f.issue(layers[idx].DiffID, "", err.Error())
				errs = append(errs, &LayerError{Index: idx, DiffID: layers[idx].DiffID, Err: err})
			}
		}
	}
	for n, p := range need {
		if n.off < 0 {
			f.issue(f.diffs[n.layer], p, "contents not kept: wanted through a symlink, and reading its layer again did not keep them")
		}
	}
	return errors.Join(errs...)
}

// reread reads layer idx again and keeps the contents of the entries that
// wrote nodes in need. Contents kept from a stream that then fails (its
// digest check at the end included) are dropped again.
func (f *flattener) reread(ctx context.Context, idx int, l Layer, need map[*node]string) (err error) {
	if l.Open == nil {
		return errors.New("read again: layer has no Open function")
	}
	rc, err := l.Open(ctx)
	if err != nil {
		return fmt.Errorf("read again for files wanted through symlinks: open: %w", err)
	}
	names := map[string]bool{}
	for n := range need {
		names[n.name] = true
	}
	lr := &layerReader{r: bufio.NewReaderSize(rc, 64<<10), ctx: ctx, max: f.lim.MaxLayerBytes, imageMax: f.lim.MaxImageBytes,
		progress: f.opts.Progress, index: idx, base: f.readTotal}
	var kept []*node
	defer func() {
		f.readTotal += lr.n
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("read again: %w", cerr)
		}
		if err != nil {
			for _, n := range kept {
				n.off = -1
			}
		}
	}()
	tr := tar.NewReader(lr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return f.rereadErr(lr, l.DiffID, err)
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		default:
			continue
		}
		name, _, reason := cleanName(h.Name, &f.lim)
		dir, base := splitLast(name)
		if reason != "" || !names[base] {
			continue
		}
		stack, _, werr := f.t.walk(f.stack[:0], dir, followFinal)
		f.stack = stack[:0]
		if werr != nil {
			continue
		}
		n := stack[len(stack)-1].child(base)
		if _, ok := need[n]; !ok || n.size != h.Size {
			continue
		}
		// The last entry of the layer for a path is the one that stands,
		// so a later one replaces what an earlier one kept.
		n.off = -1
		if err := f.keep(tr, n, l.DiffID, name); err != nil {
			return f.rereadErr(lr, l.DiffID, err)
		}
		if n.off >= 0 {
			kept = append(kept, n)
		}
	}
	if _, err := io.CopyBuffer(io.Discard, lr, f.buf); err != nil {
		return f.rereadErr(lr, l.DiffID, err)
	}
	return nil
}

func (f *flattener) rereadErr(lr *layerReader, diff string, err error) error {
	err = f.readErr(lr, diff, "read again", err)
	if errors.Is(err, errStop) {
		return f.stopErr
	}
	return err
}
