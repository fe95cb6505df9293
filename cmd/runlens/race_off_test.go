//go:build !race

package main

// raceDetector says the test binary runs under the race detector, which
// multiplies memory use: memory bounds are checked by the plain run.
const raceDetector = false
