package usage

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsSeesAWrappedUsageError(t *testing.T) {
	err := fmt.Errorf("scan: %w", Errorf("--flag: %q is bad", "x"))
	if !Is(err) || err.Error() != `scan: --flag: "x" is bad` {
		t.Errorf("Is(%v) = %v", err, Is(err))
	}
	if Is(errors.New("other")) || Is(nil) {
		t.Error("Is is true for an error that is not a usage error")
	}
}
