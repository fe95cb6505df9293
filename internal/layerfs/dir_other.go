//go:build !linux

package layerfs

// openNonblock: without O_NONBLOCK portable across these systems, rely on
// the type check before opening.
const openNonblock = 0

func newNativeBackend(string) (backend, error) { return nil, nil }
