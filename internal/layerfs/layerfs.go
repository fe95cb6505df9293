// Package layerfs gives a safe, read-only, squashed view of an image's layers
// (or of a root-filesystem directory), with per-file layer attribution.
//
// Every path is confined to the image root: tar entries with absolute or ".."
// names, symlinks and hardlinks pointing outside are resolved inside the root
// or skipped, and each skip is reported as an Issue. Limits bound bytes,
// entries, depth and path length so hostile layers cannot exhaust the host.
package layerfs

import (
	"context"
	"io"
	"io/fs"
)

// RootFS is a flattened, confined, read-only root filesystem.
// Paths are slash-separated and relative to the root ("etc/os-release"),
// as io/fs requires.
type RootFS interface {
	fs.ReadDirFS
	fs.StatFS
	// ReadLink returns a symlink's target as stored (not resolved).
	ReadLink(name string) (string, error)
	// Lstat is Stat without following a final symlink (fs.ReadLinkFS).
	Lstat(name string) (fs.FileInfo, error)
	// LayerOf returns the diffID of the layer that last wrote name, or "" when
	// the view has no layers (a directory) or name is unknown.
	LayerOf(name string) string
	// Issues lists entries that were skipped or truncated, and why.
	Issues() []Issue
	// Close releases spooled file contents.
	Close() error
}

// Issue records one entry or layer the flattener refused or cut short.
type Issue struct {
	Layer  string `json:"layer,omitempty"` // diffID, if from a layer
	Path   string `json:"path,omitempty"`
	Reason string `json:"reason"`
}

// Layer is one input layer, base first.
type Layer struct {
	// DiffID is the digest of the uncompressed tar, used for attribution.
	DiffID string
	// Open returns the uncompressed tar stream. Flatten may call it more
	// than once: to read a layer instead of a replay that cannot stand in
	// for it, and to keep files wanted only through a symlink (see
	// Aliases).
	Open func(ctx context.Context) (io.ReadCloser, error)
	// DiffIDVerified says the source itself checks that the stream hashes to
	// DiffID (its last Read fails otherwise), so Flatten need not hash it a
	// second time before caching the layer.
	DiffIDVerified bool
}

// Want decides whether a regular file's contents are kept for later reads.
// Files not wanted are still listed and stat-able, but Open fails on them.
// A nil Want keeps every file (up to the limits).
type Want func(path string, info fs.FileInfo) bool

// Limits bounds what one image may cost. Zero values mean the defaults.
type Limits struct {
	MaxLayerBytes int64 // uncompressed bytes read from one layer
	// MaxImageBytes bounds the uncompressed bytes read from all layers
	// together (a replayed layer counts as read), so one bomb layer listed
	// a thousand times cannot run until the scan's timeout.
	MaxImageBytes int64
	MaxFileBytes  int64 // bytes kept for one file's contents
	MaxTotalBytes int64 // bytes kept for all contents together
	MaxEntries    int   // tar entries across all layers
	MaxDepth      int   // path components
	MaxPathLen    int   // bytes in one path
	// MaxMetaBytes bounds the estimated memory for names, link targets and
	// per-entry bookkeeping, so millions of long symlink targets cannot
	// exhaust memory before MaxEntries is reached.
	MaxMetaBytes int64
}

// Options configure Flatten.
type Options struct {
	Want   Want
	Limits Limits
	// TempDir is where kept contents are spooled; "" means os.TempDir().
	TempDir string
	// Progress, if set, is called with bytes read so far across layers.
	Progress func(layerIndex int, bytesRead int64)
	// LayerCache, if set, replays layers read before (by diffID) instead
	// of opening them, and records the layers it has not seen yet.
	LayerCache LayerCache
	// LayerCacheKey is part of every LayerCache key. It must change
	// whenever Want does (pass the extractor-set version), so replays
	// recorded for one Want are not offered to another.
	LayerCacheKey string
}
