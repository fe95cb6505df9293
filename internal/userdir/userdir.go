// Package userdir says where runlens keeps its files when no directory is
// given: under the user's cache directory, unless an environment variable
// names another place.
package userdir

import (
	"os"
	"path/filepath"
)

// Default returns $env when it is set, else <user cache dir>/runlens/name
// (the temporary directory standing in for a user cache dir the system
// does not have).
func Default(env, name string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "runlens", name)
}
