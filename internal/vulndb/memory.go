package vulndb

import (
	"os"
	"runtime/debug"
)

// importMemoryLimit is the soft heap limit of a database build unless
// GOMEMLIMIT is set: the 600k-advisory build peaks near 1 GB of RSS when
// the CPUs are contended and the GC lags behind the builder; the limit
// makes the GC work harder instead (the scale target: peak RSS <= 1 GB).
const importMemoryLimit = 640 << 20

// LimitImportMemory sets the process's soft memory limit for a database
// build, unless GOMEMLIMIT already sets one, and returns the function that
// restores the previous limit: defer vulndb.LimitImportMemory()().
func LimitImportMemory() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	old := debug.SetMemoryLimit(importMemoryLimit)
	return func() { debug.SetMemoryLimit(old) }
}
