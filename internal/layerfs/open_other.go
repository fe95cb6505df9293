//go:build !unix

package layerfs

import "os"

// openFlags: these systems have no fifos that block in open; the type
// checks before and after opening still apply.
const openFlags = 0

func clearNonblock(*os.File) error { return nil }
