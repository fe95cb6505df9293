//go:build race

package store_test

// raceEnabled: the race detector slows the transpiled SQLite tenfold, so
// the timed tests skip.
const raceEnabled = true
