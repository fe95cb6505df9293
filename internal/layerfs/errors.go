package layerfs

import (
	"errors"
	"fmt"
)

// ErrNotKept is wrapped by Open when a regular file exists in the view but
// its contents were not kept (Want said no, or a size limit applied).
var ErrNotKept = errors.New("file contents not kept")

// ErrLimit is matched (errors.Is) by every *LimitError, so a caller can tell
// "the view is partial because a cap was hit" from other failures.
var ErrLimit = errors.New("limit exceeded")

// ErrSymlinkLoop is wrapped when resolving a path follows more than 40
// symbolic links, as Linux does (ELOOP).
var ErrSymlinkLoop = errors.New("too many levels of symbolic links")

// maxHops is the number of symlinks one lookup may follow, as in Linux.
const maxHops = 40

// LimitError reports that a Limits cap stopped reading or keeping data.
// The RootFS returned alongside it is usable but partial.
type LimitError struct {
	// Limit names the Limits field that applied, e.g. "MaxLayerBytes".
	Limit string
	// Max is the cap's value.
	Max int64
	// Layer is the diffID of the layer being read, if any.
	Layer string
}

// Error implements error.
func (e *LimitError) Error() string {
	if e.Layer != "" {
		return fmt.Sprintf("layer %s: %s %d exceeded", e.Layer, e.Limit, e.Max)
	}
	return fmt.Sprintf("%s %d exceeded", e.Limit, e.Max)
}

// Is makes errors.Is(err, ErrLimit) true for every LimitError.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// LayerError wraps the failure of one layer (open error, corrupt or
// truncated stream, layer cap). Entries read before the failure stay in the
// view; later layers are still applied.
type LayerError struct {
	// Index is the layer's position, base first.
	Index int
	// DiffID identifies the layer.
	DiffID string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *LayerError) Error() string {
	return fmt.Sprintf("layer %d (%s): %v", e.Index, e.DiffID, e.Err)
}

// Unwrap returns the cause.
func (e *LayerError) Unwrap() error { return e.Err }
