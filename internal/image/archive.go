package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlens/runlens/internal/layerfs"
)

// maxArchiveEntries bounds the entries indexed in one archive; docker save
// writes a handful per layer.
const maxArchiveEntries = 100000

// OpenArchive opens an image from a tarball: a `docker save` archive
// (manifest.json) or an OCI image-layout tarball (index.json; newer docker
// saves carry both and the OCI index wins). When the archive holds several
// images, name one with opts.Tag or as "PATH:TAG"; the error lists what is
// there. Compressed (.tar.gz) archives are refused: decompress them first.
func OpenArchive(ctx context.Context, p string, opts LocalOptions) (Image, error) {
	if _, err := os.Stat(p); err != nil && opts.Tag == "" {
		// "PATH:TAG", where TAG may itself hold colons
		// ("img.tar:registry:5000/app:v1"): the first prefix that exists.
		for i := 0; i < len(p); i++ {
			if p[i] != ':' || i == 0 {
				continue
			}
			if st, err := os.Stat(p[:i]); err == nil && st.Mode().IsRegular() {
				p, opts.Tag = p[:i], p[i+1:]
				break
			}
		}
	}
	ref := p
	if opts.Tag != "" {
		ref = p + ":" + opts.Tag
	}
	// Never os.Open: a fifo would block in open, beyond --timeout and
	// signals. Only a regular file is read.
	f, err := layerfs.OpenFile(p)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", p, err)
	}
	img, err := openArchive(ctx, f, ref, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	img.closeFn = f.Close
	return img, nil
}

func openArchive(ctx context.Context, f *os.File, ref string, opts LocalOptions) (*layered, error) {
	source := "archive " + f.Name()
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err == nil && magic == [2]byte{0x1f, 0x8b} {
		return nil, fmt.Errorf("%s: gzip-compressed archive; decompress it first", source)
	}
	idx, err := indexTar(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	lim := opts.limits()
	if _, ok := idx.entries["index.json"]; ok {
		indexJSON, err := idx.read("index.json", lim.manifest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		s := blobOpener{open: func(d v1.Descriptor) (io.ReadCloser, error) { return idx.open(blobPath(d)) }}
		return openOCI(ctx, ref, source, indexJSON, s, opts)
	}
	if _, ok := idx.entries["manifest.json"]; ok {
		return openDockerSave(ctx, idx, ref, source, opts)
	}
	return nil, fmt.Errorf("%s: %w: neither index.json (OCI) nor manifest.json (docker save) found", source, ErrNotFound)
}

// tarIndex maps entry names of an uncompressed tarball to their data, so
// blobs are read in place (no extraction, nothing written to disk).
type tarIndex struct {
	f       *os.File
	entries map[string]tarEntry
}

type tarEntry struct {
	off, size int64
	link      string // symlink target, already resolved to an entry name
}

func cleanEntry(name string) (string, bool) {
	name = strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(name, "\\", "/")), "/")
	return name, name != "" && name != "."
}

func indexTar(ctx context.Context, f *os.File) (*tarIndex, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	idx := &tarIndex{f: f, entries: map[string]tarEntry{}}
	// tar.Reader reads headers in whole blocks straight from the file and
	// seeks over data, so the file offset after Next is where data begins.
	tr := tar.NewReader(f)
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if n >= maxArchiveEntries {
			return nil, fmt.Errorf("%w: more than %d entries", ErrTooLarge, maxArchiveEntries)
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		name, ok := cleanEntry(h.Name)
		if !ok {
			continue
		}
		switch h.Typeflag {
		case tar.TypeReg:
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, err
			}
			idx.entries[name] = tarEntry{off: off, size: h.Size}
		case tar.TypeSymlink, tar.TypeLink:
			// Old docker saves link duplicate layers to one copy.
			target := h.Linkname
			if h.Typeflag == tar.TypeSymlink && !strings.HasPrefix(target, "/") {
				target = path.Join(path.Dir(name), target)
			}
			if t, ok := cleanEntry(target); ok {
				idx.entries[name] = tarEntry{link: t}
			}
		}
	}
	return idx, nil
}

// lookup follows links (a bounded number of hops) to a regular entry.
func (t *tarIndex) lookup(name string) (tarEntry, error) {
	for hops := 0; hops < 8; hops++ {
		e, ok := t.entries[name]
		if !ok {
			return tarEntry{}, fmt.Errorf("%w: no entry %q in archive", os.ErrNotExist, truncate(name))
		}
		if e.link == "" {
			return e, nil
		}
		name = e.link
	}
	return tarEntry{}, fmt.Errorf("entry %q: too many links", truncate(name))
}

func (t *tarIndex) open(name string) (io.ReadCloser, error) {
	e, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(io.NewSectionReader(t.f, e.off, e.size)), nil
}

func (t *tarIndex) read(name string, max int64) ([]byte, error) {
	e, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	if e.size > max {
		return nil, fmt.Errorf("%s: %w: %d bytes, cap is %d", name, ErrTooLarge, e.size, max)
	}
	return readLimited(io.NewSectionReader(t.f, e.off, e.size), max, name)
}

// dockerManifest is one entry of a docker-save manifest.json.
type dockerManifest struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

var hex64 = regexp.MustCompile(`[0-9a-f]{64}`)

func openDockerSave(ctx context.Context, idx *tarIndex, ref, source string, opts LocalOptions) (*layered, error) {
	lim := opts.limits()
	raw, err := idx.read("manifest.json", lim.manifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var ms []dockerManifest
	if err := json.Unmarshal(raw, &ms); err != nil {
		return nil, fmt.Errorf("%s: manifest.json: %w", source, err)
	}
	m, err := selectDocker(ms, opts.Tag, source)
	if err != nil {
		return nil, err
	}
	cfgName, _ := cleanEntry(m.Config)
	cfgBytes, err := idx.read(cfgName, lim.config)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", source, err)
	}
	sum := sha256.Sum256(cfgBytes)
	cfgDigest := "sha256:" + hex.EncodeToString(sum[:])
	// The config's file name is its digest ("<hex>.json" or
	// "blobs/sha256/<hex>"): check it, as a registry would.
	if named := hex64.FindString(path.Base(cfgName)); named != "" && named != cfgDigest[7:] {
		return nil, fmt.Errorf("%s: config %s: %w: content hashes to %s", source, truncate(m.Config), ErrDigestMismatch, cfgDigest)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cfgBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", source, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%s: manifest.json has %d layers but config lists %d diff IDs", source, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	img := &layered{desc: Descriptor{
		Reference:    ref,
		ConfigDigest: cfgDigest,
		RepoTags:     m.RepoTags,
		Platform:     configPlatform(cfg),
		Created:      cfg.Created.Time,
	}}
	for i, ln := range m.Layers {
		name, ok := cleanEntry(ln)
		e, err := idx.lookup(name)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s: layer %d: %w", source, i, errors.Join(err, errors.New("bad layer path")))
		}
		src := layerSource{
			info:   LayerInfo{DiffID: cfg.RootFS.DiffIDs[i].String(), Size: e.size},
			diffID: cfg.RootFS.DiffIDs[i],
			open: func(ctx context.Context) (io.ReadCloser, error) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				return idx.open(name)
			},
		}
		img.layers = append(img.layers, src)
		img.desc.Layers = append(img.desc.Layers, src.info)
	}
	return img, nil
}

func selectDocker(ms []dockerManifest, want, source string) (dockerManifest, error) {
	var all []string
	var matched []dockerManifest
	for i, m := range ms {
		if len(m.RepoTags) == 0 {
			all = append(all, fmt.Sprintf("#%d (untagged)", i))
		}
		all = append(all, m.RepoTags...)
		for _, t := range m.RepoTags {
			if want != "" && nameMatches(t, want) {
				matched = append(matched, m)
				break
			}
		}
	}
	if want == "" {
		matched = ms
	}
	switch {
	case len(matched) == 1:
		return matched[0], nil
	case want != "" && len(matched) == 0:
		return dockerManifest{}, fmt.Errorf("%s: %w: no image named %q; it holds: %s", source, ErrNotFound, want, strings.Join(all, ", "))
	case len(matched) == 0:
		return dockerManifest{}, fmt.Errorf("%s: %w: manifest.json lists no images", source, ErrNotFound)
	}
	return dockerManifest{}, fmt.Errorf("%s: %w: it holds %d images (%s); choose one with PATH:TAG or the tag option", source, ErrNotFound, len(matched), strings.Join(all, ", "))
}
