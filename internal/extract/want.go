package extract

import (
	"io/fs"
	"strings"

	"github.com/google/osv-scalibr/extractor/filesystem"

	"github.com/runlens/runlens/internal/layerfs"
)

// ownershipFiles are read by the ownership step and os-release parsing
// rather than by an extractor, so Want must keep them too.
func ownershipFile(p string) bool {
	switch p {
	case "etc/os-release", "usr/lib/os-release":
		return true
	}
	for _, db := range apkDBs {
		if p == db {
			return true
		}
	}
	return strings.HasPrefix(p, dpkgInfoDir) && strings.HasSuffix(p, ".list")
}

// Want returns the predicate layerfs uses to keep file contents: exactly the
// files the extractors' FileRequired accepts, plus what the ownership step
// and os-release parsing read. It is built once and is cheap per call (a few
// string comparisons per extractor; no allocation for most paths), since
// layerfs calls it for every regular file in every layer.
//
// Executables and shared libraries are kept because the Go and Rust binary
// extractors must look inside them; script-like extensions are not.
//
// Size caps are not applied here: an oversized file is kept (up to layerfs's
// own limits) so that Extract can report it instead of silently missing it.
func Want() layerfs.Want {
	exts, _, err := buildExtractors(Options{}.withDefaults())
	if err != nil {
		return nil // keep everything rather than lose packages
	}
	required := extractorsWant(exts)
	return func(name string, info fs.FileInfo) bool {
		name = strings.TrimPrefix(strings.TrimPrefix(name, "./"), "/")
		return ownershipFile(name) || required(name, info)
	}
}

// extractorsWant says whether any of exts requires a file (by its
// FileRequired).
func extractorsWant(exts []filesystem.Extractor) layerfs.Want {
	return func(name string, info fs.FileInfo) bool {
		// One FileAPI value per call: passing a struct to each extractor
		// would box (allocate) it once per extractor.
		var api filesystem.FileAPI = &fileAPI{path: name, info: info}
		for _, e := range exts {
			if e.FileRequired(api) {
				return true
			}
		}
		return false
	}
}

// fileAPI serves FileRequired from a path and a tar header's FileInfo.
type fileAPI struct {
	path string
	info fs.FileInfo
}

var _ filesystem.FileAPI = (*fileAPI)(nil)

func (a *fileAPI) Path() string { return a.path }

func (a *fileAPI) Stat() (fs.FileInfo, error) {
	if a.info == nil {
		return nil, fs.ErrNotExist
	}
	return a.info, nil
}
