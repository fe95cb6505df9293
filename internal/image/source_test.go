package image

import (
	"testing"

	"github.com/runlens/runlens/internal/usage"
)

func TestSourceNamesExactlyOneImageWithoutCredentials(t *testing.T) {
	for _, s := range []Source{{}, {Archive: "a.tar", RootFS: "dir"}, {Reference: "x", OCILayout: "l"}} {
		if err := s.Check(); !usage.Is(err) {
			t.Errorf("%+v: err %v, want a usage error", s, err)
		}
	}
	s := Source{Reference: "https://u:secret@host/repo:tag"}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if got := s.Name(); got != "host/repo:tag" {
		t.Errorf("Name = %q, want the reference without its credentials", got)
	}
}
