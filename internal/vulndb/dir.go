package vulndb

import (
	"os"
	"path/filepath"
)

// EnvDir names the environment variable that overrides DefaultDir.
const EnvDir = "RUNLENS_DB_DIR"

// DefaultDir is where the database lives when no directory is given:
// $RUNLENS_DB_DIR, else <user cache dir>/runlens/db (the temporary
// directory standing in for a user cache dir the system does not have).
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "runlens", "db")
}
