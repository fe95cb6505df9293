package vulndb

import "github.com/runlens/runlens/internal/userdir"

// EnvDir names the environment variable that overrides DefaultDir.
const EnvDir = "RUNLENS_DB_DIR"

// DefaultDir is where the database lives when no directory is given:
// $RUNLENS_DB_DIR, else <user cache dir>/runlens/db.
func DefaultDir() string { return userdir.Default(EnvDir, "db") }
