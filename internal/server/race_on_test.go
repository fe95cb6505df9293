//go:build race

package server

// raceEnabled: the race detector slows the transpiled SQLite tenfold, so
// the timed test skips.
const raceEnabled = true
