package userdir

import (
	"path/filepath"
	"testing"
)

func TestDefault(t *testing.T) {
	t.Setenv("RUNLENS_TEST_DIR", "/srv/runlens")
	if got := Default("RUNLENS_TEST_DIR", "db"); got != "/srv/runlens" {
		t.Errorf("with the variable set: %q", got)
	}
	t.Setenv("RUNLENS_TEST_DIR", "")
	t.Setenv("XDG_CACHE_HOME", "/home/u/.cache")
	if got, want := Default("RUNLENS_TEST_DIR", "db"), filepath.Join("/home/u/.cache", "runlens", "db"); got != want {
		t.Errorf("default = %q, want %q", got, want)
	}
}
