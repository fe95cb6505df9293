package cache

import "github.com/runlens/runlens/internal/userdir"

// EnvDir names the environment variable that overrides DefaultDir.
const EnvDir = "RUNLENS_CACHE_DIR"

// DefaultDir is where inventories are cached when no directory is given:
// $RUNLENS_CACHE_DIR, else <user cache dir>/runlens/cache.
func DefaultDir() string { return userdir.Default(EnvDir, "cache") }
