package cache

import (
	"os"
	"path/filepath"
)

// EnvDir names the environment variable that overrides DefaultDir.
const EnvDir = "RUNLENS_CACHE_DIR"

// DefaultDir is where inventories are cached when no directory is given:
// $RUNLENS_CACHE_DIR, else <user cache dir>/runlens/cache (the temporary
// directory standing in for a user cache dir the system does not have).
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "runlens", "cache")
}
