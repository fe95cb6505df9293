//go:build !race

package rematch_test

const raceEnabled = false
